using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace SppFunctions.Functions.Health;

/// <summary>GET /api/health: answers 200 while the worker runs (for uptime probes). Touches no storage and no SPP.</summary>
public sealed class HealthFunction
{
    [Function("Health")]
    [SuppressMessage("Performance", "CA1822",
        Justification = "The Functions worker invokes function methods on an instance, like every other function.")]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request) =>
        new OkObjectResult(new
        {
            status = "ok",
            version = typeof(HealthFunction).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
        });
}
