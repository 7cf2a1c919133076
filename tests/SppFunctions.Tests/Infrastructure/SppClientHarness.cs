using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Spp.Client;
using SppFunctions.FakeSpp;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>
/// An <see cref="SppClient"/> wired exactly as the app wires it (AddSppClient from configuration), pointed at a
/// <see cref="FakeSppServer"/>, with every log line captured at Trace level. Retry waits are shortened.
/// </summary>
public sealed class SppClientHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private SppClientHarness(FakeSppServer server, ServiceProvider provider)
    {
        Server = server;
        _provider = provider;
    }

    public FakeSppServer Server { get; }
    public SppClient Client => _provider.GetRequiredService<SppClient>();
    public FakeLogCollector Logs => _provider.GetFakeLogCollector();
    public IServiceProvider Services => _provider;

    public static async Task<SppClientHarness> StartAsync(
        Action<SppClientOptions>? configure = null,
        Action<IHttpClientBuilder>? http = null,
        FakeSppServer? server = null,
        Dictionary<string, string?>? settings = null)
    {
        server ??= await FakeSppServer.StartAsync();
        var values = new Dictionary<string, string?>
        {
            ["Spp:BaseUrl"] = server.BaseUrl.ToString(),
            ["Spp:ApiKey"] = server.ApiKey,
            ["Spp:Retry:BaseDelay"] = "00:00:00.010",
            ["Spp:Retry:MaxDelay"] = "00:00:00.050",
            ["Spp:AttemptTimeout"] = "00:00:05",
        };
        foreach (var (k, v) in settings ?? new()) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Trace));
        var builder = services.AddSppClient(configuration, configure);
        http?.Invoke(builder);
        return new SppClientHarness(server, services.BuildServiceProvider(validateScopes: true));
    }

    /// <summary>Every captured log line, formatted, with its exception text.</summary>
    public string AllLogText() =>
        string.Join('\n', Logs.GetSnapshot().Select(r => $"{r.Level} {r.Category} {r.Message} {r.Exception}"));

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        await Server.DisposeAsync();
    }
}
