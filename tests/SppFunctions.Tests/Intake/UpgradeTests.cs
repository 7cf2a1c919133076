using System.Text.Json.Nodes;
using Azure.Data.Tables;
using SppFunctions.Events;
using SppFunctions.FakeSpp;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Intake;

/// <summary>
/// An app upgraded from the version that kept a separate dedupe table (rows written as that version wrote them, see
/// <see cref="LegacyLayout"/>): a redelivery of an event that version took in is never processed twice, and one whose
/// delivery that version did not finish is queued.
/// </summary>
public class UpgradeTests
{
    private const string WelcomeRule = """
        [{ "name": "welcome", "on": "order.created",
           "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "<p>Thanks {{ data.client.name }}!</p>" }] }]
        """;

    private static async Task<(AppHarness App, JsonObject Envelope, string OrderId)> StartAsync()
    {
        var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        return (app, Envelope("order.created", order), order["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_old_event_still_queued_is_a_duplicate_on_redelivery_and_its_old_message_acts_once()
    {
        var (app, envelope, orderId) = await StartAsync();
        await using var _ = app;
        var old = await LegacyLayout.AddReceivedRowAsync(app, "order.created", envelope, DateTimeOffset.UtcNow);
        await LegacyLayout.SendAsync(app, old);
        await LegacyLayout.AddDedupeRecordAsync(app, old.Id, DateTimeOffset.UtcNow.AddDays(7));

        var again = await PostAsync(app, envelope);

        Assert.Equal(200, again.Status);
        Assert.Equal(old.Id, again.Body["id"]!.GetValue<string>());
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
        await app.Driver().DrainAsync();
        Assert.Single(app.Spp.Store.GetOrderMessages(orderId));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(old.Id))!.Status);
        Assert.Equal(200, (await PostAsync(app, envelope)).Status);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));
    }

    [Fact]
    public async Task An_old_event_processed_before_the_upgrade_is_a_duplicate_after_its_dedupe_record_expired()
    {
        var (app, envelope, orderId) = await StartAsync();
        await using var _ = app;
        var old = await LegacyLayout.AddReceivedRowAsync(app, "order.created", envelope, DateTimeOffset.UtcNow.AddDays(-8));
        var table = app.Get<TableServiceClient>().GetTableClient(app.Names.EventsTable);
        await table.UpdateEntityAsync(new TableEntity(EventIds.Partition(old.Id), old.Id) { ["Status"] = EventStatus.Succeeded }, Azure.ETag.All);
        await LegacyLayout.AddDedupeRecordAsync(app, old.Id, DateTimeOffset.UtcNow.AddDays(-1));

        Assert.Equal(200, (await PostAsync(app, envelope)).Status);

        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));
        Assert.Empty(app.Spp.Store.GetOrderMessages(orderId));
    }

    [Fact]
    public async Task An_old_delivery_that_died_before_its_message_was_sent_is_queued_on_redelivery_and_acts_once()
    {
        var (app, envelope, orderId) = await StartAsync();
        await using var _ = app;
        var old = await LegacyLayout.AddReceivedRowAsync(app, "order.created", envelope, DateTimeOffset.UtcNow.AddMinutes(-5));

        var again = await PostAsync(app, envelope);

        Assert.Equal(202, again.Status);
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
        Assert.NotNull((await app.EventRowAsync(old.Id))!.QueuedMessage); // taken over: now the proof it was queued
        Assert.Equal(200, (await PostAsync(app, envelope)).Status);
        await app.Driver().DrainAsync();
        Assert.Single(app.Spp.Store.GetOrderMessages(orderId));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(old.Id))!.Status);
    }

    [Fact]
    public async Task An_old_message_redelivered_after_the_old_version_posted_its_message_does_not_post_again()
    {
        var (app, envelope, orderId) = await StartAsync();
        await using var _ = app;
        var old = await LegacyLayout.AddReceivedRowAsync(app, "order.created", envelope, DateTimeOffset.UtcNow.AddMinutes(-5));
        await LegacyLayout.SendAsync(app, old);
        await LegacyLayout.AddDedupeRecordAsync(app, old.Id, DateTimeOffset.UtcNow.AddDays(7));
        var posted = app.Spp.Store.AddOrderMessage(orderId, "<p>Thanks!</p>");
        await LegacyLayout.AddSucceededActionAsync(app, old.Id, "welcome.0", posted["id"]!.ToString());

        await app.Driver().DrainAsync();

        Assert.Single(app.Spp.Store.GetOrderMessages(orderId));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(old.Id))!.Status);
    }

    [Fact]
    public async Task A_first_delivery_of_a_message_of_the_previous_version_finds_the_action_that_version_recorded_and_does_not_act_again()
    {
        // E.g. a second copy of the message, which the previous version processed (records in SppActions) before the upgrade.
        var (app, envelope, orderId) = await StartAsync();
        await using var _ = app;
        var answer = await PostAsync(app, envelope);
        var id = answer.Body["id"]!.GetValue<string>();
        var text = await LegacyLayout.DowngradeQueuedMessageAsync(app);
        var posted = app.Spp.Store.AddOrderMessage(orderId, "<p>Thanks!</p>");
        await LegacyLayout.AddSucceededActionAsync(app, id, "welcome.0", posted["id"]!.ToString());

        await app.Get<SppFunctions.Processing.EventProcessor>().ProcessAsync(text, 1, CancellationToken.None);

        Assert.Single(app.Spp.Store.GetOrderMessages(orderId));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
        var record = Assert.Single(await app.Get<SppFunctions.Processing.Actions.ActionRecordStore>().ListAsync(id, CancellationToken.None));
        Assert.False(record.InEventPartition); // read where the previous version wrote it, and no second record
    }

    [Fact]
    public async Task A_first_delivery_of_this_versions_message_looks_where_an_old_instance_may_have_recorded_the_action()
    {
        // A rolling deployment: an old instance processed one copy of the message (records in SppActions); another
        // copy's first delivery reaches a new instance, which must not claim the action blindly beside that record.
        var (app, envelope, orderId) = await StartAsync();
        await using var _ = app;
        var answer = await PostAsync(app, envelope);
        var id = answer.Body["id"]!.GetValue<string>();
        var queued = Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
        Assert.Equal(EventMessage.Current, EventMessage.Parse(queued.Body.ToString()).V);
        var posted = app.Spp.Store.AddOrderMessage(orderId, "<p>Thanks!</p>");
        await LegacyLayout.AddSucceededActionAsync(app, id, "welcome.0", posted["id"]!.ToString());

        await app.Get<SppFunctions.Processing.EventProcessor>().ProcessAsync(queued.Body.ToString(), 1, CancellationToken.None);

        Assert.Single(app.Spp.Store.GetOrderMessages(orderId));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
    }

    [Fact]
    public async Task An_action_an_instance_of_the_previous_version_is_still_running_is_not_run_beside_it()
    {
        // During a rolling upgrade: the old instance has claimed the action (SppActions) when a new one gets the message.
        var (app, envelope, orderId) = await StartAsync();
        await using var _ = app;
        var answer = await PostAsync(app, envelope);
        var id = answer.Body["id"]!.GetValue<string>();
        var text = await LegacyLayout.DowngradeQueuedMessageAsync(app);
        await LegacyLayout.AddClaimedActionAsync(app, id, "welcome.0", DateTimeOffset.UtcNow.AddMinutes(5));

        await app.Get<SppFunctions.Processing.EventProcessor>().ProcessAsync(text, 2, CancellationToken.None);

        Assert.Empty(app.Spp.Store.GetOrderMessages(orderId));
        Assert.Empty(app.Spp.RequestsTo("POST", "/api/order_messages"));
        var row = await app.EventRowAsync(id);
        Assert.Equal(EventStatus.Processing, row!.Status);
        Assert.Contains("held by another attempt", row.Error, StringComparison.Ordinal); // re-scheduled, to find the old one's outcome
        Assert.DoesNotContain(await app.Get<SppFunctions.Processing.Actions.ActionRecordStore>().ListAsync(id, CancellationToken.None),
            r => r.InEventPartition);
    }

    [Fact]
    public async Task A_message_recorded_as_the_apps_own_by_the_old_version_still_triggers_no_rules_and_new_entries_are_spread()
    {
        const string rules = """
            [{ "name": "echo", "on": "order_message.created", "actions": [{ "type": "create_order_message", "order": "{{ data.order_id }}",
                "message": "echo" }] }]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = app.Spp.Store.AddOrder();
        var orderId = order["id"]!.ToString();
        // Posted by the old version; SPP stripped the marker, so only its entry in the old single partition says it is ours.
        var old = app.Spp.Store.AddOrderMessage(orderId, "echo");
        var actions = app.Get<TableServiceClient>().GetTableClient(app.Names.ActionsTable);
        await actions.CreateIfNotExistsAsync();
        await actions.AddEntityAsync(new TableEntity("own-messages", old["id"]!.ToString()) { ["Scope"] = "1764403000-000000000000000000000000" });
        await app.EnqueueEventAsync("order_message.created", new JsonObject { ["id"] = old["id"]!.GetValue<long>(),
            ["order_id"] = order["id"]!.GetValue<long>(), ["message"] = "echo" });
        // A client's message: the rule answers it, and the answer's entry goes to a partition of its own.
        var question = app.Spp.Store.AddOrderMessage(orderId, "question?");
        await app.EnqueueEventAsync("order_message.created", new JsonObject { ["id"] = question["id"]!.GetValue<long>(),
            ["order_id"] = order["id"]!.GetValue<long>(), ["message"] = "question?" });

        await app.Driver().DrainAsync();

        var messages = app.Spp.Store.GetOrderMessages(orderId);
        Assert.Equal(3, messages.Count); // the old one, the question and one answer: the old one was not answered
        var answer = messages.Single(m => m["message"]!.GetValue<string>().Contains("<!-- sppfn:", StringComparison.Ordinal));
        var entry = (await app.RowsAsync(app.Names.ActionsTable)).Single(r => r.RowKey == answer["id"]!.ToString());
        Assert.Equal($"own-{answer["id"]!.GetValue<long>() % 100:D2}", entry.PartitionKey);
    }

    [Fact]
    public async Task Events_of_both_layouts_are_listed_by_time_range_and_new_rows_have_a_partition_each()
    {
        var (app, envelope, _) = await StartAsync();
        await using var __ = app;
        var old = await LegacyLayout.AddReceivedRowAsync(app, "order.created", envelope, DateTimeOffset.UtcNow.AddDays(-1));
        var table = app.Get<TableServiceClient>().GetTableClient(app.Names.EventsTable);
        await table.UpdateEntityAsync(new TableEntity(EventIds.Partition(old.Id), old.Id) { ["Status"] = EventStatus.Succeeded }, Azure.ETag.All);
        var later = (await PostAsync(app, Envelope("order.created", created: Created + 3600))).Body["id"]!.GetValue<string>();
        var outside = (await PostAsync(app, Envelope("order.created", created: Created + 10 * 86400))).Body["id"]!.GetValue<string>();
        var store = app.Get<EventStore>();

        var from = DateTimeOffset.FromUnixTimeSeconds(Created);
        var listed = new List<string>();
        await foreach (var e in store.QueryAsync(from: from, until: from.AddDays(1))) listed.Add(e.RowKey);

        Assert.Equal(new[] { old.Id, later }.Order(), listed.Order());
        Assert.Equal(later, (await store.GetAsync(later, CancellationToken.None))!.PartitionKey);
        Assert.Equal(outside, (await store.GetAsync(outside, CancellationToken.None))!.PartitionKey);
        Assert.Equal(EventIds.Partition(old.Id), (await store.GetAsync(old.Id, CancellationToken.None))!.PartitionKey);
    }

    [Fact]
    public async Task After_2032_event_ids_that_sort_among_legacy_days_are_not_taken_for_legacy_rows()
    {
        // Ids begin with ten digits of Unix time: from mid-2032 on they sort into the legacy day range ("19700101"...).
        await using var app = await AppHarness.StartAsync();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2033, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var store = new EventStore(app.Get<TableServiceClient>(), app.Names, time);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var stored = new EventEntry { RowKey = EventIds.Create("order.created", "1", created, "a"), EventName = "order.created" };
        Assert.NotNull(await store.TryAddReceivedAsync(stored, CancellationToken.None));
        var other = EventIds.Create("order.created", "2", created, "b");

        Assert.Null(await store.GetAsync(other, CancellationToken.None));
        Assert.False(await store.MayHaveLegacyRowAsync(other, CancellationToken.None));
        Assert.Equal(stored.RowKey, (await store.GetAsync(stored.RowKey, CancellationToken.None))!.RowKey);
    }
}
