using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Spp.Client;
using Spp.Client.DependencyInjection;
using Spp.Client.Resilience;

// Extension methods live in the DI namespace so AddSppClient shows up next to AddHttpClient.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="SppClient"/> with its options, validation and resilience policies.</summary>
public static class SppClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="SppClient"/> configured from the <c>Spp</c> section (<c>Spp__BaseUrl</c>, <c>Spp__ApiKey</c>,
    /// <c>Spp__ApiVersion</c>, ...), validated when the host starts.
    /// </summary>
    public static IHttpClientBuilder AddSppClient(
        this IServiceCollection services, IConfiguration configuration, Action<SppClientOptions>? configure = null)
    {
        var optionsBuilder = services.AddOptions<SppClientOptions>().Bind(configuration.GetSection(SppClientOptions.SectionName));
        if (configure is not null) optionsBuilder.Configure(configure);
        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SppClientOptions>, SppClientOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SppResiliencePolicies>();
        services.TryAddSingleton<SppClient>();

        return services.AddHttpClient(SppClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            // One long-lived handler whose pooled connections are recycled (DNS changes) instead of rotating handlers,
            // so the singleton SppClient keeps a healthy HttpClient. The API key is added inside it, where no logging
            // handler sees it (SppAuthenticationHandler explains why).
            .ConfigurePrimaryHttpMessageHandler(sp => new SppAuthenticationHandler(
                sp.GetRequiredService<IOptions<SppClientOptions>>(),
                new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(10) }))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // No default handler logs: they put raw header values into the structured state (redaction masks only the
            // formatted text), and a raw call's custom headers may carry rule secrets. SppClient logs every call itself.
            .RemoveAllLoggers()
            .AddPolicyHandler((sp, request) => sp.GetRequiredService<SppResiliencePolicies>().ForRequest(request));
    }
}
