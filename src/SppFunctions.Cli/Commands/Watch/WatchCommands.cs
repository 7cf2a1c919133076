using System.ComponentModel;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Spectre.Console.Cli;
using Spp.Client;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Polling;

namespace SppFunctions.Cli.Commands.Watch;

public sealed class WatchOrdersSettings : CliSettings
{
    [CommandArgument(0, "<ORDERS>")]
    [Description("Order ids or numbers, e.g. 666AF315 or 1042.")]
    public string[] Orders { get; init; } = [];

    public override ValidationResult Validate() =>
        Orders.Any(string.IsNullOrWhiteSpace) ? ValidationResult.Error("Order ids or numbers must not be empty.") : ValidationResult.Success();
}

public sealed class WatchAddSettings : CliSettings
{
    [CommandArgument(0, "[ORDERS]")]
    [Description("Order ids or numbers, e.g. 666AF315 or 1042.")]
    public string[] Orders { get; init; } = [];

    [CommandOption("--open")]
    [Description("Also every open order in SPP (status not in Polling__ClosedStatuses; default Complete, Cancelled).")]
    public bool Open { get; init; }

    public override ValidationResult Validate() =>
        Orders.Length == 0 && !Open ? ValidationResult.Error("Name the orders to watch, or --open for every open order in SPP.")
        : Orders.Any(string.IsNullOrWhiteSpace) ? ValidationResult.Error("Order ids or numbers must not be empty.")
        : ValidationResult.Success();
}

public sealed class WatchRunsSettings : CliSettings
{
    [CommandOption("--limit <N>")]
    [Description("How many of the latest runs.")]
    [DefaultValue(10)]
    public int Limit { get; init; } = 10;

    public override ValidationResult Validate() =>
        Limit is < 1 or > 1000 ? ValidationResult.Error("--limit must be between 1 and 1000.") : ValidationResult.Success();
}

internal static class WatchJson
{
    public static JsonObject Order(WatchedOrder o, bool cursor) 
    {
        var json = new JsonObject
        {
            ["order"] = o.Number ?? o.RowKey,
            ["orderId"] = o.OrderId,
            ["number"] = o.Number,
            ["status"] = o.Status,
            ["source"] = o.Source,
            ["addedAt"] = o.AddedAt,
            ["checkedAt"] = o.CheckedAt,
        };
        if (cursor)
        {
            json["baselined"] = o.Baselined;
            json["lastMessageId"] = o.LastMessageId;
            json["lastMessageAt"] = o.LastMessageAt;
        }
        return json;
    }
}

/// <summary><c>sppfn watch list</c>: the watched orders.</summary>
public sealed class WatchListCommand(CliContext cli) : CliCommand<CliSettings>(cli)
{
    protected override async Task<int> RunAsync(CliSettings settings, CancellationToken cancellationToken)
    {
        await using var services = Cli.Storage(Cli.Settings(settings), s => s.AddWatchStores());
        var orders = (await services.GetRequiredService<WatchStore>().ListAsync(cancellationToken))
            .OrderBy(o => o.AddedAt).ThenBy(o => o.RowKey).ToList();
        if (settings.Json)
        {
            Output.Json(new JsonArray(orders.Select(o => (JsonNode)WatchJson.Order(o, cursor: false)).ToArray()));
            return ExitCodes.Ok;
        }
        if (orders.Count == 0)
        {
            Output.Line("No orders are watched.");
            return ExitCodes.Ok;
        }
        var table = CliOutput.Table("Order", "Id", "Number", "Status", "Source", "Added (UTC)", "Checked (UTC)");
        foreach (var o in orders)
        {
            table.AddRow(Output.Cell(o.Number ?? o.RowKey), Output.Cell(o.OrderId), Output.Cell(o.Number), Output.Cell(o.Status),
                Output.Cell(o.Source), Output.Cell(Time(o.AddedAt)), Output.Cell(Time(o.CheckedAt)));
        }
        Output.Write(table);
        Output.Line($"{orders.Count} order(s) watched.");
        return ExitCodes.Ok;
    }
}

/// <summary><c>sppfn watch add</c>: starts watching orders (an order already watched keeps its cursor).</summary>
public sealed class WatchAddCommand(CliContext cli) : CliCommand<WatchAddSettings>(cli)
{
    public const string Source = "cli";

