using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SppFunctions.Intake;

namespace Microsoft.Extensions.DependencyInjection;

public static class IntakeServiceCollectionExtensions
{
    /// <summary>Webhook intake: token verification, validation, dedupe and durable enqueue (needs <c>AddAppStorage</c>).</summary>
    public static IServiceCollection AddWebhookIntake(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.SectionName)).ValidateOnStart();
        services.AddOptions<SppWebhookTokenOptions>().Bind(configuration.GetSection(SppWebhookTokenOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SppWebhookTokenOptions>, WebhookOptionsValidator>());
        services.TryAddSingleton<WebhookTokenVerifier>();
        services.TryAddSingleton<WebhookIntake>();
        return services;
    }
}
