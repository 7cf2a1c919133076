using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The app's services, one extension per concern, in the order events flow.</summary>
public static class SppFunctionsServiceCollectionExtensions
{
    /// <summary>Everything the Functions app needs. Program.cs reads as this table of contents.</summary>
    public static IServiceCollection AddSppFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddKeyVaultReferenceCheck(configuration);
        services.AddRetiredSettingsWarning();
        services.AddSppClient(configuration);
        services.AddAppStorage(configuration);
        services.AddWebhookIntake(configuration);
        services.AddEventProcessing(configuration);
        services.AddOrderMessagePolling(configuration);
        services.AddHousekeeping(configuration);
        return services;
    }
}
