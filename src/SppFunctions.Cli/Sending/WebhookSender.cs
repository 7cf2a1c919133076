using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using SppFunctions.Events;

namespace SppFunctions.Cli.Sending;

/// <summary>What to send: each event <see cref="Count"/> times, at most <see cref="Rate"/> per second (0: as fast as
/// <see cref="Concurrency"/> allows), to <see cref="Url"/> (or to its topic's route under it).</summary>
public sealed record SendPlan(
    Uri Url, string Token, IReadOnlyList<string> Events, int Count, double Rate, int Concurrency,
    SampleStyle Style, bool TopicRoutes, TimeSpan Timeout)
{
    public int Total => Events.Count * Count;
}

/// <summary>One webhook's outcome: the status (0 when no answer came), the latency, and the endpoint's error text.</summary>
public sealed record SendResult(int Index, string Event, int Status, double Milliseconds, string? Error);

/// <summary>
/// Posts sample SPP webhooks (<see cref="SampleWebhooks"/>) as SPP does: one JSON envelope per request, with the token in
/// the body. Each webhook of a run is a distinct event (ids vary by round), all with the run's start as <c>created</c>.
/// </summary>
public sealed class WebhookSender(HttpMessageHandler? handler = null)
{
    public async Task<IReadOnlyList<SendResult>> SendAsync(SendPlan plan, Action<SendResult>? progress, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            MaxConnectionsPerServer = plan.Concurrency,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        }, disposeHandler: handler is null) { Timeout = plan.Timeout };
        var results = new ConcurrentBag<SendResult>();
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(plan.Concurrency);
        var inFlight = new List<Task>();
        try
        {
            for (var i = 0; i < plan.Total; i++)
            {
                if (plan.Rate > 0)
                {
                    var wait = TimeSpan.FromSeconds(i / plan.Rate) - clock.Elapsed;
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                var index = i;
                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        // Started webhooks are seen through (bounded by the timeout) even after Ctrl-C, so the summary
                        // accounts for every request the endpoint may have acted on.
                        var result = await SendOneAsync(http, plan, index, created).ConfigureAwait(false);
                        results.Add(result);
                        progress?.Invoke(result);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stop scheduling; what was sent is still reported.
        }
        await Task.WhenAll(inFlight).ConfigureAwait(false);
        return results.OrderBy(r => r.Index).ToList();
    }

    /// <summary>
    /// For an endpoint on this machine, whether anything listens: null when a connection can be made, else why not
    /// ("Connection refused (localhost:7071)"). Other hosts are not probed (a proxy may be the way to them).
    /// </summary>
    public static async Task<string?> ConnectAsync(Uri url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!url.IsLoopback) return null;
        using var client = new System.Net.Sockets.TcpClient();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        try
        {
            await client.ConnectAsync(url.Host, url.Port, attempt.Token).ConfigureAwait(false);
            return null;
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            return $"{ex.Message} ({url.Host}:{url.Port})";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no connection within {timeout.TotalSeconds:0.#} s ({url.Host}:{url.Port})";
        }
    }

    /// <summary>The URL a webhook goes to: the given one, or with <c>/{topic}</c> appended (query string kept).</summary>
    public static Uri Target(SendPlan plan, string eventName)
    {
        var topic = SppEventTopics.Classify(eventName);
        if (!plan.TopicRoutes || !SppEventTopics.IsRouted(topic)) return plan.Url;
        var builder = new UriBuilder(plan.Url);
        builder.Path = builder.Path.TrimEnd('/') + "/" + topic;
        return builder.Uri;
    }

    private static async Task<SendResult> SendOneAsync(HttpClient http, SendPlan plan, int index, long created)
    {
        var eventName = plan.Events[index % plan.Events.Count];
        var round = index / plan.Events.Count;
        var data = SampleWebhooks.Data(eventName, plan.Style, round, DateTimeOffset.FromUnixTimeSeconds(created));
        using var content = new ByteArrayContent(SampleWebhooks.Body(eventName, plan.Token, created, data));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.PostAsync(Target(plan, eventName), content).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var status = (int)response.StatusCode;
            return new SendResult(index, eventName, status, elapsed, status is >= 200 and < 300 ? null : ErrorOf(body, response.ReasonPhrase));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            var why = ex is TaskCanceledException ? $"no answer within {plan.Timeout.TotalSeconds:0.#} s" : Root(ex);
            return new SendResult(index, eventName, 0, Stopwatch.GetElapsedTime(started).TotalMilliseconds, why);
        }
    }

    /// <summary>The intake's <c>{"error": ...}</c>, else the start of the body, else the reason phrase.</summary>
    private static string ErrorOf(string body, string? reason)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject obj && obj["error"] is JsonValue error && error.TryGetValue<string>(out var text)) return text;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        var trimmed = body.Trim();
        if (trimmed.Length == 0) return reason ?? "";
        return trimmed.Length > 200 ? trimmed[..200] + "…" : trimmed;
    }

    /// <summary>HttpRequestException's own text names the endpoint ("Connection refused (localhost:7071)"); else the root cause.</summary>
    private static string Root(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException && e.Message.Contains('(')) return e.Message;
        }
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex.Message;
    }
}

/// <summary>Counts, latency percentiles and the distinct errors of a send run.</summary>
public sealed class SendSummary
{
    public SendSummary(SendPlan plan, IReadOnlyList<SendResult> results, TimeSpan duration)
    {
        Plan = plan;
        Results = results;
        Duration = duration;
        var latencies = results.Where(r => r.Status != 0).Select(r => r.Milliseconds).Order().ToArray();
        P50 = Percentile(latencies, 50);
        P95 = Percentile(latencies, 95);
        P99 = Percentile(latencies, 99);
        Max = latencies.Length == 0 ? 0 : latencies[^1];
    }

    public SendPlan Plan { get; }
    public IReadOnlyList<SendResult> Results { get; }
    public TimeSpan Duration { get; }
    public double P50 { get; }
    public double P95 { get; }
    public double P99 { get; }
    public double Max { get; }

    public int Sent => Results.Count;
    public int Accepted => Results.Count(r => r.Status is >= 200 and < 300);
    public int NoAnswer => Results.Count(r => r.Status == 0);
    public double RatePerSecond => Duration.TotalSeconds > 0 ? Sent / Duration.TotalSeconds : 0;

    /// <summary>Status (0: no answer) → count, lowest status first.</summary>
    public IReadOnlyList<(int Status, int Count)> Statuses =>
        Results.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => (g.Key, g.Count())).ToList();

    /// <summary>Distinct failures: status, message, count.</summary>
    public IReadOnlyList<(int Status, string Message, int Count)> Errors =>
        Results.Where(r => r.Error is not null).GroupBy(r => (r.Status, r.Error!)).OrderByDescending(g => g.Count())
            .Select(g => (g.Key.Status, g.Key.Item2, g.Count())).ToList();

    /// <summary>Nearest-rank percentile of sorted values (0 when there are none).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0) return 0;
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
