using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SppFunctions.FakeSpp;

/// <summary>Settings of a <see cref="FakeSppServer"/>.</summary>
public sealed class FakeSppServerOptions
{
    /// <summary>The API key the server accepts as <c>Authorization: Bearer ...</c>.</summary>
    public string ApiKey { get; init; } = "spp_api_fake_" + Guid.NewGuid().ToString("N");
    /// <summary>Clock for created_at / last_message_at values; a FakeTimeProvider makes them predictable.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Seed of the random used by probabilistic faults.</summary>
    public int Seed { get; init; } = 12345;
    /// <summary>Keep a record of each request (turn off for long benchmarks).</summary>
    public bool RecordRequests { get; init; } = true;
    /// <summary>The port on 127.0.0.1 to listen on; 0 picks a free one. The server never listens beyond loopback.</summary>
    public int Port { get; init; }
    /// <summary>Called after each answer with the method, path and status (the sandbox's request log).</summary>
    public Action<string, string, int>? OnAnswered { get; init; }
}

/// <summary>
/// A fake SPP workspace API on http://127.0.0.1:{random port}/api/ behaving as shared/spp-api.md §9 describes:
/// Bearer auth (401), 404s with <c>{"message"}</c>, the Laravel pagination envelope with limit/page/sort/filters,
/// newest-first lists, ids or numbers in paths, 400 validation errors, <c>X-Api-Identifier</c> on every answer.
/// It records every request and injects faults (<see cref="InjectFault"/>): 429 with Retry-After, 5xx, delays,
/// dropped connections, before or after the request's side effect.
/// </summary>
public sealed class FakeSppServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly List<FaultRule> _faults = new();
    private readonly Random _random;
    private readonly FakeSppServerOptions _options;

    private FakeSppServer(WebApplication app, FakeSppServerOptions options)
    {
        _app = app;
        _options = options;
        _random = new Random(options.Seed);
        Store = new FakeSppStore(options.Time);
    }

    /// <summary>The workspace's data: seed it, and read what the code under test changed.</summary>
    public FakeSppStore Store { get; }

    /// <summary>The API root, e.g. <c>http://127.0.0.1:41234/api/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The accepted API key.</summary>
    public string ApiKey => _options.ApiKey;

    /// <summary>Every request so far, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    /// <summary>Requests whose method and path (prefix) match.</summary>
    public IReadOnlyList<RecordedRequest> RequestsTo(string method, string pathPrefix) =>
        Requests.Where(r => r.Method.Equals(method, StringComparison.OrdinalIgnoreCase)
            && r.Path.StartsWith(pathPrefix, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>
    /// Waits until at least <paramref name="count"/> requests matching method and path prefix were recorded (a request
    /// is recorded as its answer starts, so a delayed one shows up late).
    /// </summary>
    public async Task<IReadOnlyList<RecordedRequest>> WaitForRequestsAsync(string method, string pathPrefix, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var matching = RequestsTo(method, pathPrefix);
            if (matching.Count >= count || DateTime.UtcNow > deadline) return matching;
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>Forgets the recorded requests.</summary>
    public void ClearRequests() => _requests.Clear();

    /// <summary>Adds a fault rule (see <see cref="FaultRule"/>).</summary>
    public FakeSppServer InjectFault(FaultRule rule)
    {
        lock (_faults) _faults.Add(rule);
        return this;
    }

    /// <summary>Removes every fault rule.</summary>
    public void ClearFaults()
    {
        lock (_faults) _faults.Clear();
    }

    /// <summary>Starts a server on 127.0.0.1 and a free port.</summary>
    public static async Task<FakeSppServer> StartAsync(FakeSppServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FakeSppServerOptions();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 64 * 1024 * 1024);
        var app = builder.Build();
        var server = new FakeSppServer(app, options);
        if (options.OnAnswered is { } answered)
        {
            app.Use(async (context, next) =>
            {
                await next(context).ConfigureAwait(false);
                answered(context.Request.Method, context.Request.Path.Value ?? "", context.Response.StatusCode);
            });
        }
        app.Use(server.Pipeline);
        FakeSppEndpoints.Map(app, server.Store);
        app.MapFallback((HttpContext ctx) => FakeSppEndpoints.NotFound($"The route {ctx.Request.Path.Value?.TrimStart('/')} could not be found."));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/api/");
        return server;
    }

    private async Task Pipeline(HttpContext context, RequestDelegate next)
    {
        var body = "";
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        FaultRule? fault;
        lock (_faults) fault = _faults.FirstOrDefault(f => f.TryConsume(context.Request.Method, context.Request.Path.Value ?? "", _random));

        // Recorded before the client can see any answer (or a dropped connection), so a test that has its answer
        // always finds the request in the log, however loaded the machine.
        var recorded = 0;
        var handled = false;
        void Record(int status)
        {
            if (!_options.RecordRequests || Interlocked.Exchange(ref recorded, 1) == 1) return;
            _requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "",
                headers, body, status, fault?.Kind, _options.Time.GetUtcNow()) { Handled = handled });
        }
        context.Response.OnStarting(() =>
        {
            context.Response.Headers["X-Api-Identifier"] = Guid.NewGuid().ToString();
            context.Response.Headers["X-Api-Version"] = "20231214";
            Record(context.Response.StatusCode);
            return Task.CompletedTask;
        });

        try
        {
            // Inside the try: a client that gives up while its body is read is recorded like any other.
            context.Request.EnableBuffering();
            using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true))
            {
                body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
            }
            context.Request.Body.Position = 0;

            switch (fault?.Kind)
            {
                case FaultKind.Status:
                    if (fault.RetryAfter is not null) context.Response.Headers.RetryAfter = fault.RetryAfter;
                    await FakeSppEndpoints.WriteJson(context, fault.Status,
                        new JsonObject { ["message"] = fault.Status == 429 ? "Too Many Attempts." : "Server Error" }).ConfigureAwait(false);
                    return;
                case FaultKind.Drop:
                    Record(0);
                    context.Abort();
                    return;
                case FaultKind.Delay:
                    await Task.Delay(fault.Delay, context.RequestAborted).ConfigureAwait(false);
                    break;
            }

            if (!IsAuthorized(context.Request))
            {
                await FakeSppEndpoints.WriteJson(context, 401, new JsonObject { ["message"] = "Unauthenticated." }).ConfigureAwait(false);
                return;
            }

            if (fault?.Kind is FaultKind.DropAfterHandling or FaultKind.StatusAfterHandling)
            {
                // Run the handler so its side effect happens, but throw its answer away.
                var realBody = context.Response.Body;
                context.Response.Body = new MemoryStream();
                await next(context).ConfigureAwait(false);
                handled = true;
                context.Response.Body = realBody;
                if (fault.Kind == FaultKind.DropAfterHandling)
                {
                    Record(0);
                    context.Abort();
                    return;
                }
                context.Response.Clear();
                if (fault.RetryAfter is not null) context.Response.Headers.RetryAfter = fault.RetryAfter;
                await FakeSppEndpoints.WriteJson(context, fault.Status, new JsonObject { ["message"] = "Server Error" }).ConfigureAwait(false);
                return;
            }

            handled = true; // recorded when the endpoint starts its answer, by then it has acted
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.RequestAborted.IsCancellationRequested
            && ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // The client gave up (e.g. its attempt timeout fired during a Delay fault or while its body was read).
        }
        finally
        {
            // An answer that never started (the client gave up first) is recorded here.
            Record(context.Response.HasStarted ? context.Response.StatusCode : 0);
        }
    }

    private bool IsAuthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && header["Bearer ".Length..] == _options.ApiKey;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
