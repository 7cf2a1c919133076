using Azure.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Azure;
using SppFunctions.FakeSpp;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Processing;

/// <summary>
/// The storage requests processing an event costs, counted on the app's own storage clients (not timed). The event's
/// row and its action records share the event's partition, so its first delivery writes them in entity-group
/// transactions: "processing" with the first claim, each outcome with the next claim, the last with "succeeded".
/// </summary>
public class ProcessingRoundTripTests
{
    private const string OneAction = """
        [{ "name": "welcome", "on": "order.created", "actions": [
            { "type": "create_order_message", "order": "{{ data.id }}", "message": "Thanks!" }
        ]}]
        """;

    private const string TwoActions = """
        [{ "name": "chain", "on": "order.created", "actions": [
            { "id": "order", "type": "api_call", "method": "GET", "path": "orders/{{ data.id }}" },
            { "type": "create_order_message", "order": "{{ data.id }}", "message": "Your {{ steps.order.body.service }} order" }
        ]}]
        """;

    private static async Task<(AppHarness App, StorageRequestLog Log)> StartAsync(string rules)
    {
        var log = new StorageRequestLog();
        var app = await AppHarness.StartAsync(rules: rules,
            services: s => s.AddAzureClients(c => c.ConfigureDefaults(o => o.AddPolicy(log, HttpPipelinePosition.PerRetry))));
        // A first event creates the queue and the tables (once per process): not what an event costs.
        await PostOrderAsync(app);
        await app.Driver().DrainAsync();
        log.Take();
        return (app, log);
    }

    /// <summary>Posts an order.created webhook of a new order; returns the event id and the order's number.</summary>
    private static async Task<(string Id, string Order)> PostOrderAsync(AppHarness app)
    {
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        var answer = await PostAsync(app, Envelope("order.created", order));
        Assert.Equal(202, answer.Status);
        return (answer.Body["id"]!.GetValue<string>(), order["id"]!.GetValue<string>());
    }

    /// <summary>The requests on the event's partition (transactions and lone writes or reads of the events table).</summary>
    private static List<string> OnEventPartition(AppHarness app, IEnumerable<string> requests) =>
        requests.Where(r => r.Split(' ')[1] is var resource && (resource == app.Names.EventsTable || resource == "$batch")).ToList();

    [Fact]
    public async Task A_one_action_event_takes_two_transactions_and_nothing_else_on_its_partition()
    {
        var (app, log) = await StartAsync(OneAction);
        await using var _ = app;
        var (id, number) = await PostOrderAsync(app);
        log.Take();

        await app.Driver().DrainAsync();

        var requests = log.Take();
        Assert.Equal(new[] { "POST $batch 202", "POST $batch 202" }, OnEventPartition(app, requests));
        // Besides them only the own-message entry (another table, written alongside) and the queue's own requests.
        Assert.Equal(new[] { $"PUT {app.Names.ActionsTable} 204" }, requests.Where(r => r.Split(' ')[1] == app.Names.ActionsTable));
        var row = await app.EventRowAsync(id);
        Assert.Equal(EventStatus.Succeeded, row!.Status);
        Assert.Equal(1, row.Attempts);
        var record = Assert.Single(await app.Get<ActionRecordStore>().ListAsync(id, CancellationToken.None));
        Assert.Equal(("welcome.0", ActionStatus.Succeeded, false), (record.Key, record.Status, record.MayHaveActed));
        Assert.Equal(EventStore.PartitionOf(id), record.PartitionKey);
        // Stored beside the event's row under the action row prefix, with only its own fields.
        var stored = (await app.RowsAsync(app.Names.EventsTable)).Single(r => r.PartitionKey == id && r.RowKey != id);
        Assert.Equal(EventStore.ActionRowPrefix + "welcome.0", stored.RowKey);
        Assert.DoesNotContain(stored.Keys, k => k is nameof(ActionRecord.Key) or nameof(ActionRecord.InEventPartition));
        Assert.Single(app.Spp.RequestsTo("POST", $"/api/order_messages/{number}"));
    }

