using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SppFunctions.FakeSpp;

/// <summary>
/// A plain HTTP endpoint on 127.0.0.1 that records every request and answers with queued statuses (200 when none is
/// queued): a stand-in for a Slack/Teams incoming webhook or any forward target.
/// </summary>
public sealed class RecordingHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<int> _statuses = new();

    private RecordingHttpServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;
    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    /// <summary>Bytes of body each answer streams (0: a short text); <see cref="long.MaxValue"/> streams until the client leaves.</summary>
    public long AnswerBodyBytes { get; set; }

    /// <summary>The next requests are answered with these statuses, in order.</summary>
    public void Answer(params int[] statuses)
    {
        foreach (var s in statuses) _statuses.Enqueue(s);
    }

    public static async Task<RecordingHttpServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new RecordingHttpServer(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var status = server._statuses.TryDequeue(out var s) ? s : 200;
            server._requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body, status, null,
                DateTimeOffset.UtcNow));
            context.Response.StatusCode = status;
            if (server.AnswerBodyBytes <= 0)
            {
                await context.Response.WriteAsync(status < 300 ? "ok" : "error");
                return;
            }
            var chunk = new byte[16 * 1024];
            Array.Fill(chunk, (byte)'x');
            try
            {
                for (var sent = 0L; sent < server.AnswerBodyBytes; sent += chunk.Length)
                {
                    await context.Response.Body.WriteAsync(
                        chunk.AsMemory(0, (int)Math.Min(chunk.Length, server.AnswerBodyBytes - sent)), context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // The client stopped reading.
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
