using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spp.Client;
using SppFunctions.Storage;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>
/// What every command gets: the environment, the output, and the app's services built from the app's settings. A command
/// registers only what it needs (storage stores, or the SPP client): no host is started, so nothing else (the rules
/// file, the poller's schedule) is loaded or validated.
/// </summary>
public sealed class CliContext(CliEnvironment environment, CliOutput output)
{
    public CliEnvironment Environment { get; } = environment;
    public CliOutput Output { get; } = output;

    /// <summary>The settings (local.settings.json + environment); their secrets are registered for redaction.</summary>
    public CliConfiguration Settings(CliSettings settings)
    {
        var configuration = CliConfiguration.Load(Environment, settings.SettingsFile);
        Output.AddSecrets(configuration.Secrets);
        return configuration;
    }

    /// <summary>
    /// Services over the app's storage (<c>AzureWebJobsStorage</c>): queue, table and blob clients and the stores of
    /// <c>AddAppStorage</c>, plus what <paramref name="add"/> registers.
    /// </summary>
    public ServiceProvider Storage(CliConfiguration settings, Action<IServiceCollection>? add = null)
    {
        var services = Base(settings);
        try
        {
            services.AddAppStorage(settings.Configuration);
        }
        catch (InvalidOperationException ex)
        {
            throw CliException.Settings($"{ex.Message} {settings.Origin}");
        }
        add?.Invoke(services);
        Environment.ConfigureServices?.Invoke(services);
        return services.BuildServiceProvider();
    }

    /// <summary>The SPP client as the app configures it (<c>Spp__*</c>), its settings checked now.</summary>
    public ServiceProvider Spp(CliConfiguration settings)
    {
        settings.Require("Spp__BaseUrl", "set it to your workspace's API root, e.g. https://acme.spp.co/api/.");
        settings.Require("Spp__ApiKey", "copy the key from SPP under Modules → API → Settings.");
        if (settings.Sandbox is { } sandbox) Output.Note(SandboxNote(sandbox));
        var services = Base(settings);
        services.AddSppClient(settings.Configuration);
        Environment.ConfigureServices?.Invoke(services);
        var provider = services.BuildServiceProvider();
        try
        {
            _ = provider.GetRequiredService<IOptions<SppClientOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            provider.Dispose();
            throw CliException.Settings(string.Join(" ", ex.Failures) + $" {settings.Origin}");
        }
        return provider;
    }

    /// <summary>Says that SPP is the sandbox, and how to use a workspace instead.</summary>
    public static string SandboxNote(Sandbox.SandboxState sandbox) =>
        $"SPP is the local sandbox at {sandbox.BaseUrl} (local.settings.json has no SPP settings; " +
        "fill in Spp__BaseUrl and Spp__ApiKey for your workspace).";

    private static ServiceCollection Base(CliConfiguration settings)
    {
        var services = new ServiceCollection();
        // Logs stay off: the CLI reports through its own output, and nothing it logs could then leak a secret.
        services.AddLogging(b => b.ClearProviders());
        services.AddSingleton(settings.Configuration);
        services.AddSingleton(StorageNames.Default);
        return services;
    }
}
