using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SppFunctions.Processing;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Handlers;
using SppFunctions.Processing.Rules;
using SppFunctions.Processing.Templates;
using SppFunctions.Queueing;

namespace Microsoft.Extensions.DependencyInjection;

public static class ProcessingServiceCollectionExtensions
{
    /// <summary>Event and command processing: rules, actions, at-most-once records, re-scheduled retries, poison handling, replay.</summary>
    public static IServiceCollection AddEventProcessing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProcessingOptions>().Bind(configuration.GetSection(ProcessingOptions.SectionName)).ValidateOnStart();
        services.AddOptions<ForwardOptions>().Bind(configuration.GetSection(ForwardOptions.SectionName)).ValidateOnStart();
        services.AddOptions<RulesOptions>().Bind(configuration.GetSection(RulesOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProcessingOptions>, ProcessingOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ForwardOptions>, ForwardOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RulesOptions>, RulesOptionsValidator>());
        services.AddOptions<RetryOptions>().Bind(configuration.GetSection(RetryOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RetryOptions>, RetryOptionsValidator>());

        // Rule secrets (RuleSecrets__NAME, e.g. a Slack webhook URL as a Key Vault reference) for {{ secrets.NAME }}.
        var secrets = configuration.GetSection(TemplateEngine.SecretsSection).GetChildren()
            .Where(c => !string.IsNullOrEmpty(c.Value)).ToDictionary(c => c.Key, c => c.Value!, StringComparer.Ordinal);
        services.TryAddSingleton(new TemplateEngine(secrets));
        services.TryAddSingleton<RulesFile>();
        services.TryAddSingleton(sp =>
        {
            var result = sp.GetRequiredService<RulesFile>().Load(sp.GetRequiredService<IOptions<RulesOptions>>().Value);
            return result.RuleSet ?? throw new OptionsValidationException(RulesOptions.SectionName, typeof(RulesOptions), result.Errors);
        });

        services.AddHttpClient(ActionExecutor.ForwardHttpClientName,
                (sp, client) => client.Timeout = sp.GetRequiredService<IOptions<ForwardOptions>>().Value.Timeout)
            .ConfigurePrimaryHttpMessageHandler(() =>
                new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            // Incoming-webhook URLs are secrets (Slack, Teams): no default request logging of them; the executor logs the host.
            .RemoveAllLoggers();

        services.TryAddSingleton<ActionRecordStore>();
        services.TryAddSingleton<ActionExecutor>();
        services.TryAddSingleton<IdempotentActionRunner>();
        services.TryAddSingleton<RetryScheduler>();
        services.TryAddSingleton<RuleRunner>();
        services.TryAddSingleton<EventProcessor>();
        services.TryAddSingleton<CommandProcessor>();
        services.TryAddSingleton<PoisonHandler>();
        services.TryAddSingleton<ReplayService>();
        return services;
    }

    /// <summary>Registers a custom C# handler that runs for events matching its patterns, after the rules.</summary>
    public static IServiceCollection AddEventHandler<THandler>(this IServiceCollection services) where THandler : class, IEventHandler
    {
        services.AddSingleton<IEventHandler, THandler>();
        return services;
    }
}
