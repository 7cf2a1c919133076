using System.Security.Cryptography;
using SppFunctions.FakeSpp;

namespace SppFunctions.Sandbox;

/// <summary>
/// A local SPP workspace for trying the app without an SPP account: the fake SPP API on 127.0.0.1 (never another
/// interface), seeded with <see cref="SandboxSeed"/>, with an API key and a webhook token generated for this run. It
/// accepts no other key, so a real workspace's key is refused, and it calls nothing: what the app does to it stays in
/// its memory and is gone when it stops.
/// </summary>
public sealed class SppSandbox : IAsyncDisposable
{
    /// <summary>The default port (the Functions host listens on 7071).</summary>
    public const int DefaultPort = 7072;

    /// <summary>Every sandbox key starts with it, so one is never mistaken for a workspace's.</summary>
    public const string KeyPrefix = "spp_sandbox_";

    public const string TokenPrefix = "sandbox_webhook_";

    private SppSandbox(FakeSppServer server, string webhookToken, SandboxContents contents)
    {
        Server = server;
        WebhookToken = webhookToken;
        Contents = contents;
    }

    /// <summary>The server, for tests that read what the app changed (<see cref="FakeSppServer.Store"/>).</summary>
    public FakeSppServer Server { get; }

    /// <summary>The API root, e.g. <c>http://127.0.0.1:7072/api/</c>.</summary>
    public Uri BaseUrl => Server.BaseUrl;

    /// <summary>The only key the sandbox accepts.</summary>
    public string ApiKey => Server.ApiKey;

    /// <summary>A token for the app's <c>Spp__WebhookTokens__0</c>, as SPP shows one per webhook.</summary>
    public string WebhookToken { get; }

    public SandboxContents Contents { get; }

    /// <summary>
    /// Starts a seeded sandbox on 127.0.0.1:<paramref name="port"/> (0: a free port). <paramref name="onAnswered"/> sees
    /// the method, path and status of each request. Fails with an <see cref="IOException"/> when the port is taken.
    /// </summary>
    public static async Task<SppSandbox> StartAsync(int port = DefaultPort, Action<string, string, int>? onAnswered = null,
        TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        time ??= TimeProvider.System;
        var server = await FakeSppServer.StartAsync(new FakeSppServerOptions
        {
            ApiKey = KeyPrefix + RandomNumberGenerator.GetHexString(40, lowercase: true),
            Time = time,
            Port = port,
            // It may run for days: keep no request log in memory.
            RecordRequests = false,
            OnAnswered = onAnswered,
        }, cancellationToken).ConfigureAwait(false);
        var contents = SandboxSeed.Apply(server.Store, time.GetUtcNow());
        return new SppSandbox(server, TokenPrefix + RandomNumberGenerator.GetHexString(40, lowercase: true), contents);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
