using System.Text.Json.Nodes;
using SppFunctions.Events;
using SppFunctions.FakeSpp;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Cli.CliTestKit;

namespace SppFunctions.Tests.Cli;

/// <summary><c>sppfn events list/show/replay</c> against Azurite, with events processed by the app's rules against the fake SPP.</summary>
public class EventsCommandTests
{
    private const string Rules = """
        [{ "name": "greet", "on": "order.created", "actions": [
          { "type": "create_order_message", "order": "{{ data.id }}", "message": "Thanks!" }
        ]}]
        """;

    /// <summary>One succeeded event (its order exists) and one failed event (its order does not: SPP answers 404, a permanent failure).</summary>
    private static async Task<(EventMessage Ok, EventMessage Failed, JsonObject Order)> ProcessTwoAsync(AppHarness app)
    {
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        var ok = await app.EnqueueEventAsync("order.created", order, created: SampleWebhooks.Created);
        var missing = SampleWebhooks.Data("order.created", variant: 99);
        var failed = await app.EnqueueEventAsync("order.created", missing, created: SampleWebhooks.Created + 60);
        await app.Driver().DrainAsync();
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(ok.Id))!.Status);
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(failed.Id))!.Status);
        return (ok, failed, order);
    }

    [Fact]
    public async Task List_shows_the_event_log_newest_first_and_filters_by_status_name_and_time()
    {
        await using var app = await AppHarness.StartAsync(rules: Rules);
        var (ok, failed, _) = await ProcessTwoAsync(app);
        var other = await app.EnqueueEventAsync("invoice.paid", SampleWebhooks.Data("invoice.paid"), created: SampleWebhooks.Created + 120);
        await app.Driver().DrainAsync();

        var all = await RunAsync(app, "events", "list", "--json");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal(new[] { other.Id, failed.Id, ok.Id }, all.Json.AsArray().Select(e => e!["id"]!.GetValue<string>()));
        var failedRow = all.Json.AsArray().Single(e => e!["id"]!.GetValue<string>() == failed.Id)!;
        Assert.Equal("failed", failedRow["status"]!.GetValue<string>());
        Assert.Equal("order.created", failedRow["event"]!.GetValue<string>());
        Assert.Contains("404", failedRow["error"]!.GetValue<string>());

        var onlyFailed = await RunAsync(app, "events", "list", "--status", "failed", "--json");
        Assert.Equal(new[] { failed.Id }, onlyFailed.Json.AsArray().Select(e => e!["id"]!.GetValue<string>()));

        var orders = await RunAsync(app, "events", "list", "--name", "order.*", "--json");
        Assert.Equal(new[] { failed.Id, ok.Id }, orders.Json.AsArray().Select(e => e!["id"]!.GetValue<string>()));

        var range = await RunAsync(app, "events", "list", "--from", "2025-11-29T08:00:30Z", "--to", "2025-11-29T08:01:30Z", "--json");
        Assert.Equal(new[] { failed.Id }, range.Json.AsArray().Select(e => e!["id"]!.GetValue<string>()));

        var relative = await RunAsync(app, "events", "list", "--from", "3650d", "--json");
        Assert.Equal(3, relative.Json.AsArray().Count);
        var future = await RunAsync(app, "events", "list", "--from", "1h", "--json");
        Assert.Empty(future.Json.AsArray());

        var newest = await RunAsync(app, "events", "list", "--limit", "1", "--json");
        Assert.Equal(new[] { other.Id }, newest.Json.AsArray().Select(e => e!["id"]!.GetValue<string>()));

        var table = await RunAsync(app, "events", "list", "--status", "succeeded");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(ok.Id, table.Out);
        Assert.Contains(other.Id, table.Out);
        Assert.DoesNotContain(failed.Id, table.Out);
        Assert.Contains("2025-11-29 08:00:00", table.Out);
        Assert.Contains("2 event(s), newest first.", table.Out);

        var none = await RunAsync(app, "events", "list", "--name", "ticket.created");
        Assert.Equal("No events match.", none.Out.Trim());
        AssertNoSecrets(all, Secrets(app));
    }

    [Fact]
    public async Task Show_prints_the_log_row_with_its_action_records_and_the_kept_payload()
    {
        await using var app = await AppHarness.StartAsync(rules: Rules);
        var (ok, failed, order) = await ProcessTwoAsync(app);

        var shown = await RunAsync(app, "events", "show", ok.Id, "--json");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Equal(ok.Id, shown.Json["event"]!["id"]!.GetValue<string>());
        Assert.Equal("succeeded", shown.Json["event"]!["status"]!.GetValue<string>());
        var action = shown.Json["actions"]!.AsArray().Single(a => a!["key"]!.GetValue<string>() == "greet.0")!;
        Assert.Equal("greet.0", action["key"]!.GetValue<string>());
        Assert.Equal("create_order_message", action["type"]!.GetValue<string>());
        Assert.Equal("succeeded", action["status"]!.GetValue<string>());
        var messageId = app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()).Single()["id"]!.ToString();
        Assert.Equal(messageId, action["result"]!.GetValue<string>());

        var failedShown = await RunAsync(app, "events", "show", failed.Id, "--payload");
        Assert.True(failedShown.ExitCode == 0, failedShown.ToString());
        Assert.Matches(@"Status\s+failed", failedShown.Out);
        Assert.Matches(@"greet\.0\s+create_order_message\s+failed", failedShown.Out);
        Assert.Contains("\"event\": \"order.created\"", failedShown.Out); // the payload kept for replay
        Assert.Contains(SampleWebhooks.Data("order.created", variant: 99)["id"]!.GetValue<string>(), failedShown.Out);
        AssertNoSecrets(failedShown, Secrets(app));
    }

    [Fact]
    public async Task Show_of_a_command_finds_its_action_records_under_the_command_id()
    {
        await using var app = await AppHarness.StartAsync();
        var number = app.Spp.Store.AddOrder()["number"]!.GetValue<string>();
        await app.SendCommandAsync($$"""{"id": "crm-4711", "type": "create_order_message", "order": "{{number}}", "message": "<p>Hi</p>"}""");
        await app.Driver().DrainAsync();

        var list = await RunAsync(app, "events", "list", "--name", "command.*", "--json");
        var id = list.Json.AsArray().Single()!["id"]!.GetValue<string>();
        var shown = await RunAsync(app, "events", "show", id, "--json");

        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Equal("cmd-crm-4711", shown.Json["actionScope"]!.GetValue<string>());
        var action = shown.Json["actions"]!.AsArray().Single()!;
        Assert.Equal("create_order_message", action["type"]!.GetValue<string>());
        Assert.Equal("succeeded", action["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Show_of_an_unknown_or_malformed_id_fails_clearly()
    {
        await using var app = await AppHarness.StartAsync();
        var missing = await RunAsync(app, "events", "show", "1764403200-000000000000000000000000");
        AssertFails(missing, 1, "No event 1764403200-000000000000000000000000 in the event log.");
        var malformed = await RunAsync(app, "events", "show", "12345");
        AssertFails(malformed, 2, "'12345' is not an event id");
    }

    [Fact]
    public async Task Replay_requeues_a_failed_event_by_id_like_the_replay_function_and_it_then_succeeds()
    {
        await using var app = await AppHarness.StartAsync(rules: Rules);
        var (ok, failed, _) = await ProcessTwoAsync(app);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));

        var run = await RunAsync(app, "events", "replay", failed.Id);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Replayed 1 event(s)", run.Out);
        Assert.Contains(failed.Id, run.Out);
        var requeued = EventMessage.Parse((await app.PeekAllAsync(app.Names.EventsQueue)).Single().Body.ToString());
        Assert.Equal(failed.Id, requeued.Id);
        Assert.Equal(EventSources.Replay, requeued.Source);
        Assert.Equal(1, requeued.Replay);
        var row = (await app.EventRowAsync(failed.Id))!;
        Assert.Equal(EventStatus.Received, row.Status);
        Assert.Equal(1, row.Replays);

        // Once the order exists, the replayed event succeeds.
        app.Spp.Store.AddOrder(customize: o => o["number"] = SampleWebhooks.Data("order.created", variant: 99)["id"]!.GetValue<string>());
        await app.Driver().DrainAsync();
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(failed.Id))!.Status);

        // A succeeded event is not replayed: exit 1 with the reason.
        var again = await RunAsync(app, "events", "replay", ok.Id, "--json");
        Assert.Equal(1, again.ExitCode);
        Assert.Empty(again.Json["replayed"]!.AsArray());
        Assert.Contains("only failed events are replayed", again.Json["skipped"]![0]!["reason"]!.GetValue<string>());
        Assert.Contains("1 event(s) were not replayed", again.Error);
    }

    [Fact]
    public async Task Replay_by_time_range_requeues_only_failed_events_in_the_range()
    {
        await using var app = await AppHarness.StartAsync(rules: Rules);
        var (_, failed, _) = await ProcessTwoAsync(app);
        var outside = await app.EnqueueEventAsync("order.created", SampleWebhooks.Data("order.created", variant: 98), created: 1700000000);
        await app.Driver().DrainAsync();
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(outside.Id))!.Status);

        // Off a terminal, with progress lines as often as they come: a range's count, as its size is not known up front.
        var run = await RunAsync(Environment(app), app.Names, null, interactive: false, progressInterval: TimeSpan.Zero, CancellationToken.None,
            "events", "replay", "--from", "2025-11-29", "--to", "2025-11-30");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Replaying: 1\n", run.Out.ReplaceLineEndings("\n"));
        Assert.Contains("Replayed 1 event(s)", run.Out);
        Assert.Contains(failed.Id, run.Out);
        Assert.DoesNotContain(outside.Id, run.Out);
        Assert.DoesNotContain("More failed events match", run.Out);
        Assert.Equal(new[] { failed.Id }, (await app.PeekAllAsync(app.Names.EventsQueue)).Select(m => EventMessage.Parse(m.Body.ToString()).Id));
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(outside.Id))!.Status);
    }

    [Theory]
    [InlineData(new[] { "events", "list", "--status", "broken" }, "--status 'broken' must be one of: received, processing, succeeded, failed")]
    [InlineData(new[] { "events", "list", "--from", "yesterday" }, "--from 'yesterday' is not a time")]
    [InlineData(new[] { "events", "list", "--from", "2026-11-02", "--to", "2026-11-01" }, "must be before --to")]
    [InlineData(new[] { "events", "list", "--limit", "0" }, "--limit must be between 1 and")]
    [InlineData(new[] { "events", "replay" }, "Name the events to replay: ids, or a time range")]
    [InlineData(new[] { "events", "replay", "--from", "soon" }, "--from 'soon' is not a time")]
    [InlineData(new[] { "events", "show" }, "ID")]
    [InlineData(new[] { "events", "frobnicate" }, "frobnicate")]
    public async Task Bad_events_arguments_exit_2_with_a_message(string[] args, string message)
    {
        var run = await RunAsync(new Dictionary<string, string>(), null, null, args);
        AssertFails(run, 2, message);
    }
}
