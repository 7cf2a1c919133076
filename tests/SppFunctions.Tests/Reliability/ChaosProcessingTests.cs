using Stopwatch = System.Diagnostics.Stopwatch;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.Events;
using SppFunctions.FakeSpp;
using SppFunctions.Functions.Ops;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;
using Xunit.Abstractions;

namespace SppFunctions.Tests.Reliability;

/// <summary>
/// 1,000 events, each delivered twice, through rules that post order messages and PUT the order, while 30% of SPP
/// calls fail in every way SPP can fail and action attempts crash between their SPP call and its record. Every event
/// must end succeeded, or failed (replayable) where SPP refused for good; every message is posted exactly once.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public class ChaosProcessingTests(ITestOutputHelper output)
{
    private const int Events = 1000;
    private const int Orders = 250;          // four events per order: their "ack" messages have the same text
    private const int Workers = 16;
    private const double FailureShare = 0.30;

    // One rule posts a client message (same text for every event of an order) and then PUTs the order; the other
    // posts a staff note. Both messages are countable per action by the marker the app appends.
    private const string Rules = """
        [
          { "name": "ack", "on": "order.updated", "actions": [
            { "type": "create_order_message", "order": "{{ data.id }}", "message": "<p>We saw an update of order {{ data.id }}.</p>" },
            { "type": "api_call", "method": "PUT", "path": "orders/{{ data.id }}", "body": { "note": "seen {{ id }}" } }
          ]},
          { "name": "audit", "on": "order.updated", "actions": [
            { "type": "create_order_message", "order": "{{ data.id }}", "message": "Update {{ data.seq }} noted.", "staffOnly": true }
          ]}
        ]
        """;

    private static readonly string[] MessageActions = ["ack.0", "audit.0"];

    /// <summary>The fault mix, as shares of all SPP calls; they add up to <see cref="FailureShare"/>.</summary>
    private static IEnumerable<(double Share, FaultRule Rule)> FaultMix() =>
    [
        (0.05, new FaultRule(FaultKind.Status) { Status = 429, RetryAfter = "0" }),
        (0.01, new FaultRule(FaultKind.Status) { Status = 429, RetryAfter = "1" }),
        (0.05, new FaultRule(FaultKind.Status) { Status = 500 }),
        (0.04, new FaultRule(FaultKind.StatusAfterHandling) { Status = 500 }),
        (0.03, new FaultRule(FaultKind.StatusAfterHandling) { Status = 503 }),
        (0.03, new FaultRule(FaultKind.Delay) { Delay = TimeSpan.FromMilliseconds(1500) }), // > AttemptTimeout: a timeout
        (0.04, new FaultRule(FaultKind.Drop)),
        (0.05, new FaultRule(FaultKind.DropAfterHandling)),
    ];

    [Fact]
    public async Task Thousand_events_delivered_twice_through_30_percent_SPP_failures_and_crashes_end_with_one_effect_per_action()
    {
        var total = Stopwatch.StartNew();
        var time = AppHarness.NewFakeTime();
        var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { Time = time, Seed = 20261129 });
        var crashes = new CrashPlan(seed: 4711, lostSuccessWrite: 0.10, crashAfterClaim: 0.03);
        await using var app = await AppHarness.StartAsync(
            new() { ["Spp:AttemptTimeout"] = "00:00:01" },
            spp: spp, rules: Rules, time: time,
            services: s => s.AddSingleton<ActionRecordStore>(sp => new ChaosRecordStore(sp.GetRequiredService<TableServiceClient>(),
                sp.GetRequiredService<StorageNames>(), crashes)));

        // ---- the workspace, the known permanent failures, the chaos ----
        var orders = Enumerable.Range(0, Orders).Select(_ => spp.Store.AddOrder(status: "Working")).ToList();
        string Number(int order) => orders[order]["number"]!.GetValue<string>();
        var refusedPosts = Enumerable.Range(0, Orders).Where(o => o % 25 == 3).ToHashSet();   // SPP answers 422 to every message on these
        var refusedPuts = Enumerable.Range(0, Orders).Where(o => o % 25 == 16).ToHashSet();   // ... and to every update of these
        foreach (var o in refusedPosts) spp.InjectFault(FaultRule.Fail(422, times: null, method: "POST",
            pathPrefix: $"/api/order_messages/{Number(o)}"));
        foreach (var o in refusedPuts) spp.InjectFault(FaultRule.Fail(422, times: null, method: "PUT", pathPrefix: $"/api/orders/{Number(o)}"));
        var left = 1.0;
        foreach (var (share, rule) in FaultMix())
        {
            // Rules are tried in order, so each one's probability is its share of the calls the earlier ones let through.
            spp.InjectFault(new FaultRule(rule.Kind) { Status = rule.Status, RetryAfter = rule.RetryAfter, Delay = rule.Delay,
                Probability = share / left });
            left -= share;
        }
        Assert.Equal(1 - FailureShare, left, 6);

        // ---- 1,000 events, each delivered twice ----
        var events = Enumerable.Range(0, Events).Select(i => NewEvent(i, orders[i % Orders])).ToList();
        var queue = app.Queue(app.Names.EventsQueue);
        var enqueue = Stopwatch.StartNew();
        var random = new Random(99);
        foreach (var chunk in events.Chunk(Workers))
        {
            // First delivery: SPP's webhook through the webhook function (queued, event-log row, dedupe record). Then
            // the same message again, as the queue redelivers it (or SPP re-sends it after the dedupe window), close
            // enough behind to race the first one.
            await Parallel.ForEachAsync(chunk, async (e, ct) =>
            {
                var answer = await WebhookTestKit.PostAsync(app, e.Webhook);
                Assert.Equal(202, answer.Status);
                Assert.Equal(e.Id, answer.Body["id"]!.GetValue<string>()); // the id is derived as documented
            });
            await Parallel.ForEachAsync(chunk.OrderBy(_ => random.Next()), async (e, ct) => await queue.SendMessageAsync(e.Message.ToBinaryData(),
                cancellationToken: ct));
        }
        output.WriteLine($"Delivered {Events} events twice (webhook, then a queue duplicate) in {enqueue.ElapsedMilliseconds} ms");

        // ---- process under chaos ----
        var driver = new ConcurrentQueueDriver(app, Workers);
        var chaos = Stopwatch.StartNew();
        await driver.DrainAsync(maxRounds: 80, betweenRounds: _ =>
        {
            // Time passes between rounds: the leases of crashed attempts run out, as they would in a real hour.
            time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
            return Task.CompletedTask;
        }, log: output.WriteLine);
        chaos.Stop();
        var requests = spp.Requests;
        output.WriteLine($"Chaos processing: {chaos.ElapsedMilliseconds} ms, {driver.Rounds} rounds, {driver.Deliveries} deliveries, "
            + $"{driver.Failures} failed deliveries, {driver.Retries} re-scheduled, {driver.Poisoned} poisoned");
        var chaosShare = requests.Count(r => r.Fault is not null && r.Status != 422) / (double)requests.Count;
        output.WriteLine($"SPP calls: {requests.Count}, {chaosShare:P1} failed by injected faults (besides the 422 refusals): " +
            string.Join(", ",
                requests.Where(r => r.Fault is not null).GroupBy(r => $"{r.Fault}/{r.Status}").OrderBy(g => g.Key).Select(g
                    => $"{g.Key}: {g.Count()}")));
        output.WriteLine($"Crashes: {crashes.LostSuccessWrites} lost success writes, {crashes.CrashesAfterClaim} after a claim");
        output.WriteLine("Failed or re-scheduled deliveries: " + string.Join(", ",
            driver.ErrorKinds.OrderBy(k => k.Key).Select(k => $"{k.Key}: {k.Value}")));
        Assert.Empty(driver.Unexpected);

        // The chaos really happened, in every kind.
        Assert.InRange(chaosShare, 0.25, 0.35);
        foreach (var kind in Enum.GetValues<FaultKind>()) Assert.Contains(requests, r => r.Fault == kind);
        Assert.True(crashes.LostSuccessWrites > 20 && crashes.CrashesAfterClaim > 5, "crashes were injected");

        // ---- every event ended: succeeded, or failed where SPP refused for good (or the queue gave up) ----
        var refused = events.Where(e => refusedPosts.Contains(e.Order) || refusedPuts.Contains(e.Order)).Select(e => e.Id).ToHashSet();
        var rows = await EventRowsAsync(app);
        Assert.Equal(events.Select(e => e.Id).Order(), rows.Keys.Order());
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsPoisonQueue));
        var failed = rows.Values.Where(r => r.Status == EventStatus.Failed).ToList();
        Assert.All(rows.Values, r => Assert.True(r.Status is EventStatus.Succeeded or EventStatus.Failed, $"{r.RowKey} ended {r.Status}: {r.Error}"));
        foreach (var id in refused)
        {
            Assert.Equal(EventStatus.Failed, rows[id].Status);
            Assert.NotNull(rows[id].PayloadBlob); // kept for the replay
            // The reason SPP gave, unless the queue gave up on the event (crashes) before it got that far.
            Assert.True(rows[id].Error!.Contains("422", StringComparison.Ordinal) || rows[id].Error!.Contains("Moved to the poison queue",
                StringComparison.Ordinal), rows[id].Error);
        }
        Assert.True(refused.Count(id => rows[id].Error!.Contains("422", StringComparison.Ordinal)) >= refused.Count * 9 / 10,
            "SPP's refusals are the failure reason");
        // An event outside the refused set may only have failed by crashing the worker on every delivery (replayable too):
        // transient SPP failures are re-scheduled for a day, far longer than this test's hour.
        var gaveUp = failed.Where(r => !refused.Contains(r.RowKey)).ToList();
        Assert.All(gaveUp, r => Assert.Contains("Moved to the poison queue", r.Error));
        output.WriteLine($"After the chaos: {rows.Count - failed.Count} succeeded, {failed.Count} failed ({refused.Count} refused by SPP, "
            + $"{gaveUp.Count} gave up after {QueueDriver.MaxDequeueCount} deliveries)");

        // Exactly one message per message action so far: none twice, none for an event whose action failed for good.
        var store = MessagesByMarker(spp);
        foreach (var e in events)
        {
            var row = rows[e.Id];
            foreach (var action in MessageActions)
            {
                var count = store.GetValueOrDefault(e.Marker(action));
                if (row.Status == EventStatus.Succeeded) Assert.True(count == 1, $"{e.Id} {action}: {count} messages");
                else Assert.True(count <= 1, $"{e.Id} {action} posted {count} times");
                if (refusedPosts.Contains(e.Order)) Assert.Equal(0, count);
            }
        }

        // ---- remove the cause, replay what failed: it succeeds, without repeating what had succeeded ----
        spp.ClearFaults();
        crashes.Enabled = false;
        var replay = Stopwatch.StartNew();
        foreach (var chunk in failed.Select(r => r.RowKey).Chunk(100))
        {
            var request = app.Request("POST", new JsonObject { ["ids"] = new JsonArray(chunk.Select(id => (JsonNode)id).ToArray()) }.ToJsonString());
            var result = (ContentResult)await app.Function<ReplayFunction>().Run(request, CancellationToken.None);
            Assert.Equal(200, result.StatusCode);
            Assert.Equal(chunk.Length, JsonNode.Parse(result.Content!)!["replayed"]!.AsArray().Count);
        }
        await new ConcurrentQueueDriver(app, Workers).DrainAsync(maxRounds: 10, betweenRounds: _ =>
        {
            time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
            return Task.CompletedTask;
        });
        output.WriteLine($"Replayed {failed.Count} failed events in {replay.ElapsedMilliseconds} ms");

        rows = await EventRowsAsync(app);
        Assert.All(rows.Values, r => Assert.True(r.Status == EventStatus.Succeeded, $"{r.RowKey} ended {r.Status} after the replay: {r.Error}"));
        Assert.All(failed, r => Assert.Equal(1, rows[r.RowKey].Replays));

        // ---- exactly one SPP side effect per action ----
        store = MessagesByMarker(spp);
        foreach (var e in events)
        {
            foreach (var action in MessageActions) Assert.True(store.GetValueOrDefault(e.Marker(action)) == 1,
                $"{e.Id} {action}: {store.GetValueOrDefault(e.Marker(action))} messages");
        }
        var allMessages = spp.Store.AllOrderMessages;
        var expectedMarkers = events.SelectMany(e => MessageActions.Select(e.Marker)).ToHashSet();
        var strays = allMessages.Where(m => !expectedMarkers.Any(marker => m["message"]!.GetValue<string>().Contains(marker,
            StringComparison.Ordinal))).ToList();
        Assert.True(strays.Count == 0,
            $"{strays.Count} messages no action posted, e.g. {string.Join(" | ", strays.Take(3).Select(m => m.ToJsonString()))}");
        Assert.Equal(Events * MessageActions.Length, allMessages.Count);
        Assert.Equal(allMessages.Count, allMessages.Select(m => m["id"]!.GetValue<long>()).Distinct().Count());
        // SPP acted on exactly that many message POSTs: none was posted twice, whatever answer got lost.
        requests = spp.Requests;
        var actedPosts = requests.Count(r => r.Method == "POST" && r.Path.StartsWith("/api/order_messages/", StringComparison.Ordinal) && ActedOn(r));
        Assert.Equal(Events * MessageActions.Length, actedPosts);
        // Each action record says succeeded and names the message SPP has.
        var records = app.Get<ActionRecordStore>();
        var byId = allMessages.ToDictionary(m => m["id"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture),
            m => m["message"]!.GetValue<string>());
        foreach (var e in events)
        {
            var list = (await records.ListAsync(e.Id, CancellationToken.None)).ToDictionary(r => r.Key);
            // The rules' three actions (the watch-set updater is idempotent and keeps no records).
            Assert.Equal(["ack.0", "ack.1", "audit.0"], list.Keys.Order());
            Assert.All(list.Values, r => Assert.Equal(ActionStatus.Succeeded, r.Status));
            foreach (var action in MessageActions) Assert.Contains(e.Marker(action), byId[list[action].Result!]);
            // The idempotent PUT reached SPP and SPP acted on it (perhaps more than once, to the same effect).
            Assert.Contains(requests,
                r => r.Method == "PUT" && r.Path == $"/api/orders/{e.Number}" && ActedOn(r) && r.Body.Contains($"seen {e.Id}",
                    StringComparison.Ordinal));
        }
        foreach (var o in Enumerable.Range(0, Orders))
        {
            var note = spp.Store.GetOrder(Number(o))!["note"]!.GetValue<string>();
            Assert.Contains(events.Where(e => e.Order == o), e => note == $"seen {e.Id}");
        }

        var logged = LogSecrets.AssertNoneLogged(app);
        output.WriteLine($"Checked {logged} log records for secrets. Total {total.ElapsedMilliseconds} ms");
    }

    /// <summary>
    /// SPP's side effect happened: it handled the request before an after-handling fault hit, or answered success
    /// (a delayed request the client gave up on is recorded with the default 200, so for delays only a 201 counts).
    /// </summary>
    private static bool ActedOn(RecordedRequest r) => r.Fault switch
    {
        FaultKind.StatusAfterHandling or FaultKind.DropAfterHandling => r.Handled, // unless the client gave up before
        null => r.Status is >= 200 and < 300,
        FaultKind.Delay => r.Status == 201,
        _ => false,
    };

    private static Dictionary<string, int> MessagesByMarker(FakeSppServer spp)
    {
        var counts = new Dictionary<string, int>();
        foreach (var m in spp.Store.AllOrderMessages)
        {
            var text = m["message"]!.GetValue<string>();
            var at = text.IndexOf("<!-- sppfn:", StringComparison.Ordinal);
            var marker = at < 0 ? "(none)" : text[at..];
            counts[marker] = counts.GetValueOrDefault(marker) + 1;
        }
        return counts;
    }

    private static async Task<Dictionary<string, EventEntry>> EventRowsAsync(AppHarness app)
    {
        var rows = new Dictionary<string, EventEntry>();
        await foreach (var row in app.Get<EventStore>().QueryAsync()) rows[row.RowKey] = row;
        return rows;
    }

    private sealed record ChaosEvent(int Index, int Order, string Number, string Id, byte[] Webhook, EventMessage Message)
    {
        public string Marker(string action) => ActionExecutor.MarkerFor($"{Id}.{action}");
    }

    private static ChaosEvent NewEvent(int index, JsonObject order)
    {
        const string name = "order.updated";
        var created = 1764403200L + index;
        var data = FakeSppWebhooks.OldStyleOrder(order);
        data["seq"] = index;
        var payload = new JsonObject { ["event"] = name, ["created"] = created, ["data"] = data };
        var dataId = data["id"]!.GetValue<string>();
        var id = EventIds.Create(name, dataId, created, Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var message = new EventMessage
        {
            Id = id, Event = name, Topic = SppEventTopics.Classify(name), Created = created, Source = EventSources.Webhook,
            ReceivedAt = DateTimeOffset.UtcNow, Size = Encoding.UTF8.GetByteCount(payload.ToJsonString()), Payload = payload,
        };
        var webhook = Encoding.UTF8.GetBytes(WebhookTestKit.Envelope(name, data.DeepClone(), AppHarness.Token, created).ToJsonString());
        return new ChaosEvent(index, index % Orders, dataId, id, webhook, message);
    }
}
