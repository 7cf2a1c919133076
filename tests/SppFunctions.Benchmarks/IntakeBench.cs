using System.Text;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using SppFunctions.FakeSpp;
using SppFunctions.Intake;

namespace SppFunctions.Benchmarks;

/// <summary>
/// Intake: WebhookIntake.AcceptAsync (content type, size, JSON shape, token, validation, id, dedupe, log row, queue
/// message) against the floor, a raw QueueClient.SendMessageAsync of the same body bytes, at concurrency 1 and 16.
/// Rounds alternate app and floor so drift in Azurite (growing tables, GC) hits both alike.
/// </summary>
public static class IntakeBench
{
    /// <summary>Issue 14's target for the median; and at most <see cref="MaxRoundTrips"/> storage round trips per webhook.</summary>
    public const double Goal = 1.6;
    public const double MaxRoundTrips = 2;

    public static async Task RunAsync(Report report, Options options)
    {
        await using var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { RecordRequests = false });
        await using var app = BenchApp.Start(spp.BaseUrl, spp.ApiKey);
        var intake = app.Get<WebhookIntake>();
        var raw = app.Queue("bench-raw-" + Guid.NewGuid().ToString("N")[..8]);
        await raw.CreateIfNotExistsAsync();
        var events = app.Queue(app.Names.EventsQueue);

        var body = new StringBuilder();
        body.AppendLine("| Concurrency | Requests per side | Handler median / p99 (ms) | Raw send median / p99 (ms) | Ratio of medians "
            + "| Ratio of p99s | Handler throughput / raw (req/s) | Storage round trips per request, handler / raw "
            + "| Allocated KB per request, handler / raw |");
        body.AppendLine("|---|---|---|---|---|---|---|---|---|");
        var serial = 0;
        byte[] NextBody()
        {
            var n = Interlocked.Increment(ref serial);
            var data = new JsonObject
            {
                ["id"] = $"{0x60000000 + n:X8}", ["service"] = "Logo design", ["status"] = "Pending", ["price"] = "99.00",
                ["date_added"] = "2026-11-02T09:00:00+0000", ["date_completed"] = null, ["tags"] = new JsonArray("bench"),
                ["client"] = new JsonObject { ["id"] = 12 + n, ["name"] = "Jane Doe", ["email"] = $"jane{n}@example.com",
                    ["company"] = "Example Co" },
                ["form_data"] = new JsonObject { ["Brief"] = new string('x', 600), ["Colours"] = "navy, white" },
            };
            return Encoding.UTF8.GetBytes(FakeSppWebhooks.Envelope("order.created", data, BenchApp.Token,
                DateTimeOffset.FromUnixTimeSeconds(1793610000 + n)).ToJsonString());
        }

        async Task Handler(byte[] bytes)
        {
            var result = await intake.AcceptAsync(new WebhookRequest("application/json", bytes.Length, new MemoryStream(bytes, writable: false),
                null), CancellationToken.None);
            if (result.Status != 202) throw new InvalidOperationException($"Intake answered {result.Status}: {result.Body.ToJsonString()}");
        }

        Task Raw(byte[] bytes) => raw.SendMessageAsync(new BinaryData(bytes));

        // Warm-up: connections, JIT, table/queue creation.
        foreach (var _ in Enumerable.Range(0, options.Scale(150))) { await Handler(NextBody()); await Raw(NextBody()); }

