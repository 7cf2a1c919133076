using Microsoft.Extensions.DependencyInjection.Extensions;
using SppFunctions.Polling;
using SppFunctions.Processing;
using SppFunctions.Processing.Actions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The few Core services each CLI command needs on top of <c>AddAppStorage</c> (no rules, no options validation).</summary>
internal static class CliServiceCollectionExtensions
{
    public static IServiceCollection AddEventInspection(this IServiceCollection services)
    {
        services.TryAddSingleton<ActionRecordStore>();
        services.TryAddSingleton<EventInspector>();
        return services;
    }

    public static IServiceCollection AddReplay(this IServiceCollection services)
    {
        services.TryAddSingleton<ReplayService>();
        return services;
    }

    public static IServiceCollection AddWatchStores(this IServiceCollection services)
    {
        services.TryAddSingleton<WatchStore>();
        services.TryAddSingleton<PollRunStore>();
        return services;
    }
}
