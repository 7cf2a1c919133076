using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SppFunctions.Events;
using SppFunctions.FakeSpp;
using SppFunctions.Polling;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Polling;

/// <summary>The poller against the fake SPP (sharing its fake clock) and Azurite.</summary>
public class PollingTests
{
    private sealed class World : IAsyncDisposable
    {
        public required AppHarness App { get; init; }
        public required FakeTimeProvider Time { get; init; }
        public FakeSppServer Spp => App.Spp;
        public FakeSppStore Store => App.Spp.Store;
        public OrderMessagePoller Poller => App.Get<OrderMessagePoller>();
        public WatchStore Watch => App.Get<WatchStore>();

        public static async Task<World> StartAsync(
            Dictionary<string, string?>? settings = null, StorageNames? names = null, FakeTimeProvider? time = null)
        {
            time ??= AppHarness.NewFakeTime();
            var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { Time = time });
            return new World { App = await AppHarness.StartAsync(settings, spp: spp, time: time, names: names), Time = time };
        }

        /// <summary>Posts a message as the client would, a minute after the previous one.</summary>
        public JsonObject ClientWrites(JsonObject order, string text, bool staffOnly = false, long? userId = null)
        {
            Time.Advance(TimeSpan.FromMinutes(1));
            return Store.AddOrderMessage(order["id"]!.ToString(), text, userId, staffOnly);
        }

        public async Task<PollRun> RunAsync()
        {
            Time.Advance(TimeSpan.FromMinutes(1));
            return await Poller.RunAsync(CancellationToken.None);
        }

        public async Task<List<EventMessage>> EventsAsync()
        {
            var list = new List<EventMessage>();
            var queue = App.Queue(App.Names.EventsQueue);
            if (!await queue.ExistsAsync()) return list;
            // Receive (not peek) to read more than 32; tests then inspect them.
            while (true)
            {
                var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value;
                if (batch.Length == 0) return list;
                list.AddRange(batch.Select(m => EventMessage.Parse(m.Body.ToString())));
            }
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private static IEnumerable<string> Texts(IEnumerable<EventMessage> events) =>
        events.Select(e => e.Payload!["data"]!["message"]!.GetValue<string>());

    [Fact]
    public async Task New_messages_are_emitted_once_oldest_first_after_the_baseline()
    {
        await using var w = await World.StartAsync();
        var order = w.Store.AddOrder();
        w.ClientWrites(order, "before watching");
        await w.Watch.AddAsync(order["number"]!.GetValue<string>(), "test", w.Time.GetUtcNow(), CancellationToken.None);

        var first = await w.RunAsync();
        w.ClientWrites(order, "one");
        w.ClientWrites(order, "two");
        w.ClientWrites(order, "three", staffOnly: false, userId: 999);
        var second = await w.RunAsync();
        var third = await w.RunAsync();

        Assert.Equal(0, first.EventsEmitted);
        Assert.Equal(3, second.EventsEmitted);
        Assert.Equal(0, third.EventsEmitted);
        var events = await w.EventsAsync();
        Assert.Equal(new[] { "one", "two", "three" }, Texts(events));
        Assert.All(events, e =>
        {
            Assert.Equal(EventCatalog.OrderMessageCreated, e.Event);
            Assert.Equal(SppEventTopics.Messages, e.Topic);
            Assert.Equal(EventSources.Poller, e.Source);
            Assert.Equal(order["id"]!.GetValue<long>(), e.Payload!["data"]!["order_id"]!.GetValue<long>());
            Assert.Equal(order["number"]!.GetValue<string>(), e.Payload["data"]!["order"]!["number"]!.GetValue<string>());
        });
        Assert.True(events[0].Payload!["data"]!["from_client"]!.GetValue<bool>());
        Assert.False(events[2].Payload!["data"]!["from_client"]!.GetValue<bool>());
        var rows = await w.App.RowsAsync(w.App.Names.EventsTable);
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal("poller", r.GetString("Source")));
    }

