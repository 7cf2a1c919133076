using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SppFunctions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

public static class ConfigurationServiceCollectionExtensions
{
    /// <summary>
    /// Start-up refuses settings that are still unresolved Key Vault references, naming each (see <see cref="KeyVaultReferenceCheck"/>).
    /// </summary>
    public static IServiceCollection AddKeyVaultReferenceCheck(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ResolvedSettings>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ResolvedSettings>>(new KeyVaultReferenceValidator(configuration)));
        return services;
    }

    /// <summary>Start-up warns about each setting this version no longer reads (see <see cref="RetiredSettings"/>).</summary>
    public static IServiceCollection AddRetiredSettingsWarning(this IServiceCollection services)
    {
        services.AddHostedService<RetiredSettingsWarning>();
        return services;
    }
}