    [Fact]
    public async Task Each_further_action_adds_one_transaction_its_outcome_going_with_the_next_claim()
    {
        var (app, log) = await StartAsync(TwoActions);
        await using var _ = app;
        var (id, _) = await PostOrderAsync(app);
        log.Take();

        await app.Driver().DrainAsync();

        Assert.Equal(new[] { "POST $batch 202", "POST $batch 202", "POST $batch 202" }, OnEventPartition(app, log.Take()));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
        var records = await app.Get<ActionRecordStore>().ListAsync(id, CancellationToken.None);
        Assert.Equal(new[] { "chain.0", "chain.1" }, records.Select(r => r.Key).Order());
        Assert.All(records, r => Assert.Equal(ActionStatus.Succeeded, r.Status));
        Assert.Contains("Logo design", records.Single(r => r.Key == "chain.0").Output);
    }

    [Fact]
    public async Task A_message_whose_row_is_not_there_yet_is_processed_with_lone_writes_and_ends_the_same()
    {
        // The publisher inserts the row right after the send, so a fast trigger may find none: the transaction that
        // merges "processing" over it fails, and the row is written (created) alone, then the claim.
        var (app, log) = await StartAsync(OneAction);
        await using var _ = app;
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        var evt = await app.EnqueueEventAsync("order.created", order);
        log.Take();

        await app.Driver().DrainAsync();

        // The transaction (its answer is 202 whatever its writes met) found no row and wrote nothing; then the lone
        // merge finds none either, the row is read (none) and created, and the claim inserted.
        var onPartition = OnEventPartition(app, log.Take());
        Assert.Equal("POST $batch 202", onPartition[0]);
        var table = app.Names.EventsTable;
        Assert.Equal(new[] { $"PATCH {table} 404", $"GET {table} 404", $"POST {table} 204", $"POST {table} 204" }, onPartition.Skip(1).Take(4));
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Succeeded, row!.Status);
        var record = Assert.Single(await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None));
        Assert.Equal(ActionStatus.Succeeded, record.Status);
        Assert.Single(app.Spp.RequestsTo("POST", $"/api/order_messages/{order["id"]}"));
    }
}

/// <summary>
/// The writes that wait in a first delivery's batch are not lost when the delivery fails after its actions ran: the
/// outcome of a POST that SPP took is written alone before the delivery fails, so the redelivery finds it done
/// instead of marking it "unknown" (an outcome left unwritten would be).
/// </summary>
public class BatchFailureTests
{
    private const string PostRule = """
        [{ "name": "notify", "on": "order.created", "actions": [
            { "type": "api_call", "method": "POST", "path": "orders", "body": { "user_id": "{{ data.client.id }}", "service": "Follow-up" } }
        ]}]
        """;

    /// <summary>Storage fails the first transaction that carries an event's final state (e.g. a 503 under load).</summary>
    private sealed class FailingFinalCommit(Azure.Data.Tables.TableServiceClient tables, StorageNames names) : ActionRecordStore(tables, names)
    {
        public int Failed { get; private set; }

        public override Task<bool> TryCommitAsync(EventWriteBatch batch, ActionRecord? claim, EventEntry? row, CancellationToken cancellationToken)
        {
            if (row is null || Failed > 0) return base.TryCommitAsync(batch, claim, row, cancellationToken);
            Failed++;
            throw new Azure.RequestFailedException(503, "Simulated: the server is busy.");
        }
    }

    [Fact]
    public async Task A_failed_final_transaction_still_records_the_outcome_and_the_redelivery_finishes_without_calling_again()
    {
        await using var app = await AppHarness.StartAsync(rules: PostRule,
            services: s => s.AddSingleton<ActionRecordStore, FailingFinalCommit>());
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        var answer = await PostAsync(app, Envelope("order.created", order));
        var id = answer.Body["id"]!.GetValue<string>();
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(1, ((FailingFinalCommit)app.Get<ActionRecordStore>()).Failed);
        Assert.Equal(1, driver.Failures); // the delivery whose final transaction failed; the redelivery finished
        Assert.Single(app.Spp.RequestsTo("POST", "/api/orders"));
        var record = Assert.Single(await app.Get<ActionRecordStore>().ListAsync(id, CancellationToken.None));
        Assert.Equal(ActionStatus.Succeeded, record.Status);
        Assert.Equal(1, record.Attempts);
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
    }
}
