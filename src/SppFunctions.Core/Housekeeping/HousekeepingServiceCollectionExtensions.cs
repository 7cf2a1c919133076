using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SppFunctions.Housekeeping;
using SppFunctions.Polling;
using SppFunctions.Processing.Actions;

namespace Microsoft.Extensions.DependencyInjection;

public static class HousekeepingServiceCollectionExtensions
{
    /// <summary>The daily clean-up of old storage rows and blobs (needs <c>AddAppStorage</c>).</summary>
    public static IServiceCollection AddHousekeeping(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HousekeepingOptions>().Bind(configuration.GetSection(HousekeepingOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HousekeepingOptions>, HousekeepingOptionsValidator>());
        // The stores it cleans; registered by processing and polling too.
        services.TryAddSingleton<ActionRecordStore>();
        services.TryAddSingleton<PollRunStore>();
        services.TryAddSingleton<HousekeepingService>();
        return services;
    }
}
