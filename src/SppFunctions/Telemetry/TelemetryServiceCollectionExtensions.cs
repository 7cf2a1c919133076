using Azure.Identity;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SppFunctions.Telemetry;

namespace Microsoft.Extensions.DependencyInjection;

public static class TelemetryServiceCollectionExtensions
{
    public const string ApplicationInsightsLoggerProvider = "Microsoft.Extensions.Logging.ApplicationInsights.ApplicationInsightsLoggerProvider";

    /// <summary>
    /// Application Insights for the worker's own logs and the app's event spans. In Azure the resource accepts only
    /// Entra-authenticated telemetry (local auth disabled), so when <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> names a
    /// managed identity (<c>ClientId=...;Authorization=AAD</c>, as the host reads it) the worker signs its telemetry with
    /// that identity too.
    /// </summary>
    public static IServiceCollection AddWorkerTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddApplicationInsightsTelemetryWorkerService().ConfigureFunctionsApplicationInsights();
        // One event, one transaction: the app's spans (queueing, processing) become requests and dependencies of the
        // sender's trace, and everything recorded within them carries the event id (docs/operations.md, "Follow one event in Application Insights").
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITelemetryModule, EventSpanTelemetryModule>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITelemetryInitializer, EventIdTelemetryInitializer>());
        // The Application Insights SDK adds a rule that keeps only warnings and errors; remove it so the worker's
        // Information logs (event outcomes, poll-run summaries) reach Application Insights, filtered by host.json's levels.
        services.Configure<LoggerFilterOptions>(options =>
        {
            var rule = options.Rules.FirstOrDefault(r => r.ProviderName == ApplicationInsightsLoggerProvider);
            if (rule is not null) options.Rules.Remove(rule);
        });
        if (ManagedIdentityClientId(configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]) is { } clientId)
        {
            services.Configure<TelemetryConfiguration>(c =>
                c.SetAzureTokenCredential(new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))));
        }
        return services;
    }

    /// <summary>The client id in <c>ClientId=...;Authorization=AAD</c>, or null.</summary>
    public static string? ManagedIdentityClientId(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString)) return null;
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2))
        {
            parts[pair[0].Trim()] = pair[1].Trim(); // a repeated key: the last one wins, as the host reads it
        }
        return parts.TryGetValue("Authorization", out var kind) && kind.Equals("AAD", StringComparison.OrdinalIgnoreCase)
            && parts.TryGetValue("ClientId", out var id) && id.Length > 0 ? id : null;
    }
}
