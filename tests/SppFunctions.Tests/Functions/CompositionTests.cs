using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Functions;

/// <summary>The app's composition: every function class builds from the services Program.cs registers.</summary>
public class CompositionTests
{
    [Fact]
    public async Task Every_function_class_can_be_created_from_the_registered_services()
    {
        await using var app = await AppHarness.StartAsync();
        var functionTypes = typeof(SppFunctions.Functions.Webhooks.WebhookFunctions).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<FunctionAttribute>() is not null))
            .ToList();
        Assert.True(functionTypes.Count >= 4, "function classes not found");
        foreach (var type in functionTypes) Assert.NotNull(ActivatorUtilities.CreateInstance(app.Services, type));
    }

    [Fact]
    public void Information_logs_of_the_worker_reach_Application_Insights()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddWorkerTelemetry(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();
        var rules = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Logging.LoggerFilterOptions>>()
            .Value.Rules;
        Assert.DoesNotContain(rules, r => r.ProviderName == TelemetryServiceCollectionExtensions.ApplicationInsightsLoggerProvider);

        // The SDK on its own keeps a Warning-only rule for its provider: the one removed above.
        var plain = new ServiceCollection();
        plain.AddLogging();
        plain.AddApplicationInsightsTelemetryWorkerService();
        using var plainProvider = plain.BuildServiceProvider();
        Assert.Contains(
            plainProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Logging.LoggerFilterOptions>>().Value.Rules,
            r => r.ProviderName == TelemetryServiceCollectionExtensions.ApplicationInsightsLoggerProvider);
    }

    [Theory]
    [InlineData("ClientId=a;ClientId=b;Authorization=AAD", "b")]
    [InlineData("ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD", "11111111-2222-3333-4444-555555555555")]
    [InlineData("Authorization=AAD; ClientId=abc", "abc")]
    [InlineData("Authorization=AAD", null)]
    [InlineData("ClientId=abc", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Worker_telemetry_uses_the_identity_named_in_the_host_authentication_string(string? value, string? clientId)
    {
        Assert.Equal(clientId, TelemetryServiceCollectionExtensions.ManagedIdentityClientId(value));
    }
}
