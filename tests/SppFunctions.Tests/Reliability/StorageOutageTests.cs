using System.Collections.Concurrent;
using Stopwatch = System.Diagnostics.Stopwatch;
using System.Text;
using System.Text.Json.Nodes;
using SppFunctions.FakeSpp;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;
using Xunit.Abstractions;

namespace SppFunctions.Tests.Reliability;

/// <summary>
/// Storage goes away in the middle of a stream of webhooks and comes back. SPP must only ever hear 202/200 for events
/// that are stored, 503 with Retry-After otherwise, never a 500; after the restart everything accepted is processed,
/// once.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class StorageOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Posters = 4;
    private const int AcceptedBeforeStop = 40;
    private const int AcceptedAfterRestart = 40;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);

    // A countable effect per event: one message on the order, carrying the action's marker.
    private const string Rules = """
        [{ "name": "thanks", "on": "order.created", "actions": [{ "type": "create_order_message", "order": "{{ data.id }}",
            "message": "Thanks for order {{ data.id }}!" }] }]
        """;

    private DedicatedAzurite _azurite = null!;

    public async Task InitializeAsync() => _azurite = await DedicatedAzurite.StartAsync();

    public async Task DisposeAsync() => await _azurite.DisposeAsync(); // kills it, whatever the test did

    private sealed record Delivery(int Event, bool Redelivery, string Phase, int Status, string? Id, string? RetryAfter, long Ms);

    [Fact]
    public async Task Storage_stopped_during_intake_answers_503_never_a_false_2xx_and_everything_accepted_is_processed_once_after_restart()
    {
        var total = Stopwatch.StartNew();
        await using var app = await AppHarness.StartAsync(storage: _azurite.ConnectionString, rules: Rules);
        var orders = Enumerable.Range(0, 400).Select(_ => FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"))).ToList();
        var bodies = orders.Select((order, e) => Encoding.UTF8.GetBytes(WebhookTestKit.Envelope("order.created", order,
            created: WebhookTestKit.Created + e).ToJsonString())).ToArray();
        byte[] Body(int e) => bodies[e];

        var deliveries = new ConcurrentQueue<Delivery>();
        var next = 0;
        var phase = "before";
        var accepted = new ConcurrentDictionary<int, string>();
        using var stopPosting = new CancellationTokenSource();

        async Task<Delivery> Deliver(int e, bool redelivery)
        {
            var started = Stopwatch.GetTimestamp();
            var currentPhase = Volatile.Read(ref phase);
            var answer = await WebhookTestKit.PostAsync(app, Body(e));
            var id = answer.Body["id"]?.GetValue<string>();
            var delivery = new Delivery(e, redelivery, currentPhase, answer.Status, id, answer.RetryAfter,
                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            deliveries.Enqueue(delivery);
            if (answer.Status is 200 or 202) accepted.TryAdd(e, id!);
            return delivery;
        }

        // Warm up: the tables, queue and container exist before the outage, as in a running app.
        Assert.Equal(202, (await Deliver(0, redelivery: false)).Status);

        var posters = Enumerable.Range(0, Posters).Select(p => Task.Run(async () =>
        {
            var mine = new Random(100 + p);
            while (!stopPosting.IsCancellationRequested)
            {
                // Now and then SPP delivers an event it delivered before (within the dedupe window).
                if (mine.Next(10) == 0 && !accepted.IsEmpty)
                {
                    var keys = accepted.Keys.ToArray();
                    var earlier = keys[mine.Next(keys.Length)];
                    await Deliver(earlier, redelivery: true);
                    continue;
                }
                var e = Interlocked.Increment(ref next);
                if (e >= orders.Count) return;
                await Deliver(e, redelivery: false);
            }
        })).ToList();

        async Task WaitForAccepted(int count, string what)
        {
            var deadline = Stopwatch.StartNew();
            while (accepted.Count < count)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"waiting for {count} accepted events {what}; have {accepted.Count}");
                if (posters.FirstOrDefault(t => t.IsFaulted) is { } faulted) await faulted; // throws the poster's exception
                await Task.Delay(20);
            }
        }

        // ---- the stream, with storage going away and coming back ----
        await WaitForAccepted(AcceptedBeforeStop, "before the outage");
        Volatile.Write(ref phase, "stopping");
        var clock = Stopwatch.StartNew();
        await _azurite.StopAsync();
        output.WriteLine($"Azurite stopped in {clock.ElapsedMilliseconds} ms after {accepted.Count} accepted events");
        Volatile.Write(ref phase, "down");
        await Task.Delay(Outage);
        Volatile.Write(ref phase, "restarting");
        clock.Restart();
        await _azurite.RestartAsync();
        output.WriteLine($"Azurite restarted in {clock.ElapsedMilliseconds} ms");
        Volatile.Write(ref phase, "after");
        var acceptedAtRestart = accepted.Count;
        await WaitForAccepted(acceptedAtRestart + AcceptedAfterRestart, "after the restart");
        stopPosting.Cancel();
        await Task.WhenAll(posters);

        var stream = deliveries.ToList();
        foreach (var group in stream.GroupBy(d => (d.Phase, d.Status)).OrderBy(g => g.Key.Phase).ThenBy(g => g.Key.Status))
        {
            output.WriteLine($"{group.Key.Phase,-10} {group.Key.Status}: {group.Count(),4} answers, median {Median(group.Select(d => d.Ms))} ms, "
                + $"max {group.Max(d => d.Ms)} ms");
        }

        // ---- what SPP heard ----
        Assert.All(stream, d => Assert.Contains(d.Status, new[] { 200, 202, 503 }));
        // Every 2xx was for an event that is stored (storage is back: it must be there now).
        var log = app.Get<EventStore>();
        foreach (var d in stream.Where(d => d.Status is 200 or 202))
        {
            Assert.True(await log.GetAsync(d.Id!, CancellationToken.None) is not null,
                $"event {d.Event} was answered {d.Status} ({d.Phase}) but is not in the event log");
        }
        Assert.Contains(stream, d => d.Status == 503); // the outage was seen
        Assert.All(stream.Where(d => d.Status == 503), d => Assert.True(int.TryParse(d.RetryAfter, out var s) && s > 0,
            $"503 without a Retry-After for event {d.Event}"));
        Assert.All(stream.Where(d => d.Status is 200 or 202), d => Assert.False(string.IsNullOrEmpty(d.Id)));
        Assert.True(stream.Count(d => d.Phase == "after" && d.Status == 202) >= AcceptedAfterRestart / 2, "intake works again after the restart");

        // SPP delivers every event that got no 2xx again after its Retry-After (without waiting it here).
        var retried = 0;
        foreach (var e in stream.Select(d => d.Event).Distinct().Where(e => !accepted.ContainsKey(e)).ToList())
        {
            for (var attempt = 0; !accepted.ContainsKey(e); attempt++)
            {
                Assert.True(attempt < 5, $"event {e} is still refused after the restart");
                var again = await Deliver(e, redelivery: true);
                Assert.Contains(again.Status, new[] { 200, 202, 503 });
                retried++;
            }
        }
        var all = deliveries.ToList();
        var events = all.Select(d => d.Event).Distinct().ToList();
        output.WriteLine($"{stream.Count} deliveries during the run ({stream.Count(d => d.Status == 503)} answered 503), {retried} redeliveries "
            + $"afterwards, {events.Count} distinct events");

        // ---- every accepted event is stored, and is processed exactly once ----
        var acceptedIds = all.Where(d => d.Status is 200 or 202).Select(d => d.Id!).ToHashSet();
        Assert.All(all.Where(d => d.Id is not null).GroupBy(d => d.Event), g => Assert.Single(g.Select(d => d.Id).Distinct())); // one id per event
        Assert.Equal(events.Count, acceptedIds.Count);
        foreach (var id in acceptedIds) Assert.True(await log.GetAsync(id, CancellationToken.None) is not null,
            $"accepted event {id} is not in the event log");
        var driver = app.Driver();
        await driver.DrainAsync();
        foreach (var id in acceptedIds)
        {
            var row = await log.GetAsync(id, CancellationToken.None);
            Assert.True(row?.Status == EventStatus.Succeeded, $"accepted event {id} ended {row?.Status}: {row?.Error}");
        }
        var messages = app.Spp.Store.AllOrderMessages;
        foreach (var id in acceptedIds)
        {
            var marker = ActionExecutor.MarkerFor($"{id}.thanks.0");
            var count = messages.Count(m => m["message"]!.GetValue<string>().Contains(marker, StringComparison.Ordinal));
            Assert.True(count == 1, $"event {id}: {count} messages");
        }
        Assert.Equal(acceptedIds.Count, messages.Count);
        output.WriteLine($"{acceptedIds.Count} distinct accepted events, {messages.Count} messages; {driver.Failures} failed deliveries while "
            + $"draining; total {total.ElapsedMilliseconds} ms");

        LogSecrets.AssertNoneLogged(app, [_azurite.AccountKey]);
    }

    private static long Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }
}
