using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.FakeSpp;
using SppFunctions.Processing;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Processing;

/// <summary>
/// Two deliveries of one event race: the one that has to retry later must not undo the outcome the other recorded.
/// </summary>
public class SettledStatusTests
{
    private const string WelcomeRule =
        """[{ "name": "welcome", "on": "order.created", "actions": [{ "type": "create_order_message", "order": "{{ data.id }}",""" +
        """ "message": "Thanks!" }] }]""";

    /// <summary>Runs a callback right after a read of an action record, before the reader acts on what it read.</summary>
    private sealed class HookedRecordStore(TableServiceClient tables, StorageNames names) : ActionRecordStore(tables, names)
    {
        public Func<Task>? AfterNextGet { get; set; }

        public override async Task<ActionRecord?> GetAsync(string scope, string key, CancellationToken cancellationToken)
        {
            var record = await base.GetAsync(scope, key, cancellationToken);
            if (AfterNextGet is { } hook)
            {
                AfterNextGet = null;
                await hook();
            }
            return record;
        }
    }

    [Fact]
    public async Task A_delivery_that_must_retry_does_not_undo_the_success_another_recorded_meanwhile_nor_does_its_poison_copy()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule,
            services: s => s.AddSingleton<ActionRecordStore>(sp =>
                new HookedRecordStore(sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<StorageNames>())));
        var store = (HookedRecordStore)app.Get<ActionRecordStore>();
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        var evt = await app.EnqueueEventAsync("order.created", order);
        var text = evt.ToBinaryData().ToString();
        var processor = app.Get<EventProcessor>();

        // Delivery A has claimed the action and is calling SPP...
        var now = DateTimeOffset.UtcNow;
        var claim = ActionRecord.New(evt.Id, "welcome.0");
        claim.Type = CreateOrderMessageAction.TypeName;
        claim.Status = ActionStatus.Pending;
        (claim.Attempts, claim.MayHaveActed, claim.Owner, claim.LeaseUntil, claim.StartedAt) = (1, true, "delivery-a", now.AddMinutes(1), now);
        Assert.Null(await store.GetAsync(evt.Id, "welcome.0", CancellationToken.None)); // (creates the table)
        Assert.True(await store.TryAddAsync(claim, CancellationToken.None));
        // ...when delivery B reads the action as held; before B reacts, A finishes: the action and the event succeed.
        store.AfterNextGet = async () =>
        {
            claim.Status = ActionStatus.Succeeded;
            claim.MayHaveActed = false;
            claim.LeaseUntil = null;
            claim.Result = "1";
            Assert.True(await store.TryUpdateAsync(claim, CancellationToken.None));
            await app.Get<EventStore>().TransitionAsync(evt.Id, entry =>
            {
                entry!.Status = EventStatus.Succeeded;
                entry.CompletedAt = DateTimeOffset.UtcNow;
                return entry;
            }, CancellationToken.None);
        };

        var retriesBefore = QueueDriver.Recorder(app).All.Count;
        await processor.ProcessAsync(text, 1, CancellationToken.None); // B re-schedules its copy
        Assert.Equal(retriesBefore + 1, QueueDriver.Recorder(app).All.Count);
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);

        // Had B's copy kept failing, the host would have moved it to the poison queue: the event still succeeded.
        await app.Get<PoisonHandler>().HandleEventAsync(text, CancellationToken.None);
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
    }

    [Fact]
    public async Task A_duplicate_delivery_keeps_the_failure_and_its_reason_that_another_delivery_recorded()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        app.Spp.InjectFault(FaultRule.Fail(422, times: null, method: "POST"));
        var evt = await app.EnqueueEventAsync("order.created", order);
        await app.Driver().DrainAsync();
        var failed = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, failed!.Status);

        // The same message again (a queue redelivery): the outcome stays, with its reason, and SPP is not called again.
        await app.Get<EventProcessor>().ProcessAsync(evt.ToBinaryData().ToString(), 1, CancellationToken.None);

        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("422", row.Error);
        Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages/"));
    }
}