    protected override async Task<int> RunAsync(WatchAddSettings settings, CancellationToken cancellationToken)
    {
        var configuration = Cli.Settings(settings);
        await using var services = Cli.Storage(configuration, s => s.AddWatchStores());
        var store = services.GetRequiredService<WatchStore>();
        var time = services.GetRequiredService<TimeProvider>();
        var results = new JsonArray();
        foreach (var order in settings.Orders)
        {
            var added = await store.AddIfNewAsync(order, Source, time.GetUtcNow(), cancellationToken);
            results.Add(new JsonObject { ["order"] = WatchStore.Key(order), ["added"] = added });
            if (!settings.Json)
            {
                Output.Line(added
                    ? $"Watching {WatchStore.Key(order)}."
                    : $"{WatchStore.Key(order)} was already watched (its cursor is kept).");
            }
        }
        if (settings.Open)
        {
            var sweep = await AddOpenOrdersAsync(configuration, settings.Json, store, time, cancellationToken);
            if (settings.Json)
            {
                Output.Json(new JsonObject { ["orders"] = results, ["open"] = sweep.ToJson() });
                return ExitCodes.Ok;
            }
            else
            {
                Output.Line($"Open orders in SPP: {sweep.Added} now watched, {sweep.AlreadyWatched} already watched; "
                    + $"{sweep.Closed} closed order(s) skipped ({sweep.Listed} listed).");
            }
        }
        if (settings.Json) Output.Json(results);
        return ExitCodes.Ok;
    }

    /// <summary>Watches each open order SPP lists, as <c>Polling__Bootstrap</c> does once in the app, with progress per page.</summary>
    private async Task<OpenOrdersSweep> AddOpenOrdersAsync(
        CliConfiguration configuration, bool json, WatchStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var options = new PollingOptions
        {
            ClosedStatuses = configuration.Configuration.GetSection("Polling:ClosedStatuses").Get<List<string>>() ?? [],
        };
        await using var spp = Cli.Spp(configuration);
        var client = spp.GetRequiredService<SppClient>();
        var sweep = new OpenOrdersSweep();
        return await Output.ProgressAsync("Watching open orders", null, json, async step =>
        {
            await foreach (var page in OpenOrders.WatchAllAsync(client, store, options, Source, time.GetUtcNow(), cancellationToken))
            {
                sweep.Added += page.Count(o => o == OpenOrderOutcome.Added);
                sweep.AlreadyWatched += page.Count(o => o == OpenOrderOutcome.AlreadyWatched);
                sweep.Closed += page.Count(o => o == OpenOrderOutcome.Closed);
                step(page.Count);
            }
            return sweep;
        });
    }

    private sealed class OpenOrdersSweep
    {
        public int Listed => Added + AlreadyWatched + Closed;
        public int Added { get; set; }
        public int AlreadyWatched { get; set; }
        public int Closed { get; set; }

        public JsonObject ToJson() => new() { ["listed"] = Listed, ["added"] = Added, ["alreadyWatched"] = AlreadyWatched, ["closed"] = Closed };
    }
}

/// <summary><c>sppfn watch remove</c>: stops watching orders (and forgets their cursors).</summary>
public sealed class WatchRemoveCommand(CliContext cli) : CliCommand<WatchOrdersSettings>(cli)
{
    protected override async Task<int> RunAsync(WatchOrdersSettings settings, CancellationToken cancellationToken)
    {
        await using var services = Cli.Storage(Cli.Settings(settings), s => s.AddWatchStores());
        var store = services.GetRequiredService<WatchStore>();
        var results = new JsonArray();
        foreach (var order in settings.Orders)
        {
            var removed = await store.RemoveAsync(order, cancellationToken);
            results.Add(new JsonObject { ["order"] = WatchStore.Key(order), ["removed"] = removed });
            if (!settings.Json) Output.Line(removed ? $"Stopped watching {WatchStore.Key(order)}." : $"{WatchStore.Key(order)} was not watched.");
        }
        if (settings.Json) Output.Json(results);
        return ExitCodes.Ok;
    }
}