    [Fact]
    public async Task Messages_posted_after_the_order_was_added_but_before_the_first_run_are_emitted()
    {
        await using var w = await World.StartAsync();
        var order = w.Store.AddOrder();
        w.ClientWrites(order, "before the webhook");
        w.Time.Advance(TimeSpan.FromSeconds(30));
        await w.Watch.AddAsync(order["number"]!.GetValue<string>(), "webhook", w.Time.GetUtcNow(), CancellationToken.None);
        w.ClientWrites(order, "right after the webhook");

        var first = await w.RunAsync();
        var second = await w.RunAsync();

        Assert.Equal(1, first.EventsEmitted);
        Assert.Equal(0, second.EventsEmitted);
        Assert.Equal(new[] { "right after the webhook" }, Texts(await w.EventsAsync()));
    }

    [Fact]
    public async Task A_configured_order_that_closed_is_not_looked_up_again_every_run()
    {
        var time = AppHarness.NewFakeTime();
        var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { Time = time });
        var closed = spp.Store.AddOrder(status: "Complete");
        await using var w = new World
        {
            App = await AppHarness.StartAsync(new() { ["Polling:WatchOrders:0"] = closed["number"]!.GetValue<string>() }, spp: spp, time: time),
            Time = time,
        };

        var first = await w.RunAsync();
        spp.ClearRequests();
        await w.RunAsync();
        await w.RunAsync();

