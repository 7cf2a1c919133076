using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using SppFunctions.FakeSpp;
using SppFunctions.Queueing;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;
using Xunit.Abstractions;

namespace SppFunctions.Tests.Reliability;

/// <summary>
/// SPP away for a long time while webhooks keep coming: transient failures are re-scheduled on the growing schedule
/// (new queue messages with a visibility delay), nothing fails or reaches the poison queue, and every event is
/// processed once soon after SPP is back. Time is a FakeTimeProvider shared with the fake SPP; the queue driver makes
/// re-scheduled messages visible when the fake clock reaches them, so an hour takes seconds.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public class SppOutageTests(ITestOutputHelper output)
{
    private const int Events = 20;

    // A POST (not idempotent: reconciled by its marker) and a PUT (idempotent) per event.
    private const string Rules = """
        [{ "name": "welcome", "on": "order.created", "actions": [
          { "type": "create_order_message", "order": "{{ data.id }}", "message": "<p>Welcome to order {{ data.id }}.</p>" },
          { "type": "api_call", "method": "PUT", "path": "orders/{{ data.id }}", "body": { "note": "welcomed" } }
        ]}]
        """;

    /// <summary>The circuit breaker's break in real time; the test waits it out whenever the fake clock moves 15 s.</summary>
    private static readonly TimeSpan RealBreak = TimeSpan.FromMilliseconds(50);

    private sealed record Outcome(int Calls, int Attempts, TimeSpan LatestAfterRecovery, int Rounds);

    private async Task<Outcome> RunOutageAsync(TimeSpan outage, Dictionary<string, string?> settings)
    {
        var wall = Stopwatch.StartNew();
        var time = AppHarness.NewFakeTime();
        var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { Time = time });
        settings["Spp:CircuitBreaker:MinimumThroughput"] = "10";
        settings["Spp:CircuitBreaker:BreakDuration"] = RealBreak.ToString();
        await using var app = await AppHarness.StartAsync(settings, spp: spp, time: time, rules: Rules);
        var start = time.GetUtcNow();
        var recovery = start + outage;

        // SPP answers 503 to everything; 20 order webhooks arrive and are accepted.
        spp.InjectFault(new FaultRule(FaultKind.Status) { Status = 503, RetryAfter = null });
        var orders = Enumerable.Range(0, Events).Select(_ => FakeSppWebhooks.OldStyleOrder(spp.Store.AddOrder(status: "Pending"))).ToList();
        var ids = new List<string>();
        foreach (var order in orders)
        {
            var answer = await WebhookTestKit.PostAsync(app, WebhookTestKit.Envelope("order.created", order));
            Assert.Equal(202, answer.Status);
            ids.Add(answer.Body["id"]!.GetValue<string>());
        }

        var driver = app.Driver();
        var down = true;
        var lastBreak = time.GetUtcNow();
        await driver.DrainAsync(maxRounds: 5000, betweenRounds: async _ =>
        {
            var now = time.GetUtcNow();
            // The breaker's break is real time: let it pass whenever 15 s (its default break) pass on the fake clock, and
            // when SPP comes back (a real outage outlasts the break).
            var back = down && now >= recovery;
            if (back)
            {
                spp.ClearFaults();
                down = false;
            }
            if (back || now - lastBreak >= TimeSpan.FromSeconds(15))
            {
                lastBreak = now;
                await Task.Delay(RealBreak * 2);
            }
        });
        Assert.False(down, "the outage ended before the queue was drained");

        var requests = spp.Requests;
        var calls = requests.Count(r => r.At < recovery);
        var rows = ids.Select(id => app.EventRowAsync(id).Result!).ToList();
        // Nothing failed, nothing was poisoned, everything was processed once.
        Assert.Equal(0, driver.Failures);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsPoisonQueue));
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));
        Assert.All(rows, r => Assert.True(r.Status == EventStatus.Succeeded, $"{r.RowKey} ended {r.Status}: {r.Error}"));
        Assert.All(rows, r => Assert.Equal(0, r.Replays));
        foreach (var order in orders)
        {
            var messages = spp.Store.GetOrderMessages(order["id"]!.GetValue<string>());
            Assert.Single(messages); // posted once: no duplicate from the re-scheduled attempts
            Assert.Equal("welcomed", spp.Store.GetOrder(order["id"]!.GetValue<string>())!["note"]!.GetValue<string>());
        }
        Assert.All(rows, r => Assert.True(r.CompletedAt >= recovery, $"{r.RowKey} completed during the outage"));
        var latest = rows.Max(r => r.CompletedAt!.Value) - recovery;
        var attempts = rows.Sum(r => r.Attempts);
        output.WriteLine($"{outage.TotalMinutes} min outage, {Events} events: {calls} SPP calls during the outage " +
            $"({(double)calls / Events:0.#} per event, {attempts} attempts in all), " +
            $"all processed by {latest.TotalMinutes:0.#} min after SPP came back; {driver.Retries.Count} re-scheduled messages; " +
            $"{wall.ElapsedMilliseconds} ms wall time");
        return new Outcome(calls, attempts, latest, driver.Retries.Count);
    }

    [Fact]
    public async Task A_one_hour_outage_compressed_by_settings_fails_nothing_duplicates_nothing_and_bounds_the_calls()
    {
        // The same code path with a shorter cap: steps of 30 s, 1 min, 2 min, then every 5 min.
        var outage = TimeSpan.FromHours(1);
        var cap = TimeSpan.FromMinutes(5);
        var result = await RunOutageAsync(outage, new() { ["Retries:MaxDelay"] = cap.ToString(), ["Retries:GiveUpAfter"] = "02:00:00" });

        // Each event is tried once per step: 0.5 + 1 + 2 min, then every 5 min (plus jitter) over the hour.
        var stepsInOutage = 3 + (int)Math.Ceiling((outage - TimeSpan.FromMinutes(3.5)) / cap);
        Assert.InRange(result.Attempts, Events * (stepsInOutage - 2), Events * (stepsInOutage + 2));
        // Calls grow with the schedule, not with queue polling: at most one attempt per event and step, each at most
        // four calls (a GET retried three times in-process; a POST once), and the breaker spares most of them.
        Assert.True(result.Calls <= Events * (stepsInOutage + 1) * 4, $"{result.Calls} SPP calls during the outage");
        // Processed within about one backoff step (the cap, plus its jitter) after SPP came back.
        Assert.True(result.LatestAfterRecovery <= cap * 1.1 + TimeSpan.FromSeconds(1), $"processed {result.LatestAfterRecovery} after recovery");
    }

    [Fact]
    public async Task While_the_circuit_is_open_an_event_is_re_scheduled_without_an_SPP_call()
    {
        await using var app = await AppHarness.StartAsync(new()
        {
            ["Spp:Retry:MaxRetries"] = "0",
            ["Spp:CircuitBreaker:MinimumThroughput"] = "2",
            ["Spp:CircuitBreaker:BreakDuration"] = "00:10:00",
        }, rules: Rules, fakeTime: true);
        var client = app.Get<Spp.Client.SppClient>();
        app.Spp.InjectFault(FaultRule.Fail(503, times: 2));
        for (var i = 0; i < 2; i++) await Assert.ThrowsAsync<Spp.Client.SppRequestFailedException>(() => client.GetOrderAsync("1"));
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        var evt = await app.EnqueueEventAsync("order.created", order);
        var calls = app.Spp.Requests.Count;

        await app.Get<SppFunctions.Processing.EventProcessor>().ProcessAsync(evt.ToBinaryData().ToString(), 1, CancellationToken.None);

        Assert.Equal(calls, app.Spp.Requests.Count); // no call reached SPP
        var retry = Assert.Single(QueueDriver.Recorder(app).All);
        Assert.Contains("circuit breaker is open", retry.Reason);
        Assert.Equal(1, retry.Plan.Retry);
        Assert.InRange(retry.Plan.Delay, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(33));
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Processing, row!.Status);
        Assert.Contains("Retry 1 is scheduled for", row.Error);
    }

    [Fact]
    public async Task A_long_Retry_After_is_honoured_and_the_last_attempt_falls_on_the_end_of_the_window()
    {
        await using var app = await AppHarness.StartAsync(
            new() { ["Spp:Retry:MaxRetries"] = "0", ["Retries:GiveUpAfter"] = "00:20:00" }, rules: Rules, fakeTime: true);
        app.Spp.InjectFault(FaultRule.Throttle(retryAfter: "600", times: 1, method: "POST"));
        app.Spp.InjectFault(FaultRule.Throttle(retryAfter: "3600", times: 1, method: "POST"));
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        var evt = await app.EnqueueEventAsync("order.created", order);
        var start = app.Time!.GetUtcNow();

        await app.Driver().DrainAsync();

        var retries = QueueDriver.Recorder(app).All;
        Assert.Equal(2, retries.Count);
        Assert.Equal(TimeSpan.FromSeconds(600), retries[0].Plan.Delay); // SPP asked for 10 minutes, more than the 30 s step
        Assert.Equal(start + TimeSpan.FromMinutes(20), retries[1].DueAt); // an hour asked, but the window ends first
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_six_minute_outage_with_the_default_schedule_sends_nothing_to_the_poison_queue()
    {
        var result = await RunOutageAsync(TimeSpan.FromMinutes(6), new());

        // Retries at 0.5, 1.5, 3.5 and 8.5 min (plus jitter): the fourth one finds SPP back.
        Assert.InRange(result.Attempts, Events * 4, Events * 6);
        var jitter = Enumerable.Range(1, 4)
            .Aggregate(TimeSpan.Zero, (sum, retry) => sum + RetryScheduler.StepDelay(retry, TimeSpan.FromHours(1)) * 0.1);
        Assert.True(result.LatestAfterRecovery <= TimeSpan.FromMinutes(2.5) + jitter + TimeSpan.FromSeconds(1),
            $"processed {result.LatestAfterRecovery} after recovery");
    }
}
