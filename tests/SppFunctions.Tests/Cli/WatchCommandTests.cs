using SppFunctions.Polling;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Cli.CliTestKit;

namespace SppFunctions.Tests.Cli;

/// <summary><c>sppfn watch ...</c>: the watch set, cursors and poller runs in Azurite, shared with the app's poller.</summary>
public class WatchCommandTests
{
    [Fact]
    public async Task Add_list_remove_round_trip_through_the_apps_watch_store()
    {
        await using var app = await AppHarness.StartAsync();

        var empty = await RunAsync(app, "watch", "list");
        Assert.Equal("No orders are watched.", empty.Out.Trim());

        var add = await RunAsync(app, "watch", "add", "666af315", "1042");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("Watching 666AF315.", add.Out);
        Assert.Contains("Watching 1042.", add.Out);
        var again = await RunAsync(app, "watch", "add", "666AF315", "--json");
        Assert.False(again.Json[0]!["added"]!.GetValue<bool>());

        // The app's own store sees what the CLI added.
        var watched = await app.Get<WatchStore>().ListAsync(CancellationToken.None);
        Assert.Equal(new[] { "1042", "666AF315" }, watched.Select(w => w.RowKey).Order());
        Assert.All(watched, w => Assert.Equal("cli", w.Source));

        var list = await RunAsync(app, "watch", "list", "--json");
        Assert.Equal(new[] { "1042", "666AF315" }, list.Json.AsArray().Select(o => o!["order"]!.GetValue<string>()).Order());
        var table = await RunAsync(app, "watch", "list");
        Assert.Matches(@"666AF315\s+cli", table.Out);
        Assert.Contains("2 order(s) watched.", table.Out);

        var remove = await RunAsync(app, "watch", "remove", "666AF315", "777");
        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.Contains("Stopped watching 666AF315.", remove.Out);
        Assert.Contains("777 was not watched.", remove.Out);
        Assert.Equal(new[] { "1042" }, (await app.Get<WatchStore>().ListAsync(CancellationToken.None)).Select(w => w.RowKey));
        AssertNoSecrets(table, Secrets(app));
    }

    [Fact]
    public async Task Cursors_and_runs_show_what_the_poller_recorded()
    {
        await using var app = await AppHarness.StartAsync();
        var order = app.Spp.Store.AddOrder();
        var number = order["number"]!.GetValue<string>();
        app.Spp.Store.AddOrderMessage(number, "<p>first</p>");
        var newest = app.Spp.Store.AddOrderMessage(number, "<p>second</p>");
        Assert.Equal(0, (await RunAsync(app, "watch", "add", number)).ExitCode);

        var before = await RunAsync(app, "watch", "cursors", "--json");
        var entry = before.Json["orders"]![0]!;
        Assert.False(entry["baselined"]!.GetValue<bool>());
        Assert.Equal(0, entry["lastMessageId"]!.GetValue<long>());
        Assert.Equal("The poller has not run yet (no rows in its runs table).", (await RunAsync(app, "watch", "runs")).Out.Trim());

        var run = await app.Get<OrderMessagePoller>().RunAsync(CancellationToken.None);

        var cursors = await RunAsync(app, "watch", "cursors", "--json");
        Assert.True(cursors.ExitCode == 0, cursors.ToString());
        var cursor = cursors.Json["orders"]![0]!;
        Assert.Equal(number, cursor["order"]!.GetValue<string>());
        Assert.True(cursor["baselined"]!.GetValue<bool>());
        Assert.Equal(newest["id"]!.GetValue<long>(), cursor["lastMessageId"]!.GetValue<long>());
        Assert.NotNull(cursors.Json["poller"]);
        var human = await RunAsync(app, "watch", "cursors");
        Assert.Matches($@"{number}\s+\S*\s*{number}?.*yes\s+{newest["id"]}", human.Out);

        var runs = await RunAsync(app, "watch", "runs", "--json");
        Assert.True(runs.ExitCode == 0, runs.ToString());
        var last = runs.Json[0]!;
        Assert.Equal(run.Outcome, last["outcome"]!.GetValue<string>());
        Assert.Equal(1, last["ordersWatched"]!.GetValue<int>());
        Assert.Equal(run.ApiCalls, last["apiCalls"]!.GetValue<int>());
        var table = await RunAsync(app, "watch", "runs", "--limit", "5");
        Assert.Contains(run.Outcome, table.Out);
    }

    [Fact]
    public async Task Add_open_sweeps_every_page_of_spp_orders_watches_the_open_ones_and_shows_progress()
    {
        await using var app = await AppHarness.StartAsync();
        var open = Enumerable.Range(0, 101).Select(_ => app.Spp.Store.AddOrder()["id"]!.ToString()).ToList();
        var closed = new[] { "Complete", "Cancelled", "complete" }.Select(s => app.Spp.Store.AddOrder(s)["id"]!.ToString()).ToList();
        Assert.Equal(0, (await RunAsync(app, "watch", "add", open[0])).ExitCode);

        var run = await RunAsync(Environment(app), app.Names, null, interactive: false, progressInterval: TimeSpan.Zero,
            CancellationToken.None, "watch", "add", "--open");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Open orders in SPP: 100 now watched, 1 already watched; 3 closed order(s) skipped (104 listed).", run.Out);
        Assert.Contains("Watching open orders: 104", run.Out); // a progress line per order off a terminal
        Assert.Equal(2, app.Spp.RequestsTo("GET", "/api/orders").Count(r => r.Path.TrimEnd('/') == "/api/orders")); // 100 per page
        var watched = (await app.Get<WatchStore>().ListAsync(CancellationToken.None)).Select(w => w.RowKey).ToHashSet();
        Assert.Equal(open.Select(WatchStore.Key).Order(), watched.Order());
        Assert.DoesNotContain(closed.Select(WatchStore.Key), watched.Contains);

        var again = await RunAsync(app, "watch", "add", "--open", "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(0, again.Json["open"]!["added"]!.GetValue<int>());
        Assert.Equal(101, again.Json["open"]!["alreadyWatched"]!.GetValue<int>());
        Assert.Equal(3, again.Json["open"]!["closed"]!.GetValue<int>());
        Assert.Empty(again.Json["orders"]!.AsArray());
        AssertNoSecrets(run, Secrets(app));
    }

    [Theory]
    [InlineData(new[] { "watch", "add" }, "Name the orders to watch, or --open for every open order in SPP")]
    [InlineData(new[] { "watch", "remove" }, "ORDERS")]
    [InlineData(new[] { "watch", "runs", "--limit", "0" }, "--limit must be between 1 and 1000")]
    [InlineData(new[] { "watch", "add", " " }, "must not be empty")]
    public async Task Bad_watch_arguments_exit_2_with_a_message(string[] args, string message)
    {
        var run = await RunAsync(new Dictionary<string, string>(), null, null, args);
        AssertFails(run, 2, message);
    }
}
