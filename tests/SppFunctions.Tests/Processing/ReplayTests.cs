using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.FakeSpp;
using SppFunctions.Functions.Ops;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Processing;

/// <summary>Poison handling and replay: failed events stay visible and can be run again without repeating what succeeded.</summary>
public class ReplayTests
{
    private const string TwoStepRule = """
        [{ "name": "two-step", "on": "order.created", "actions": [
          { "type": "create_order_message", "order": "{{ data.id }}", "message": "step one" },
          { "type": "api_call", "method": "PUT", "path": "orders/{{ data.id }}", "body": { "note": "step two" } }
        ]}]
        """;

    private static async Task<(int Status, JsonObject Body)> Replay(AppHarness app, string body)
    {
        var request = app.Request("POST", body);
        var result = (ContentResult)await app.Function<ReplayFunction>().Run(request, CancellationToken.None);
        return (result.StatusCode!.Value, JsonNode.Parse(result.Content!)!.AsObject());
    }

    [Fact]
    public async Task An_event_that_keeps_failing_is_retried_on_the_schedule_then_marked_failed_and_replays_without_repeating_done_actions()
    {
        // A retry window of 30 minutes: retries after 30 s, 1, 2, 5 and 10 min, the last one at the end of the window.
        await using var app = await AppHarness.StartAsync(new() { ["Retries:GiveUpAfter"] = "00:30:00" }, rules: TwoStepRule, fakeTime: true);
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        app.Spp.InjectFault(FaultRule.Fail(503, times: null, method: "PUT"));
        var started = app.Time!.GetUtcNow();
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(0, driver.Failures); // no delivery threw: each transient failure re-scheduled the event
        Assert.Equal(6, driver.Retries.Count);
        Assert.Equal(started + TimeSpan.FromMinutes(30), driver.Retries[^1].DueAt);
        var failed = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, failed!.Status);
        Assert.Equal(7, failed.Attempts);
        Assert.Contains("Gave up after 7 attempt(s) over 30 min of transient failures. Last error: Action two-step.1", failed.Error);
        Assert.NotNull(failed.PayloadBlob);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsPoisonQueue));
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));

        app.Spp.ClearFaults();
        var (status, report) = await Replay(app, $$"""{ "ids": ["{{evt.Id}}"] }""");
        Assert.Equal(200, status);
        Assert.Equal(evt.Id, report["replayed"]![0]!.GetValue<string>());
        Assert.Equal(EventStatus.Received, (await app.EventRowAsync(evt.Id))!.Status);
        await app.Driver().DrainAsync();

        var done = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Succeeded, done!.Status);
        Assert.Equal(1, done.Replays);
        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>())); // step one was not repeated
        Assert.Equal("step two", app.Spp.Store.GetOrder(order["id"]!.GetValue<string>())!["note"]!.GetValue<string>());
    }

    /// <summary>Fails every move of an event-log row to "processing", as a crash of the worker would.</summary>
    private sealed class CrashingEventStore(Azure.Data.Tables.TableServiceClient tables, StorageNames names) : EventStore(tables, names)
    {
        public override Task<EventEntry?> TransitionAsync(string id, Func<EventEntry?, EventEntry?> change,
            CancellationToken cancellationToken, EventEntry? known = null) =>
            base.TransitionAsync(id,
                entry => change(entry) is { Status: EventStatus.Processing } ? throw new InvalidOperationException("Simulated crash") : change(entry),
                cancellationToken, known);
    }

    [Fact]
    public async Task A_message_that_crashes_the_worker_on_every_delivery_lands_in_the_poison_queue_and_is_marked_failed()
    {
        await using var app = await AppHarness.StartAsync(rules: TwoStepRule, services: s => s.AddSingleton<EventStore, CrashingEventStore>());
        var evt = await app.EnqueueEventAsync("order.created", FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder()));
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(QueueDriver.MaxDequeueCount, driver.Failures);
        Assert.Empty(driver.Retries);
        var failed = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, failed!.Status);
        Assert.Contains("Moved to the poison queue", failed.Error);
        Assert.NotNull(failed.PayloadBlob);
        Assert.Empty(app.Spp.Requests);
    }

    [Fact]
    public async Task A_permanently_failed_event_replays_by_time_range()
    {
        await using var app = await AppHarness.StartAsync(rules: TwoStepRule);
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        app.Spp.InjectFault(FaultRule.Fail(422, times: 1, method: "PUT"));
        var evt = await app.EnqueueEventAsync("order.created", order, created: 1764403200);
        var outside = await app.EnqueueEventAsync("order.created", FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder()), created: 1700000000);
        app.Spp.InjectFault(FaultRule.Fail(422, times: 1, method: "PUT"));
        await app.Driver().DrainAsync();
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(evt.Id))!.Status);
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(outside.Id))!.Status);

        var (status, report) = await Replay(app, """{ "from": "2025-11-29T00:00:00Z", "to": "2025-11-30T00:00:00Z" }""");
        await app.Driver().DrainAsync();

        Assert.Equal(200, status);
        Assert.Equal(new[] { evt.Id }, report["replayed"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(outside.Id))!.Status);
        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Only_failed_events_are_replayed()
    {
        await using var app = await AppHarness.StartAsync(rules: TwoStepRule);
        var evt = await app.EnqueueEventAsync("order.created", FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder()));
        await app.Driver().DrainAsync();

        var (status, report) = await Replay(app, $$"""{ "ids": ["{{evt.Id}}", "1764403200-000000000000000000000000", "nonsense"] }""");

        Assert.Equal(200, status);
        Assert.Empty(report["replayed"]!.AsArray());
        var reasons = report["skipped"]!.AsArray().ToDictionary(s => s!["id"]!.GetValue<string>(), s => s!["reason"]!.GetValue<string>());
        Assert.Contains("only failed events are replayed", reasons[evt.Id]);
        Assert.Equal("no such event", reasons["nonsense"]);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("[]", null)]
    [InlineData("{}", "ids")]
    [InlineData("""{ "ids": "x" }""", "ids")]
    [InlineData("""{ "ids": [1] }""", "ids")]
    [InlineData("""{ "from": "yesterday" }""", "from")]
    [InlineData("""{ "from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z" }""", "from")]
    [InlineData("""{ "ids": ["a"], "limit": 0 }""", "limit")]
    [InlineData("""{ "ids": ["a"], "status": "succeeded" }""", "status")]
    public async Task A_bad_replay_request_gets_400_naming_the_field(string body, string? field)
    {
        await using var app = await AppHarness.StartAsync();
        var (status, answer) = await Replay(app, body);
        Assert.Equal(400, status);
        Assert.Equal(field, answer["field"]?.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(answer["error"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Storage_failing_during_a_replay_answers_503_with_retry_after()
    {
        await using var app = await AppHarness.StartAsync(storage: TestStorage.Unreachable());
        var request = app.Request("POST", """{ "from": "2025-11-29T00:00:00Z" }""");
        var result = (ContentResult)await app.Function<ReplayFunction>().Run(request, CancellationToken.None);
        Assert.Equal(503, result.StatusCode);
        Assert.Equal("30", request.HttpContext.Response.Headers.RetryAfter.ToString());
        Assert.Contains("Call again", JsonNode.Parse(result.Content!)!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_command_that_failed_after_its_retries_can_be_replayed()
    {
        await using var app = await AppHarness.StartAsync(new() { ["Retries:GiveUpAfter"] = "00:10:00" }, fakeTime: true);
        var order = app.Spp.Store.AddOrder();
        app.Spp.InjectFault(FaultRule.Fail(503, times: null, method: "PUT"));
        await app.SendCommandAsync(
            $$"""{ "id": "sync-9", "type": "api_call", "method": "PUT", "path": "orders/{{order["id"]}}", "body": { "note": "n" } }""");
        var driver = app.Driver();
        await driver.DrainAsync();
        var row = Assert.Single(await app.RowsAsync(app.Names.EventsTable));
        Assert.Equal(EventStatus.Failed, row.GetString("Status"));
        Assert.Contains("Gave up after 6 attempt(s) over 10 min", row.GetString("Error"));
        Assert.Equal(5, driver.Retries.Count); // 0.5, 1.5, 3.5, 8.5 min and the end of the window
        Assert.All(driver.Retries, r => Assert.Equal(app.Names.CommandsQueue, r.Queue));

        app.Spp.ClearFaults();
        var (_, report) = await Replay(app, $$"""{ "ids": ["{{row.RowKey}}"] }""");
        await app.Driver().DrainAsync();

        Assert.Single(report["replayed"]!.AsArray());
        var after = Assert.Single(await app.RowsAsync(app.Names.EventsTable));
        Assert.Equal(EventStatus.Succeeded, after.GetString("Status"));
        Assert.Equal("n", app.Spp.Store.GetOrder(order["id"]!.ToString())!["note"]!.GetValue<string>());
    }
}