        foreach (var concurrency in new[] { 1, 16 })
        {
            // Short rounds, alternating sides: load from elsewhere on the machine comes and goes in seconds.
            var perRound = options.Scale(concurrency == 1 ? 100 : 200);
            const int rounds = 10;
            var appSamples = new Samples();
            var rawSamples = new Samples();
            var appWall = TimeSpan.Zero;
            var rawWall = TimeSpan.Zero;
            long appCalls = 0, rawCalls = 0, appBytes = 0, rawBytes = 0;
            for (var round = 0; round < rounds; round++)
            {
                var appBodies = Enumerable.Range(0, perRound).Select(_ => NextBody()).ToArray();
                var rawBodies = Enumerable.Range(0, perRound).Select(_ => NextBody()).ToArray();
                async Task AppSide()
                {
                    var c = app.StorageCalls.Count;
                    var b = GC.GetTotalAllocatedBytes(true);
                    appWall += await Measure.RunAsync(perRound, concurrency, i => Handler(appBodies[i]), appSamples);
                    appBytes += GC.GetTotalAllocatedBytes(true) - b;
                    appCalls += app.StorageCalls.Count - c;
                }
                async Task RawSide()
                {
                    var c = app.StorageCalls.Count;
                    var b = GC.GetTotalAllocatedBytes(true);
                    rawWall += await Measure.RunAsync(perRound, concurrency, i => Raw(rawBodies[i]), rawSamples);
                    rawBytes += GC.GetTotalAllocatedBytes(true) - b;
                    rawCalls += app.StorageCalls.Count - c;
                }
                if (round % 2 == 0) { await AppSide(); await RawSide(); } else { await RawSide(); await AppSide(); }
                // Keep the queues short: both sides then write into queues of the same size.
                await events.ClearMessagesAsync();
                await raw.ClearMessagesAsync();
            }
            var n = perRound * rounds;
            var ratioMedian = appSamples.Median / rawSamples.Median;
            var ratioP99 = appSamples.P99 / rawSamples.P99;
            body.AppendLine($"| {concurrency} | {n} | {Measure.Ms(appSamples.Median)} / {Measure.Ms(appSamples.P99)} | " +
                $"{Measure.Ms(rawSamples.Median)} / {Measure.Ms(rawSamples.P99)} | " +
                $"{Measure.Ratio(ratioMedian)} | {Measure.Ratio(ratioP99)} | {n / appWall.TotalSeconds:F0} / {n / rawWall.TotalSeconds:F0} | " +
                $"{(double)appCalls / n:F2} / {(double)rawCalls / n:F2} | {appBytes / 1024.0 / n:F0} / {rawBytes / 1024.0 / n:F0} |");
            report.Headline(new Headline($"Intake latency, concurrency {concurrency} (median; p99)",
                $"median ≤ {Goal}× raw send, ≤ {MaxRoundTrips:F0} round trips",
                $"{Measure.Ratio(ratioMedian)} ({Measure.Ms(appSamples.Median)} vs {Measure.Ms(rawSamples.Median)} ms); " +
                $"p99 {Measure.Ratio(ratioP99)} ({Measure.Ms(appSamples.P99)} vs {Measure.Ms(rawSamples.P99)} ms); " +
                $"{(double)appCalls / n:F1} storage round trips vs {(double)rawCalls / n:F1}",
                ratioMedian <= Goal && (double)appCalls / n <= MaxRoundTrips,
                $"a webhook takes {(double)appCalls / n:F0} storage round trips (queue send, then the row that proves it was queued), " +
                "the floor 1; answering 2xx only once the event is queued, and never 200 for an event nobody queued, needs 2 in a row"));
        }

        body.AppendLine();
        body.AppendLine(await RequestCostsAsync(report, app, raw, NextBody, options));
        body.AppendLine();
        body.AppendLine("Handler: `WebhookIntake.AcceptAsync` with a 1.3 KB `order.created` body (each request a new event, so every one is");
        body.AppendLine("stored: no duplicate short-cuts). Raw: `QueueClient.SendMessageAsync` of the same kind of body to a queue of its own,");
        body.AppendLine("with the same client options (Base64). Latency per request; at concurrency 16, 16 callers each send their next");
        body.AppendLine("request when the previous one is answered. 10 rounds per concurrency, app and raw alternating (which goes first");
        body.AppendLine($"alternates too), so both see the same conditions. {options.Describe()}");
        report.Section("Intake", body.ToString());
        await raw.DeleteIfExistsAsync();
        await app.DeleteStorageAsync();
    }

    /// <summary>
    /// The least work that keeps intake's promise, as bare requests on this machine: a queue send, then the insert of a
    /// row of the event row's size, against the send alone; one at a time, in alternating rounds.
    /// </summary>
    private static async Task<string> RequestCostsAsync(Report report, BenchApp app, QueueClient queue, Func<byte[]> nextBody, Options options)
    {
        var table = app.Table("BenchRows" + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateIfNotExistsAsync();
        var send = new Samples();
        var both = new Samples();
        var n = options.Scale(100);
        for (var round = 0; round < 6; round++)
        {
            var bodies = Enumerable.Range(0, 2 * n).Select(_ => nextBody()).ToArray();
            Task Send(int i) => queue.SendMessageAsync(new BinaryData(bodies[i]));
            async Task SendThenInsert(int i)
            {
                await queue.SendMessageAsync(new BinaryData(bodies[n + i]));
                await table.AddEntityAsync(BenchApp.SizedRow(Guid.NewGuid().ToString("N")));
            }
            if (round % 2 == 0) { await Measure.RunAsync(n, 1, Send, send); await Measure.RunAsync(n, 1, SendThenInsert, both); }
            else { await Measure.RunAsync(n, 1, SendThenInsert, both); await Measure.RunAsync(n, 1, Send, send); }
            await queue.ClearMessagesAsync();
        }
        await table.DeleteAsync();
        var least = both.Median / send.Median;
        report.Headline(new Headline("Intake, concurrency 1: the least work as bare requests (a send, then an insert) against the send alone",
            "info (what two writes in a row cost here, without the handler)",
            $"{Measure.Ratio(least)} ({Measure.Ms(both.Median)} vs {Measure.Ms(send.Median)} ms)", null));
        return "The least work that keeps the promise, as bare requests (no handler, no validation, no tracing), one at a time, 6 "
            + $"alternating rounds of {n}: a queue send then the insert of a row of the event row's size take {Measure.Ms(both.Median)} ms "
            + $"(p99 {Measure.Ms(both.P99)}), the send alone {Measure.Ms(send.Median)} ms (p99 {Measure.Ms(send.P99)}): "
            + $"{Measure.Ratio(least)}. That is the best an intake that writes the row after the send can do at concurrency 1 on this "
            + "machine; the handler's ratio above adds its own work.";
    }
}
