using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SppFunctions.Polling;
using SppFunctions.Processing.Handlers;

namespace Microsoft.Extensions.DependencyInjection;

public static class PollingServiceCollectionExtensions
{
    /// <summary>Order-message polling: watch set, cursors, the poller and the watch-set updater for order webhooks.</summary>
    public static IServiceCollection AddOrderMessagePolling(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PollingOptions>().Bind(configuration.GetSection(PollingOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PollingOptions>, PollingOptionsValidator>());
        services.TryAddSingleton<WatchStore>();
        services.TryAddSingleton<PollRunStore>();
        services.TryAddSingleton<OrderMessagePoller>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventHandler, WatchSetUpdater>());
        return services;
    }
}
