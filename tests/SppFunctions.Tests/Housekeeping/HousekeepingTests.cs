using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SppFunctions.Events;
using SppFunctions.FakeSpp;
using SppFunctions.Functions.Housekeeping;
using SppFunctions.Housekeeping;
using SppFunctions.Polling;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;

namespace SppFunctions.Tests.Housekeeping;

/// <summary>
/// The daily clean-up against Azurite: events go through intake and processing for real (so rows, action records,
/// own-message entries and blobs are what the app writes), then the fake clock moves past the retentions.
/// </summary>
public class HousekeepingTests
{
    /// <summary>order.created posts a message (an action record and an own-message entry); invoice.paid fails (a kept payload).</summary>
    private const string Rules = """
        [
          { "name": "welcome", "on": "order.created", "actions": [{ "type": "create_order_message", "order": "{{ data.id }}",
              "message": "Thanks" }] },
          { "name": "broken", "on": "invoice.paid", "actions": [{ "type": "create_order_message", "order": "{{ data.no_such_field }}",
              "message": "x" }] }
        ]
        """;

    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private sealed class World : IAsyncDisposable
    {
        public required AppHarness App { get; init; }
        public FakeTimeProvider Time => App.Time!;
        public StorageNames Names => App.Names;
        public HousekeepingService Housekeeping => App.Get<HousekeepingService>();

        /// <summary>
        /// The app with a fake clock that starts at the real time: blobs carry the storage server's real LastModified,
        /// and the clean-up compares it with the app's clock.
        /// </summary>
        public static async Task<World> StartAsync(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
        {
            var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            return new World { App = await AppHarness.StartAsync(settings, rules: Rules, time: new FakeTimeProvider(now), services: services) };
        }

        public long Now => Time.GetUtcNow().ToUnixTimeSeconds();

        /// <summary>Posts an order.created webhook (SPP time <paramref name="created"/>, default now) and processes it; returns the event
        /// id.</summary>
        public async Task<string> OrderCreatedAsync(long? created = null, int payloadBytes = 0)
        {
            var order = FakeSppWebhooks.OldStyleOrder(App.Spp.Store.AddOrder(status: "Pending"));
            if (payloadBytes > 0) order["note"] = new string('x', payloadBytes);
            return await PostAndProcessAsync("order.created", order, created);
        }

        /// <summary>Posts an invoice.paid webhook, whose rule fails, and processes it; returns the event id.</summary>
        public Task<string> FailingEventAsync(long? created = null)
        {
            var data = WebhookTestKit.SampleData("invoice.paid");
            data["id"] = Guid.NewGuid().ToString("N")[..8];
            return PostAndProcessAsync("invoice.paid", data, created);
        }

        /// <summary>Sends a create_order_message command and processes it; returns the id of its event-log row.</summary>
        public async Task<string> CommandAsync(string id)
        {
            var order = App.Spp.Store.AddOrder();
            await App.SendCommandAsync(
                $$"""{ "id": "{{id}}", "type": "create_order_message", "order": "{{order["id"]}}", "message": "From the CRM" }""");
            await App.Driver().DrainAsync();
            // The command's log-id row names its event-log row.
            var eventId = (await ActionRowsOf($"cmd-{id}")).Single(r => r.RowKey == "log").GetString("EventId");
            Assert.Equal(EventStatus.Succeeded, (await RowAsync(eventId))!.Status);
            return eventId;
        }

        private async Task<string> PostAndProcessAsync(string eventName, JsonObject data, long? created)
        {
            var answer = await WebhookTestKit.PostAsync(App, WebhookTestKit.Envelope(eventName, data, created: created ?? Now));
            Assert.Equal(202, answer.Status);
            await App.Driver().DrainAsync();
            return answer.Body["id"]!.GetValue<string>();
        }

        public Task<HousekeepingSummary> RunAsync() => Housekeeping.RunAsync(CancellationToken.None);

        public async Task<EventEntry?> RowAsync(string id) => await App.EventRowAsync(id);

        /// <summary>The action records of an event (in its partition of the events table) or command (in SppActions).</summary>
        public async Task<IReadOnlyList<TableEntity>> ActionRowsOf(string scope) =>
            (await App.ActionRecordRowsAsync()).Where(r => r.PartitionKey == scope).ToList();

        public async Task<IReadOnlyList<string>> OwnMessageScopesAsync() =>
            (await App.RowsAsync(Names.ActionsTable)).Where(r => r.PartitionKey.StartsWith("own-",
                StringComparison.Ordinal)).Select(r => r.GetString("Scope")).ToList();

        public async Task<IReadOnlyList<string>> BlobsOf(string id) =>
            (await App.BlobsAsync(Names.PayloadContainer)).Where(b => b.StartsWith(id, StringComparison.Ordinal)).ToList();

        public BlobContainerClient Container => App.Get<BlobServiceClient>().GetBlobContainerClient(Names.PayloadContainer);

        public TableClient Table(string name) => App.Get<TableServiceClient>().GetTableClient(name);

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    [Fact]
    public async Task Expired_dedupe_records_are_purged_and_live_ones_kept()
    {
        // Only an earlier version wrote dedupe records (the event's row is the record now): they go as they expire.
        await using var world = await World.StartAsync();
        var now = world.Time.GetUtcNow();
        await LegacyLayout.AddDedupeRecordAsync(world.App, EventIds.Create("order.created", "1", 1764403200, "a"), now - Day);
        await LegacyLayout.AddDedupeRecordAsync(world.App, EventIds.Create("order.created", "2", 1764403200, "b"), now - TimeSpan.FromMinutes(1));
        await LegacyLayout.AddDedupeRecordAsync(world.App, EventIds.Create("order.created", "3", 1764403200, "c"), now + Day);
        await world.OrderCreatedAsync();
        await world.OrderCreatedAsync();
        await world.OrderCreatedAsync();

        var summary = await world.RunAsync();

        Assert.Equal(2, summary.DedupeRecords);
        Assert.Single(await world.App.RowsAsync(world.Names.DedupeTable));
        // Nothing else is old enough.
        Assert.Equal(2, summary.Deleted);
        Assert.Equal(3, (await world.App.EventRowsAsync()).Count);
    }

    [Fact]
    public async Task Poll_runs_older_than_the_retention_are_deleted()
    {
        await using var world = await World.StartAsync();
        var runs = world.App.Get<PollRunStore>();
        var now = world.Time.GetUtcNow();
        foreach (var age in new[] { 10 * Day, 8 * Day, 7 * Day + TimeSpan.FromMinutes(1), 7 * Day - TimeSpan.FromMinutes(1), TimeSpan.FromHours(1) })
        {
            await runs.AddAsync(new PollRun { StartedAt = now - age }, CancellationToken.None);
        }

        var summary = await world.RunAsync();

        Assert.Equal(3, summary.PollRuns);
        var left = await runs.LatestAsync(10, CancellationToken.None);
        Assert.Equal(new[] { now - TimeSpan.FromHours(1), now - 7 * Day + TimeSpan.FromMinutes(1) }, left.Select(r => r.StartedAt));
    }

    [Fact]
    public async Task Succeeded_events_go_with_their_action_records_own_message_entries_and_payload_blobs()
    {
        await using var world = await World.StartAsync();
        var small = await world.OrderCreatedAsync();
        var large = await world.OrderCreatedAsync(payloadBytes: 60_000);
        var command = await world.CommandAsync("crm-4711");
        Assert.Single(await world.BlobsOf(large)); // the claim-check blob
        // The rule's action (the watch-set updater is idempotent and keeps none).
        var orderRecords = (await world.ActionRowsOf(small)).Count;
        Assert.Equal(1, orderRecords);
        Assert.Equal(2, (await world.ActionRowsOf("cmd-crm-4711")).Count); // the action and the log-id row
        Assert.Equal(3, (await world.OwnMessageScopesAsync()).Count);

        world.Time.Advance(31 * Day);
        var recent = await world.OrderCreatedAsync();
        var recentCommand = await world.CommandAsync("crm-4712");
        var summary = await world.RunAsync();

        foreach (var id in new[] { small, large, command }) Assert.Null(await world.RowAsync(id));
        Assert.Empty(await world.ActionRowsOf(small));
        Assert.Empty(await world.ActionRowsOf(large));
        Assert.Empty(await world.ActionRowsOf("cmd-crm-4711"));
        Assert.Empty(await world.BlobsOf(large));
        Assert.Equal(new[] { recent, "cmd-crm-4712" }.Order(), (await world.OwnMessageScopesAsync()).Order());
        Assert.Equal(3, summary.SucceededEvents);
        Assert.Equal(0, summary.FailedEvents);
        Assert.Equal(2 * orderRecords + 2, summary.ActionRecords);
        Assert.Equal(3, summary.OwnMessageRecords);
        Assert.Equal(1, summary.PayloadBlobs);
        Assert.Equal(0, summary.DedupeRecords); // the event's row is its dedupe record: no separate one
        Assert.Empty(summary.Unfinished);
        Assert.Equal(0, summary.Errors);

        // The event and the command of today keep everything.
        Assert.Equal(EventStatus.Succeeded, (await world.RowAsync(recent))!.Status);
        Assert.Equal(orderRecords, (await world.ActionRowsOf(recent)).Count);
        Assert.NotNull(await world.RowAsync(recentCommand));
        Assert.Equal(2, (await world.ActionRowsOf("cmd-crm-4712")).Count);

        // And the summary was logged.
        Assert.Contains(world.App.Logs.GetSnapshot(),
            r => r.Message.StartsWith("Housekeeping deleted 0 dedupe records, 0 poll runs, 3 succeeded and 0 failed events",
                StringComparison.Ordinal));
    }

    [Fact]
    public async Task Failed_events_are_kept_for_replay_until_their_own_longer_retention()
    {
        await using var world = await World.StartAsync();
        var failed = await world.FailingEventAsync();
        Assert.Equal(EventStatus.Failed, (await world.RowAsync(failed))!.Status);
        Assert.Single(await world.BlobsOf(failed)); // the kept payload
        Assert.Single(await world.ActionRowsOf(failed));

        world.Time.Advance(31 * Day);
        var first = await world.RunAsync();

        Assert.Equal(0, first.FailedEvents);
        Assert.NotNull(await world.RowAsync(failed));
        Assert.Single(await world.BlobsOf(failed));
        Assert.Single(await world.ActionRowsOf(failed));

        world.Time.Advance(60 * Day); // 91 days
        var second = await world.RunAsync();

        Assert.Equal(1, second.FailedEvents);
        Assert.Equal(1, second.ActionRecords);
        Assert.Equal(1, second.PayloadBlobs);
        Assert.Null(await world.RowAsync(failed));
        Assert.Empty(await world.BlobsOf(failed));
        Assert.Empty(await world.ActionRowsOf(failed));
    }

    [Fact]
    public async Task An_event_that_changes_while_the_clean_up_reads_it_keeps_everything()
    {
        // E.g. a replay of an old failed event: the row's ETag changes between the read and the delete. Two events of
        // one day go in one transaction, which then fails as a whole; the unchanged one still goes.
        var log = default(TouchingEventLog);
        await using var world = await World.StartAsync(services: s => s.AddSingleton<EventStore>(sp =>
            log = new TouchingEventLog(sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<StorageNames>())));
        var first = await world.OrderCreatedAsync();
        var second = await world.OrderCreatedAsync();
        var records = (await world.ActionRowsOf(first)).Count;
        world.Time.Advance(31 * Day);
        var touched = string.CompareOrdinal(first, second) < 0 ? first : second; // the first one read
        var other = touched == first ? second : first;

        var summary = await world.RunAsync();

        Assert.Equal([touched], log!.Touched);
        Assert.Equal(1, summary.SucceededEvents);
        Assert.Null(await world.RowAsync(other));
        Assert.Empty(await world.ActionRowsOf(other));
        Assert.NotNull(await world.RowAsync(touched));
        Assert.Equal(records, (await world.ActionRowsOf(touched)).Count);
        Assert.Equal([touched], await world.OwnMessageScopesAsync());
    }

    /// <summary>An event log whose first row read by the clean-up changes (another writer) right after the read.</summary>
    private sealed class TouchingEventLog(TableServiceClient tables, StorageNames names) : EventStore(tables, names)
    {
        public List<string> Touched { get; } = [];

        public override async IAsyncEnumerable<EventEntry> QueryRetentionCandidatesAsync(
            DateTimeOffset succeededBefore, DateTimeOffset anyBefore,
                [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var entry in base.QueryRetentionCandidatesAsync(succeededBefore, anyBefore, cancellationToken))
            {
                if (Touched.Count == 0)
                {
                    await Table.UpdateEntityAsync(new TableEntity(entry.PartitionKey, entry.RowKey) { ["Touched"] = true }, Azure.ETag.All,
                        TableUpdateMode.Merge, cancellationToken);
                    Touched.Add(entry.RowKey);
                }
                yield return entry;
            }
        }
    }

    [Fact]
    public async Task An_old_event_received_or_replayed_lately_is_kept()
    {
        await using var world = await World.StartAsync();
        // SPP time 200 days ago (an old partition), but received and finished today.
        var late = await world.OrderCreatedAsync(created: world.Now - (long)(200 * Day).TotalSeconds);
        var lateFailure = await world.FailingEventAsync(created: world.Now - (long)(200 * Day).TotalSeconds);

        var summary = await world.RunAsync();

        Assert.Equal(0, summary.SucceededEvents + summary.FailedEvents + summary.ActionRecords + summary.PayloadBlobs);
        Assert.NotNull(await world.RowAsync(late));
        Assert.NotNull(await world.RowAsync(lateFailure));
        Assert.NotEmpty(await world.ActionRowsOf(late));
        Assert.Single(await world.BlobsOf(lateFailure));

        world.Time.Advance(31 * Day);
        Assert.Equal(1, (await world.RunAsync()).SucceededEvents);
        Assert.Null(await world.RowAsync(late));
        Assert.NotNull(await world.RowAsync(lateFailure));
    }

    [Fact]
    public async Task A_second_run_has_nothing_to_do()
    {
        await using var world = await World.StartAsync();
        await world.OrderCreatedAsync();
        await world.OrderCreatedAsync(payloadBytes: 60_000);
        await world.FailingEventAsync();
        await world.CommandAsync("crm-1");
        await world.App.Get<PollRunStore>().AddAsync(new PollRun { StartedAt = world.Time.GetUtcNow() }, CancellationToken.None);
        world.Time.Advance(100 * Day);

        var first = await world.RunAsync();
        var second = await world.RunAsync();

        Assert.True(first.Deleted > 0);
        Assert.Equal(3, first.SucceededEvents);
        Assert.Equal(1, first.FailedEvents);
        Assert.Equal(0, second.Deleted);
        Assert.Empty(second.Unfinished);
        Assert.Empty(await world.App.RowsAsync(world.Names.EventsTable));
        Assert.Empty(await world.App.RowsAsync(world.Names.ActionsTable));
        Assert.Empty(await world.App.RowsAsync(world.Names.DedupeTable));
        Assert.Empty(await world.App.RowsAsync(world.Names.PollRunsTable));
        Assert.Empty(await world.App.BlobsAsync(world.Names.PayloadContainer));
    }

    [Fact]
    public async Task Each_run_deletes_at_most_the_limit_of_each_kind_and_later_runs_finish_the_rest()
    {
        await using var world = await World.StartAsync(new() { ["Housekeeping:MaxDeletesPerRun"] = "3" });
        for (var i = 0; i < 7; i++) await world.OrderCreatedAsync();
        // Dedupe records only an earlier version wrote, expiring with its events (docs/UPGRADING.md).
        for (var i = 0; i < 7; i++)
        {
            await LegacyLayout.AddDedupeRecordAsync(world.App, EventIds.Create("order.created", $"{i}", 1764403200, "old"),
                world.Time.GetUtcNow() + 7 * Day);
        }
        var records = (await world.App.ActionRecordRowsAsync()).Count;
        world.Time.Advance(31 * Day);

        var summaries = new List<HousekeepingSummary>();
        for (var run = 0; run < 10; run++)
        {
            var summary = await world.RunAsync();
            summaries.Add(summary);
            if (summary.Deleted == 0) break;
        }

        Assert.All(summaries, s =>
        {
            Assert.InRange(s.DedupeRecords, 0, 3);
            Assert.InRange(s.SucceededEvents + s.FailedEvents, 0, 3);
            Assert.InRange(s.ActionRecords, 0, 3);
            Assert.InRange(s.OwnMessageRecords, 0, 3);
        });
        Assert.Contains("events", summaries[0].Unfinished);
        Assert.Contains("dedupe records", summaries[0].Unfinished);
        Assert.True(summaries.Count >= 4, $"{summaries.Count} runs");
        Assert.Empty(summaries[^1].Unfinished);
        Assert.Equal(0, summaries[^1].Deleted);
        Assert.Equal(7, summaries.Sum(s => s.SucceededEvents));
        Assert.Equal(7, summaries.Sum(s => s.DedupeRecords));
        Assert.Equal(records, summaries.Sum(s => s.ActionRecords));
        Assert.Equal(7, summaries.Sum(s => s.OwnMessageRecords));
        Assert.Empty(await world.App.RowsAsync(world.Names.EventsTable));
        Assert.Empty(await world.App.RowsAsync(world.Names.ActionsTable));
    }

    [Fact]
    public async Task Many_rows_go_in_transactions_of_up_to_a_hundred()
    {
        await using var world = await World.StartAsync();
        var now = world.Time.GetUtcNow();
        var runs = world.App.Get<PollRunStore>();
        for (var i = 0; i < 250; i++) await runs.AddAsync(new PollRun { StartedAt = now - 8 * Day - TimeSpan.FromMinutes(i) },
            CancellationToken.None);
        await runs.AddAsync(new PollRun { StartedAt = now }, CancellationToken.None);

        var summary = await world.RunAsync();

        Assert.Equal(250, summary.PollRuns);
        Assert.Single(await world.App.RowsAsync(world.Names.PollRunsTable));
    }

    [Fact]
    public async Task Leftovers_of_an_interrupted_run_are_found_by_the_next_one_and_nothing_unknown_is_touched()
    {
        await using var world = await World.StartAsync();
        var old = EventIds.Create("order.created", "1", world.Now, "orphan");
        var recent = EventIds.Create("order.created", "2", world.Now + (long)(31 * Day).TotalSeconds, "fresh");
        var actions = world.Table(world.Names.ActionsTable);
        await actions.CreateIfNotExistsAsync();
        await actions.AddEntityAsync(new TableEntity(old, "welcome.0") { ["Status"] = "succeeded" });
        await actions.AddEntityAsync(new TableEntity("own-messages", "901") { ["Scope"] = old });
        await actions.AddEntityAsync(new TableEntity("own-messages", "902") { ["Scope"] = "cmd-gone" });
        await actions.AddEntityAsync(new TableEntity("own-messages", "903") { ["Scope"] = "something else" });
        await world.Container.CreateIfNotExistsAsync();
        foreach (var name in new[] { $"{old}/abc.json", $"{old}.json", "notes.txt", $"{recent}/def.json" })
        {
            await world.Container.UploadBlobAsync(name, BinaryData.FromString("{}"));
        }
        world.Time.Advance(31 * Day);

        var summary = await world.RunAsync();

        Assert.Equal(1, summary.ActionRecords);
        Assert.Equal(2, summary.OwnMessageRecords);
        Assert.Equal(2, summary.PayloadBlobs);
        Assert.Equal(["903"], (await world.App.RowsAsync(world.Names.ActionsTable)).Select(r => r.RowKey));
        Assert.Equal(new[] { $"{recent}/def.json", "notes.txt" }.Order(), (await world.App.BlobsAsync(world.Names.PayloadContainer)).Order());
    }

    [Fact]
    public async Task A_run_stops_at_its_time_limit_and_says_what_is_left()
    {
        await using var world = await World.StartAsync(
            new() { ["Housekeeping:MaxRunTime"] = "00:01:00" },
            services: s => s.AddSingleton<DedupeStore>(sp => new SlowDedupeStore(sp.GetRequiredService<TableServiceClient>(),
                sp.GetRequiredService<StorageNames>(), sp.GetRequiredService<TimeProvider>())));
        await world.App.Get<PollRunStore>().AddAsync(new PollRun { StartedAt = world.Time.GetUtcNow() }, CancellationToken.None);
        world.Time.Advance(8 * Day);

        var summary = await world.RunAsync();

        Assert.Equal(["dedupe records", "poll runs", "events", "action records", "command records", "own-message records", "payload blobs"],
            summary.Unfinished);
        Assert.Equal(0, summary.Errors);
        Assert.Single(await world.App.RowsAsync(world.Names.PollRunsTable));
    }

    /// <summary>A dedupe store whose purge takes two (fake) minutes.</summary>
    private sealed class SlowDedupeStore(TableServiceClient tables, StorageNames names, TimeProvider time) : DedupeStore(tables, names, time)
    {
        private readonly FakeTimeProvider _clock = (FakeTimeProvider)time;

        public override async Task<int> PurgeExpiredAsync(int maxRecords, CancellationToken cancellationToken)
        {
            _clock.Advance(TimeSpan.FromMinutes(2));
            cancellationToken.ThrowIfCancellationRequested();
            return await base.PurgeExpiredAsync(maxRecords, cancellationToken);
        }
    }

    [Fact]
    public async Task Turned_off_it_deletes_nothing()
    {
        await using var world = await World.StartAsync(new() { ["Housekeeping:Enabled"] = "false" });
        await world.OrderCreatedAsync();
        world.Time.Advance(100 * Day);

        var summary = await world.RunAsync();

        Assert.False(summary.Enabled);
        Assert.Equal(0, summary.Deleted);
        Assert.Single(await world.App.EventRowsAsync());
        Assert.Single(await world.App.ActionRecordRowsAsync());
    }

    [Fact]
    public async Task The_timer_function_runs_the_clean_up()
    {
        await using var world = await World.StartAsync();
        await world.OrderCreatedAsync();
        world.Time.Advance(31 * Day);

        await world.App.Function<HousekeepingFunction>().Run(new Microsoft.Azure.Functions.Worker.TimerInfo(), CancellationToken.None);

        Assert.Empty(await world.App.RowsAsync(world.Names.EventsTable));
    }

    [Theory]
    [InlineData("Housekeeping:Schedule", "daily", "Housekeeping__Schedule must be an NCRONTAB expression")]
    [InlineData("Housekeeping:EventRetention", "12:00:00", "Housekeeping__EventRetention must be at least 1.00:00:00")]
    [InlineData("Housekeeping:FailedEventRetention", "10.00:00:00",
        "Housekeeping__FailedEventRetention must be at least Housekeeping__EventRetention")]
    [InlineData("Housekeeping:PollRunRetention", "00:10:00", "Housekeeping__PollRunRetention must be at least 01:00:00")]
    [InlineData("Housekeeping:MaxDeletesPerRun", "0", "Housekeeping__MaxDeletesPerRun must be between 1 and 1000000")]
    [InlineData("Housekeeping:MaxRunTime", "02:00:00", "Housekeeping__MaxRunTime must be between 00:00:10 and 01:00:00")]
    public async Task Bad_settings_stop_the_app_with_a_message_naming_the_setting(string setting, string value, string message)
    {
        await using var app = await AppHarness.StartAsync(new() { [setting] = value });
        var ex = Assert.Throws<OptionsValidationException>(() => app.Get<IOptions<HousekeepingOptions>>().Value);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public async Task Defaults_are_7_30_and_90_days_and_the_sample_runs_daily_at_half_past_three()
    {
        await using var app = await AppHarness.StartAsync();
        var options = app.Get<IOptions<HousekeepingOptions>>().Value;
        Assert.Equal("0 30 3 * * *", HousekeepingOptions.DefaultSchedule);
        Assert.Contains("\"Housekeeping__Schedule\": \"0 30 3 * * *\"", File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot,
            "local.settings.sample.json")));
        Assert.Equal(TimeSpan.FromDays(7), options.PollRunRetention);
        Assert.Equal(TimeSpan.FromDays(30), options.EventRetention);
        Assert.Equal(TimeSpan.FromDays(90), options.FailedEventRetention);
    }
}