        Assert.Equal(1, first.OrdersAdded);
        Assert.Equal(1, first.OrdersRemoved);
        Assert.Empty(spp.RequestsTo("GET", $"/api/orders/{closed["number"]}"));
        Assert.Empty(await w.Watch.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Without_a_baseline_the_existing_messages_are_emitted_on_first_sight()
    {
        await using var w = await World.StartAsync(new() { ["Polling:Baseline"] = "false" });
        var order = w.Store.AddOrder();
        w.ClientWrites(order, "old one");
        w.ClientWrites(order, "old two");
        await w.Watch.AddAsync(order["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);

        await w.RunAsync();

        Assert.Equal(new[] { "old one", "old two" }, Texts(await w.EventsAsync()));
    }

    [Fact]
    public async Task A_new_process_picks_up_where_the_cursor_stands()
    {
        var names = StorageNames.WithSuffix("r" + Guid.NewGuid().ToString("N")[..10]);
        var time = AppHarness.NewFakeTime();
        await using var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { Time = time });
        var order = spp.Store.AddOrder();
        var settings = new Dictionary<string, string?> { ["Polling:WatchOrders:0"] = order["id"]!.ToString() };

        var first = await AppHarness.StartAsync(settings, spp: spp, time: time, names: names, ownsSpp: false);
        var w1 = new World { App = first, Time = time };
        await w1.RunAsync();
        w1.ClientWrites(order, "before restart");
        await w1.RunAsync();
        w1.ClientWrites(order, "while down");
        var beforeEvents = await w1.EventsAsync();
        await first.DisposeAsync(); // the process ends; storage and SPP stay

        await using var second = await AppHarness.StartAsync(settings, spp: spp, time: time, names: names, ownsSpp: false);
        var w2 = new World { App = second, Time = time };
        var run = await w2.RunAsync();

        Assert.Equal(new[] { "before restart" }, Texts(beforeEvents));
        Assert.Equal(1, run.EventsEmitted);
        Assert.Equal(new[] { "while down" }, Texts(await w2.EventsAsync()));
    }

    [Fact]
    public async Task Two_overlapping_runs_emit_no_duplicates()
    {
        await using var w = await World.StartAsync();
        var orders = Enumerable.Range(0, 5).Select(_ => w.Store.AddOrder()).ToList();
        foreach (var o in orders) await w.Watch.AddAsync(o["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();
        foreach (var o in orders) { w.ClientWrites(o, $"a{o["id"]}"); w.ClientWrites(o, $"b{o["id"]}"); }

        // With the lease: the second run is skipped.
        w.Time.Advance(TimeSpan.FromMinutes(1));
        var leased = await Task.WhenAll(w.Poller.RunAsync(CancellationToken.None), w.App.Get<OrderMessagePoller>().RunAsync(CancellationToken.None));
        // Without it (a run outliving its lease): both do the work, and still each message is one event.
        foreach (var o in orders) w.ClientWrites(o, $"c{o["id"]}");
        var p1 = new OrderMessagePoller(w.App.Get<Spp.Client.SppClient>(), w.Watch, w.App.Get<PollRunStore>(),
            w.App.Get<SppFunctions.Queueing.EventPublisher>(),
            w.App.Get<SppFunctions.Processing.Actions.ActionRecordStore>(), w.App.Get<Microsoft.Extensions.Options.IOptions<PollingOptions>>(),
            w.App.Get<Microsoft.Extensions.Options.IOptions<SppFunctions.Intake.WebhookOptions>>(), w.Time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OrderMessagePoller>.Instance) { RunLease = TimeSpan.Zero };
        var p2 = new OrderMessagePoller(w.App.Get<Spp.Client.SppClient>(), w.Watch, w.App.Get<PollRunStore>(),
            w.App.Get<SppFunctions.Queueing.EventPublisher>(),
            w.App.Get<SppFunctions.Processing.Actions.ActionRecordStore>(), w.App.Get<Microsoft.Extensions.Options.IOptions<PollingOptions>>(),
            w.App.Get<Microsoft.Extensions.Options.IOptions<SppFunctions.Intake.WebhookOptions>>(), w.Time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OrderMessagePoller>.Instance) { RunLease = TimeSpan.Zero };
        w.Time.Advance(TimeSpan.FromMinutes(1));
        // Slow SPP answers keep the first run busy while the second starts past the (zero) lease.
        w.Spp.InjectFault(new FaultRule(FaultKind.Delay) { Delay = TimeSpan.FromMilliseconds(300), PathPrefix = "/api/order_messages" });
        var firstRun = p1.RunAsync(CancellationToken.None);
        // Start the second once the first holds its (zero-length) lease and is busy with the slow answers.
        while (!firstRun.IsCompleted && (await w.Watch.GetStateAsync(CancellationToken.None)).LeaseOwner is null) await Task.Delay(10);
        Assert.False(firstRun.IsCompleted, "the first run ended before the second could start");
        var unleased = await Task.WhenAll(firstRun, p2.RunAsync(CancellationToken.None));
        w.Spp.ClearFaults();

        Assert.Single(leased, r => r.Outcome == "skipped");
        Assert.All(unleased, r => Assert.Equal("completed", r.Outcome));
        // both really did the work...
        Assert.True(unleased.All(r => r.OrdersChecked == 5), string.Join(" | ", unleased.Select(r =>
            $"{r.Outcome} checked={r.OrdersChecked} emitted={r.EventsEmitted} calls={r.ApiCalls} watched={r.OrdersWatched} " +
            $"errors={r.Errors} {r.LastError}")));
        Assert.Equal(5, unleased.Sum(r => r.EventsEmitted));          // ...and each new message became one event
        var events = await w.EventsAsync();
        Assert.Equal(15, events.Count);
        Assert.Equal(15, events.Select(e => e.Id).Distinct().Count());
        Assert.Equal(15, Texts(events).Distinct().Count());
    }

    [Fact]
    public async Task Orders_are_removed_on_a_closed_status_and_when_deleted()
    {
        await using var w = await World.StartAsync(new() { ["Polling:ClosedStatuses:0"] = "Done" });
        var closing = w.Store.AddOrder();
        var quietlyClosed = w.Store.AddOrder();
        var deleted = w.Store.AddOrder();
        var open = w.Store.AddOrder();
        foreach (var o in new[] { closing, quietlyClosed, deleted, open })
            await w.Watch.AddAsync(o["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();

        // Closed with a last message: the changed-orders call sees it.
        w.ClientWrites(closing, "last words");
        w.Store.SetOrderStatus(closing["id"]!.ToString(), "Done");
        var run = await w.RunAsync();
        Assert.Equal(1, run.OrdersRemoved);
        Assert.Null(await w.Watch.GetAsync(closing["id"]!.ToString(), CancellationToken.None));
        Assert.Equal(new[] { "last words" }, Texts(await w.EventsAsync())); // emitted before it stopped being watched

        // Closed or deleted without a message: the hourly sweep sees it.
        w.Store.SetOrderStatus(quietlyClosed["id"]!.ToString(), "Done");
        w.Store.DeleteOrder(deleted["id"]!.ToString());
        var quiet = await w.RunAsync();
        w.Time.Advance(TimeSpan.FromHours(1));
        var swept = await w.RunAsync();

        Assert.Equal(0, quiet.OrdersRemoved);
        Assert.Equal(2, swept.OrdersRemoved);
        Assert.Null(await w.Watch.GetAsync(quietlyClosed["id"]!.ToString(), CancellationToken.None));
        Assert.Null(await w.Watch.GetAsync(deleted["id"]!.ToString(), CancellationToken.None));
        Assert.NotNull(await w.Watch.GetAsync(open["id"]!.ToString(), CancellationToken.None));
    }

    [Fact]
    public async Task A_watched_order_deleted_in_SPP_is_removed_when_its_check_gets_404()
    {
        await using var w = await World.StartAsync();
        var order = w.Store.AddOrder();
        await w.Watch.AddAsync(order["number"]!.GetValue<string>(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        w.Store.DeleteOrder(order["id"]!.ToString());

        var run = await w.RunAsync();

        Assert.Equal(1, run.OrdersRemoved);
        Assert.Empty(await w.Watch.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task With_1000_watched_orders_and_5_changed_a_run_makes_one_list_call_plus_one_per_changed_order()
    {
        await using var w = await World.StartAsync();
        var orders = Enumerable.Range(0, 1000).Select(_ => w.Store.AddOrder()).ToList();
        var table = w.App.Get<TableServiceClient>().GetTableClient(w.App.Names.WatchTable);
        await table.CreateIfNotExistsAsync();
        foreach (var chunk in orders.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(o => new TableTransactionAction(TableTransactionActionType.Add, new WatchedOrder
            {
                RowKey = o["id"]!.ToString(), OrderId = o["id"]!.ToString(), Number = o["number"]!.GetValue<string>(), Status = "Working",
                Baselined = true, LastMessageId = 0, Source = "test", AddedAt = w.Time.GetUtcNow(),
            })));
        }
        // A poller that has run before: it has a watermark and swept recently.
        await w.Watch.TrySaveStateAsync(new PollerState { Watermark = w.Time.GetUtcNow(), LastSweepAt = w.Time.GetUtcNow() }, CancellationToken.None);
        var changed = orders.OrderBy(_ => Guid.NewGuid()).Take(5).ToList();
        foreach (var o in changed) w.ClientWrites(o, $"hello {o["id"]}");
        w.Spp.ClearRequests();

        var run = await w.RunAsync();

        Assert.Equal(1000, run.OrdersWatched);
        Assert.Equal(5, run.OrdersChecked);
        Assert.Equal(5, run.EventsEmitted);
        var requests = w.Spp.Requests;
        Assert.Single(requests, r => r.Path == "/api/orders");
        Assert.Equal(5, requests.Count(r => r.Path.StartsWith("/api/order_messages/", StringComparison.Ordinal)));
        Assert.True(requests.Count <= 1 + 5, $"{requests.Count} SPP calls");
        Assert.Equal(requests.Count, run.ApiCalls);
        Assert.Equal(changed.Select(o => $"hello {o["id"]}").Order(), Texts(await w.EventsAsync()).Order());
    }

    /// <summary>Counts the scans of the watch set (reads of all resolved orders).</summary>
    private sealed class ScanCountingWatchStore(TableServiceClient tables, StorageNames names) : WatchStore(tables, names)
    {
        public int Scans;
        public override Task<List<WatchedOrder>> ListResolvedAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Scans);
            return base.ListResolvedAsync(cancellationToken);
        }
        public override Task<int> CountResolvedAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Scans);
            return base.CountResolvedAsync(cancellationToken);
        }
    }

    [Fact]
    public async Task Between_sweeps_a_run_reads_only_the_changed_orders_and_keeps_the_watched_count()
    {
        var time = AppHarness.NewFakeTime();
        var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { Time = time });
        await using var w = new World
        {
            App = await AppHarness.StartAsync(spp: spp, time: time, services: s => s.AddSingleton<WatchStore, ScanCountingWatchStore>()),
            Time = time,
        };
        var store = (ScanCountingWatchStore)w.Watch;
        var orders = Enumerable.Range(0, 20).Select(_ => w.Store.AddOrder()).ToList();
        foreach (var o in orders) await w.Watch.AddAsync(o["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        var first = await w.RunAsync(); // resolves and baselines the 20 (and sweeps: the first run has no sweep yet)
        var scansAfterFirst = store.Scans;

        w.ClientWrites(orders[3], "hello");
        var added = w.Store.AddOrder();
        await w.Watch.AddAsync(added["number"]!.GetValue<string>(), "webhook", w.Time.GetUtcNow(), CancellationToken.None);
        // watched already, by id
        await w.Watch.AddAsync(orders[5]["number"]!.GetValue<string>(), "webhook", w.Time.GetUtcNow(), CancellationToken.None);
        w.Store.SetOrderStatus(orders[7]["id"]!.ToString(), "Complete");
        w.ClientWrites(orders[7], "thanks, bye");
        w.Spp.ClearRequests();
        var second = await w.RunAsync();
        var lookups = w.Spp.RequestsTo("GET", "/api/orders/");
        var third = await w.RunAsync();

        Assert.Equal(20, first.OrdersWatched);
        Assert.Equal(scansAfterFirst, store.Scans); // no scan after the first run
        Assert.Equal(2, second.EventsEmitted);
        Assert.Equal(1, second.OrdersRemoved);
        Assert.Equal(20, second.OrdersWatched); // +1 added, -1 closed
        Assert.Equal(20, third.OrdersWatched);
        Assert.Equal(20, (await w.Watch.ListAsync(CancellationToken.None)).Count);
        Assert.Empty(await w.Watch.ListPendingAsync(CancellationToken.None));
        Assert.NotNull(await w.Watch.GetAsync(added["number"]!.GetValue<string>(), CancellationToken.None));
        Assert.Equal(orders[5]["id"]!.ToString(), (await w.Watch.GetAsync(orders[5]["number"]!.GetValue<string>(), CancellationToken.None))!.OrderId);
        // Dropping the repeated key needed no SPP call: only the new order was looked up.
        Assert.Equal($"/api/orders/{added["number"]!.GetValue<string>()}", Assert.Single(lookups).Path);
    }

    [Fact]
    public async Task Staff_only_and_self_authored_messages_are_skipped_when_configured()
    {
        await using var w = await World.StartAsync(new() { ["Polling:SkipStaffOnly"] = "true" });
        var order = w.Store.AddOrder();
        await w.Watch.AddAsync(order["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();
        w.ClientWrites(order, "internal note", staffOnly: true);
        w.ClientWrites(order, "<p>Our answer</p>\n<!-- sppfn:0123456789abcdef -->");
        var recorded = w.ClientWrites(order, "answer without marker");
        await w.App.Get<SppFunctions.Processing.Actions.ActionRecordStore>()
            .AddOwnMessageAsync(recorded["id"]!.GetValue<long>(), "test", CancellationToken.None);
        w.ClientWrites(order, "client question");

        var run = await w.RunAsync();

        Assert.Equal(new[] { "client question" }, Texts(await w.EventsAsync()));
        Assert.Equal(1, run.EventsEmitted);
        var entry = await w.Watch.GetAsync(order["id"]!.ToString(), CancellationToken.None);
        // skipped ones still move the cursor
        Assert.Equal(w.Store.GetOrderMessages(order["id"]!.ToString())[0]["id"]!.GetValue<long>(), entry!.LastMessageId);
    }

    [Fact]
    public async Task Own_messages_are_emitted_when_skipping_is_off()
    {
        await using var w = await World.StartAsync(new() { ["Polling:SkipOwnMessages"] = "false" });
        var order = w.Store.AddOrder();
        await w.Watch.AddAsync(order["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();
        w.ClientWrites(order, "staff", staffOnly: true);
        w.ClientWrites(order, "mine <!-- sppfn:0123456789abcdef -->");
        await w.RunAsync();
        Assert.Equal(2, (await w.EventsAsync()).Count);
    }

    [Fact]
    public async Task A_deleted_message_does_not_confuse_the_cursor()
    {
        await using var w = await World.StartAsync();
        var order = w.Store.AddOrder();
        await w.Watch.AddAsync(order["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();
        var a = w.ClientWrites(order, "a");
        var b = w.ClientWrites(order, "b");
        await w.RunAsync();
        w.Store.DeleteOrderMessage(b["id"]!.GetValue<long>()); // the cursor's message is gone
        w.ClientWrites(order, "c");
        w.Spp.ClearRequests();

        await w.RunAsync();

        Assert.Equal(new[] { "a", "b", "c" }, Texts(await w.EventsAsync()));
        Assert.Single(w.Spp.RequestsTo("GET", "/api/order_messages/"));
        _ = a;
    }

    [Fact]
    public async Task Cursor_paging_stops_as_soon_as_it_reaches_known_messages()
    {
        await using var w = await World.StartAsync(new() { ["Polling:PageSize"] = "5" });
        var order = w.Store.AddOrder();
        for (var i = 0; i < 40; i++) w.ClientWrites(order, $"old {i}");
        await w.Watch.AddAsync(order["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();
        for (var i = 0; i < 7; i++) w.ClientWrites(order, $"new {i}");
        w.Spp.ClearRequests();

        await w.RunAsync();

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"new {i}"), Texts(await w.EventsAsync()));
        Assert.Equal(2, w.Spp.RequestsTo("GET", "/api/order_messages/").Count); // 5 + 2 new, then the cursor: not all 47
    }

    [Fact]
    public async Task Order_webhooks_add_and_remove_orders_from_the_watch_set()
    {
        await using var w = await World.StartAsync();
        var order = FakeSppWebhooks.OldStyleOrder(w.Store.AddOrder(status: "Pending"));
        await w.App.EnqueueEventAsync("order.created", order);
        await w.App.Driver().DrainAsync();
        Assert.NotNull(await w.Watch.GetAsync(order["id"]!.GetValue<string>(), CancellationToken.None));

        order["status"] = "Cancelled";
        await w.App.EnqueueEventAsync("order.status_changed", order, created: 1764403300);
        await w.App.Driver().DrainAsync();
        Assert.Null(await w.Watch.GetAsync(order["id"]!.GetValue<string>(), CancellationToken.None));
    }

    [Fact]
    public async Task Order_webhooks_spread_their_pending_entries_and_one_an_earlier_version_left_in_pending_is_still_resolved()
    {
        await using var w = await World.StartAsync();
        var orders = Enumerable.Range(0, 12).Select(_ => w.Store.AddOrder(status: "Pending")).ToList();
        foreach (var order in orders) await w.App.EnqueueEventAsync("order.created", FakeSppWebhooks.OldStyleOrder(order));
        await w.App.Driver().DrainAsync();
        // An order an earlier version added: its entry in the one partition every order webhook wrote to.
        var old = w.Store.AddOrder(status: "Working");
        var table = w.App.Get<Azure.Data.Tables.TableServiceClient>().GetTableClient(w.App.Names.WatchTable);
        await table.AddEntityAsync(new WatchedOrder { PartitionKey = WatchedOrder.PendingPartition, RowKey = old["id"]!.ToString(),
            Source = "webhook", AddedAt = w.Time.GetUtcNow() });

        var pendingPartitions = (await w.Watch.ListPendingAsync(CancellationToken.None)).Select(e => e.PartitionKey).Distinct().ToList();
        Assert.Contains(WatchedOrder.PendingPartition, pendingPartitions);
        Assert.True(pendingPartitions.Count(p => p.StartsWith("pending-", StringComparison.Ordinal)) > 1, string.Join(", ", pendingPartitions));
        Assert.NotNull(await w.Watch.GetAsync(old["id"]!.ToString(), CancellationToken.None));

        await w.RunAsync();

        Assert.Empty(await w.Watch.ListPendingAsync(CancellationToken.None));
        var resolved = (await w.Watch.ListResolvedAsync(CancellationToken.None)).Select(e => e.OrderId).ToHashSet();
        Assert.All(orders.Select(o => o["id"]!.ToString()).Append(old["id"]!.ToString()), id => Assert.Contains(id, resolved));
        Assert.True(await w.Watch.RemoveAsync(old["id"]!.ToString(), CancellationToken.None));
    }

    [Fact]
    public async Task Configured_orders_are_watched_and_bootstrap_adds_open_orders_once()
    {
        var time = AppHarness.NewFakeTime();
        var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { Time = time });
        var configured = spp.Store.AddOrder(status: "Working");
        var open = spp.Store.AddOrder(status: "Pending");
        var done = spp.Store.AddOrder(status: "Complete");
        await using var w = new World
        {
            App = await AppHarness.StartAsync(
                new() { ["Polling:WatchOrders:0"] = configured["number"]!.GetValue<string>(), ["Polling:Bootstrap"] = "true" }, spp: spp, time: time),
            Time = time,
        };

        var first = await w.RunAsync();
        var later = spp.Store.AddOrder(status: "Pending");
        var second = await w.RunAsync();

        var watched = (await w.Watch.ListAsync(CancellationToken.None)).Select(e => e.OrderId).ToList();
        Assert.Contains(configured["id"]!.ToString(), watched);
        Assert.Contains(open["id"]!.ToString(), watched);
        Assert.DoesNotContain(done["id"]!.ToString(), watched);
        Assert.DoesNotContain(later["id"]!.ToString(), watched); // bootstrap ran once
        Assert.Equal(3, first.OrdersAdded); // the configured one counts once
        Assert.Equal(0, second.OrdersAdded);
        Assert.Equal(2, watched.Count);
    }

    [Fact]
    public async Task An_order_whose_check_fails_is_checked_again_next_run()
    {
        await using var w = await World.StartAsync(new() { ["Spp:Retry:MaxRetries"] = "0" });
        var order = w.Store.AddOrder();
        await w.Watch.AddAsync(order["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();
        w.ClientWrites(order, "important");
        w.Spp.InjectFault(FaultRule.Fail(500, times: 1, method: "GET", pathPrefix: "/api/order_messages"));

        var failed = await w.RunAsync();
        var retried = await w.RunAsync();

        Assert.Equal(1, failed.Errors);
        Assert.Contains("500", failed.LastError);
        Assert.Equal(0, failed.EventsEmitted);
        Assert.Equal(1, retried.EventsEmitted);
        Assert.Equal(new[] { "important" }, Texts(await w.EventsAsync()));
    }

    [Fact]
    public async Task After_a_burst_in_one_second_the_newest_second_is_rechecked_once_and_then_a_run_costs_one_call()
    {
        await using var w = await World.StartAsync();
        var orders = Enumerable.Range(0, 5).Select(_ => w.Store.AddOrder()).ToList();
        foreach (var o in orders) await w.Watch.AddAsync(o["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync(); // first sight: baselines
        await w.RunAsync();

        // A burst: five orders get a message in the same second.
        w.Time.Advance(TimeSpan.FromMinutes(1));
        foreach (var o in orders) w.Store.AddOrderMessage(o["id"]!.ToString(), $"burst {o["id"]}");
        var burst = await w.RunAsync();
        var runs = new List<PollRun>();
        for (var i = 0; i < 6; i++) runs.Add(await w.RunAsync());

        Assert.Equal(5, burst.EventsEmitted);
        Assert.Equal(1 + 5, runs[0].ApiCalls); // the newest second, re-checked once after it ended
        Assert.All(runs.Skip(1), r => Assert.Equal(1, r.ApiCalls)); // then one list call per run: nothing changed
        Assert.All(runs, r => Assert.Equal(0, r.EventsEmitted));

        // A new message after the quiet runs is found, and its second is re-checked once too.
        w.ClientWrites(orders[2], "later");
        var later = await w.RunAsync();
        var after = await w.RunAsync();
        var quiet = await w.RunAsync();
        Assert.Equal(1, later.EventsEmitted);
        Assert.Equal(1 + 1, after.ApiCalls);
        Assert.Equal(1, quiet.ApiCalls);
        Assert.Equal(6, Texts(await w.EventsAsync()).Count());
    }

    [Fact]
    public async Task Runs_whose_order_checks_keep_failing_fail_from_the_third_in_a_row_and_log_the_exception()
    {
        await using var w = await World.StartAsync(new() { ["Spp:Retry:MaxRetries"] = "0" });
        var order = w.Store.AddOrder();
        await w.Watch.AddAsync(order["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();
        w.ClientWrites(order, "important");
        w.Spp.InjectFault(FaultRule.Fail(500, times: null, method: "GET", pathPrefix: "/api/order_messages"));

        var first = await w.RunAsync();
        var second = await w.RunAsync();
        var third = await Assert.ThrowsAsync<PollingFailedException>(() => w.RunAsync());
        w.Spp.ClearFaults();
        var recovered = await w.RunAsync();

        Assert.Equal(1, first.Errors);
        Assert.Equal(1, second.Errors);
        Assert.Contains("failed in 3 poll runs in a row", third.Message);
        Assert.Contains("500", third.Message);
        Assert.Equal(1, recovered.EventsEmitted);
        Assert.Equal(0, recovered.Errors);
        // The failure is logged with its exception (type and stack), not only its message.
        var failures = w.App.Logs.GetSnapshot()
            .Where(r => r.Message.Contains($"Polling order {order["id"]} failed", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, failures.Count);
        Assert.All(failures, r => Assert.IsType<Spp.Client.SppRequestFailedException>(r.Exception));
        // Every run, the failed ones too, left its summary.
        Assert.Equal(5, (await w.App.Get<PollRunStore>().LatestAsync(10, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Each_run_records_a_summary()
    {
        await using var w = await World.StartAsync(new() { ["Polling:Enabled"] = "true" });
        var order = w.Store.AddOrder();
        await w.Watch.AddAsync(order["id"]!.ToString(), "test", w.Time.GetUtcNow(), CancellationToken.None);
        await w.RunAsync();
        w.ClientWrites(order, "x");
        await w.RunAsync();

        var runs = await w.App.Get<PollRunStore>().LatestAsync(10, CancellationToken.None);

        Assert.Equal(2, runs.Count);
        Assert.Equal(1, runs[0].EventsEmitted); // newest first
        Assert.Equal(0, runs[1].EventsEmitted);
        Assert.All(runs, r => Assert.Equal("completed", r.Outcome));
        Assert.True(runs[0].StartedAt > runs[1].StartedAt);
        Assert.Contains("Poll run: 1 watched, 1 checked", w.App.AllLogText());
    }

    [Fact]
    public async Task A_disabled_poller_does_nothing()
    {
        await using var w = await World.StartAsync(new() { ["Polling:Enabled"] = "false" });
        var run = await w.RunAsync();
        Assert.Equal("disabled", run.Outcome);
        Assert.Empty(w.Spp.Requests);
    }
}