/// <summary><c>sppfn watch cursors</c>: the watched orders with their cursor, and the poller's own state.</summary>
public sealed class WatchCursorsCommand(CliContext cli) : CliCommand<CliSettings>(cli)
{
    protected override async Task<int> RunAsync(CliSettings settings, CancellationToken cancellationToken)
    {
        await using var services = Cli.Storage(Cli.Settings(settings), s => s.AddWatchStores());
        var store = services.GetRequiredService<WatchStore>();
        var orders = (await store.ListAsync(cancellationToken)).OrderBy(o => o.AddedAt).ThenBy(o => o.RowKey).ToList();
        var state = await store.GetStateAsync(cancellationToken);
        if (settings.Json)
        {
            Output.Json(new JsonObject
            {
                ["poller"] = new JsonObject
                {
                    ["watermark"] = state.Watermark,
                    ["lastSweepAt"] = state.LastSweepAt,
                    ["bootstrapped"] = state.Bootstrapped,
                    ["leaseUntil"] = state.LeaseUntil,
                },
                ["orders"] = new JsonArray(orders.Select(o => (JsonNode)WatchJson.Order(o, cursor: true)).ToArray()),
            });
            return ExitCodes.Ok;
        }
        Output.Line($"Poller: newest last_message_at seen {Or(Time(state.Watermark))}, last sweep {Or(Time(state.LastSweepAt))}, " +
            $"bootstrapped {(state.Bootstrapped ? "yes" : "no")}.");
        if (orders.Count == 0)
        {
            Output.Line("No orders are watched.");
            return ExitCodes.Ok;
        }
        var table = CliOutput.Table("Order", "Id", "Number", "Status", "Baselined", "Last message id", "Last message at (UTC)", "Checked (UTC)");
        foreach (var o in orders)
        {
            table.AddRow(Output.Cell(o.Number ?? o.RowKey), Output.Cell(o.OrderId), Output.Cell(o.Number), Output.Cell(o.Status),
                Output.Cell(o.Baselined ? "yes" : "no"), Output.Cell(o.LastMessageId == 0 ? "" : o.LastMessageId),
                Output.Cell(Time(o.LastMessageAt)), Output.Cell(Time(o.CheckedAt)));
        }
        Output.Write(table);
        return ExitCodes.Ok;
    }

    private static string Or(string text) => text.Length == 0 ? "never" : text;
}

/// <summary><c>sppfn watch runs</c>: the poller's latest run summaries (is it alive, what did it do).</summary>
public sealed class WatchRunsCommand(CliContext cli) : CliCommand<WatchRunsSettings>(cli)
{
    protected override async Task<int> RunAsync(WatchRunsSettings settings, CancellationToken cancellationToken)
    {
        await using var services = Cli.Storage(Cli.Settings(settings), s => s.AddWatchStores());
        var runs = await services.GetRequiredService<PollRunStore>().LatestAsync(settings.Limit, cancellationToken);
        if (settings.Json)
        {
            Output.Json(new JsonArray(runs.Select(r => (JsonNode)new JsonObject
            {
                ["startedAt"] = r.StartedAt,
                ["durationMs"] = r.DurationMs,
                ["outcome"] = r.Outcome,
                ["ordersWatched"] = r.OrdersWatched,
                ["ordersChecked"] = r.OrdersChecked,
                ["apiCalls"] = r.ApiCalls,
                ["eventsEmitted"] = r.EventsEmitted,
                ["ordersAdded"] = r.OrdersAdded,
                ["ordersRemoved"] = r.OrdersRemoved,
                ["errors"] = r.Errors,
                ["lastError"] = r.LastError,
            }).ToArray()));
            return ExitCodes.Ok;
        }
        if (runs.Count == 0)
        {
            Output.Line("The poller has not run yet (no rows in its runs table).");
            return ExitCodes.Ok;
        }
        var table = CliOutput.Table("Started (UTC)", "ms", "Outcome", "Watched", "Checked", "SPP calls", "Events", "Added", "Removed",
            "Errors", "Last error");
        foreach (var r in runs)
        {
            table.AddRow(Output.Cell(Time(r.StartedAt)), Output.Cell(r.DurationMs), Output.Cell(r.Outcome), Output.Cell(r.OrdersWatched),
                Output.Cell(r.OrdersChecked), Output.Cell(r.ApiCalls), Output.Cell(r.EventsEmitted), Output.Cell(r.OrdersAdded),
                Output.Cell(r.OrdersRemoved), Output.Cell(r.Errors), Output.Cell(Shorten(r.LastError, 50)));
        }
        Output.Write(table);
        return ExitCodes.Ok;
    }
}
