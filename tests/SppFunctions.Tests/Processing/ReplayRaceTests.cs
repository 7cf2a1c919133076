using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.FakeSpp;
using SppFunctions.Processing;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Processing;

/// <summary>
/// A replay queues the event and then marks its row: the queue trigger may process the event before that mark lands.
/// </summary>
public class ReplayRaceTests
{
    private const string WelcomeRule =
        """[{ "name": "welcome", "on": "order.created", "actions": [{ "type": "create_order_message", "order": "{{ data.id }}",""" +
        """ "message": "Thanks!" }] }]""";

    /// <summary>
    /// Once armed, on a read of a row (the replay's write to the row starts with one) checks whether the replayed message
    /// is on its queue yet; when it is, first lets the queue trigger process it, then reads.
    /// </summary>
    private sealed class HookedEventStore(TableServiceClient tables, StorageNames names) : EventStore(tables, names)
    {
        private Func<Task<bool>>? _queued;
        private Func<Task>? _trigger;

        public void BeforeReadOnceQueued(Func<Task<bool>> queued, Func<Task> trigger) => (_queued, _trigger) = (queued, trigger);

        public override async Task<EventEntry?> GetAsync(string id, CancellationToken cancellationToken)
        {
            if (_queued is { } queued && _trigger is { } trigger && await queued())
            {
                (_queued, _trigger) = (null, null);
                await trigger();
            }
            return await base.GetAsync(id, cancellationToken);
        }
    }

    [Fact]
    public async Task A_replayed_event_processed_before_the_replay_marked_its_row_ends_succeeded_not_received()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule,
            services: s => s.AddSingleton<EventStore>(sp =>
                new HookedEventStore(sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<StorageNames>())));
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        app.Spp.InjectFault(FaultRule.Fail(422, times: 1, method: "POST"));
        var evt = await app.EnqueueEventAsync("order.created", order);
        await app.Driver().DrainAsync();
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(evt.Id))!.Status);

        // The replayed message is on the queue; the trigger is quicker than the replay's own write to the row.
        ((HookedEventStore)app.Get<EventStore>()).BeforeReadOnceQueued(
            async () => (await app.PeekAllAsync(app.Names.EventsQueue)).Count > 0, () => app.Driver().DrainAsync());
        var report = await app.Get<ReplayService>().ReplayAsync(new ReplayRequest([evt.Id]), CancellationToken.None);

        Assert.Equal([evt.Id], report.Replayed);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Succeeded, row!.Status);
        Assert.Equal(1, row.Replays);
        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_replayed_command_processed_before_the_replay_marked_its_row_ends_succeeded_not_received()
    {
        await using var app = await AppHarness.StartAsync(
            services: s => s.AddSingleton<EventStore>(sp =>
                new HookedEventStore(sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<StorageNames>())));
        var order = app.Spp.Store.AddOrder();
        app.Spp.InjectFault(FaultRule.Fail(422, times: 1, method: "PUT"));
        await app.SendCommandAsync(
            $$"""{ "id": "sync-1", "type": "api_call", "method": "PUT", "path": "orders/{{order["id"]}}", "body": { "note": "n" } }""");
        await app.Driver().DrainAsync();
        var id = Assert.Single(await app.RowsAsync(app.Names.EventsTable)).RowKey;
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(id))!.Status);

        ((HookedEventStore)app.Get<EventStore>()).BeforeReadOnceQueued(
            async () => (await app.PeekAllAsync(app.Names.CommandsQueue)).Count > 0, () => app.Driver().DrainAsync());
        var report = await app.Get<ReplayService>().ReplayAsync(new ReplayRequest([id]), CancellationToken.None);

        Assert.Equal([id], report.Replayed);
        var row = await app.EventRowAsync(id);
        Assert.Equal(EventStatus.Succeeded, row!.Status);
        Assert.Equal(1, row.Replays);
        Assert.Equal("n", app.Spp.Store.GetOrder(order["id"]!.ToString())!["note"]!.GetValue<string>());
    }
}
