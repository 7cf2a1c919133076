using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Processing;
using SppFunctions.Storage;

namespace SppFunctions.Cli.Commands.Events;

public sealed class EventsListSettings : CliSettings
{
    [CommandOption("--status <STATUS>")]
    [Description("received, processing, succeeded or failed.")]
    public string? Status { get; init; }

    [CommandOption("--name <EVENT>")]
    [Description("Event name, e.g. order.created; * is a wildcard (order.*).")]
    public string? Name { get; init; }

    [CommandOption("--from <TIME>")]
    [Description("Events SPP created at or after: 2026-11-01T00:00:00Z, 2026-11-01, a Unix time, or 6h / 2d (ago).")]
    public string? From { get; init; }

    [CommandOption("--to <TIME>")]
    [Description("Events SPP created before this time (same forms as --from).")]
    public string? To { get; init; }

    [CommandOption("--limit <N>")]
    [Description("The newest N events.")]
    [DefaultValue(EventInspector.DefaultLimit)]
    public int Limit { get; init; } = EventInspector.DefaultLimit;

    public override ValidationResult Validate()
    {
        if (Status is not null && !EventStatus.All.Contains(Status))
        {
            return ValidationResult.Error($"--status '{Status}' must be one of: {string.Join(", ", EventStatus.All)}.");
        }
        if (Limit is < 1 or > EventInspector.MaxLimit) return ValidationResult.Error($"--limit must be between 1 and {EventInspector.MaxLimit}.");
        return ValidationResult.Success();
    }
}

/// <summary><c>sppfn events list</c>: the event log, newest first, filtered.</summary>
public sealed class EventsListCommand(CliContext cli) : CliCommand<EventsListSettings>(cli)
{
    protected override async Task<int> RunAsync(EventsListSettings settings, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var from = Parse.Time(settings.From, "--from", now);
        var to = Parse.Time(settings.To, "--to", now);
        Parse.Range(from, to);
        var configuration = Cli.Settings(settings);
        await using var services = Cli.Storage(configuration, s => s.AddEventInspection());
        var events = await services.GetRequiredService<EventInspector>()
            .ListAsync(new EventQuery(settings.Status, settings.Name, from, to, settings.Limit), cancellationToken);

        if (settings.Json)
        {
            Output.Json(new JsonArray(events.Select(e => (JsonNode)EventJson.Row(e)).ToArray()));
            return ExitCodes.Ok;
        }
        if (events.Count == 0)
        {
            Output.Line("No events match.");
            return ExitCodes.Ok;
        }
        var table = CliOutput.Table("Id", "Event", "Source", "Status", "Created (UTC)", "Received (UTC)", "Attempts", "Replays", "Error");
        foreach (var e in events)
        {
            table.AddRow(Output.Cell(e.Id), Output.Cell(e.EventName), Output.Cell(e.Source), Output.Cell(e.Status), Output.Cell(Time(e.CreatedAt)),
                Output.Cell(Time(e.ReceivedAt)), Output.Cell(e.Attempts), Output.Cell(e.Replays), Output.Cell(Shorten(e.Error)));
        }
        Output.Write(table);
        Output.Line($"{events.Count} event(s), newest first" +
            $"{(events.Count == settings.Limit ? $" (the newest {settings.Limit}; --limit for more)" : "")}.");
        return ExitCodes.Ok;
    }
}
