using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Processing;

namespace SppFunctions.Cli.Commands.Events;

public sealed class EventsReplaySettings : CliSettings
{
    [CommandArgument(0, "[IDS]")]
    [Description("Ids of failed events to replay.")]
    public string[] Ids { get; init; } = [];

    [CommandOption("--from <TIME>")]
    [Description("Replay failed events SPP created at or after this time (2026-11-01T00:00:00Z, 2026-11-01, 6h / 2d ago).")]
    public string? From { get; init; }

    [CommandOption("--to <TIME>")]
    [Description("Replay failed events SPP created before this time (same forms as --from).")]
    public string? To { get; init; }

    [CommandOption("--limit <N>")]
    [Description("Most events replayed by one call.")]
    [DefaultValue(ReplayService.MaxPerRequest)]
    public int Limit { get; init; } = ReplayService.MaxPerRequest;

    public override ValidationResult Validate()
    {
        if (Ids.Length == 0 && From is null && To is null)
            return ValidationResult.Error("Name the events to replay: ids, or a time range (--from and/or --to).");
        if (Limit is < 1 or > ReplayService.MaxPerRequest)
            return ValidationResult.Error($"--limit must be between 1 and {ReplayService.MaxPerRequest}.");
        return ValidationResult.Success();
    }
}

/// <summary>
/// <c>sppfn events replay</c>: re-enqueues failed events through <see cref="ReplayService"/>, exactly as the
/// <c>POST /api/ops/replay</c> function does (succeeded actions are skipped, failed and unknown ones run again).
/// </summary>
public sealed class EventsReplayCommand(CliContext cli) : CliCommand<EventsReplaySettings>(cli)
{
    protected override async Task<int> RunAsync(EventsReplaySettings settings, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var from = Parse.Time(settings.From, "--from", now);
        var to = Parse.Time(settings.To, "--to", now);
        Parse.Range(from, to);
        var configuration = Cli.Settings(settings);
        await using var services = Cli.Storage(configuration, s => s.AddReplay());
        // A range's size is known only as it is read: a spinner with a count then, a bar for a list of ids.
        var request = new ReplayRequest(settings.Ids.Length > 0 ? settings.Ids : null, from, to, settings.Limit);
        var report = await Output.ProgressAsync("Replaying", from is null && to is null ? settings.Ids.Length : null, settings.Json,
            step => services.GetRequiredService<ReplayService>().ReplayAsync(request, cancellationToken, _ => step(1)));

        if (settings.Json)
        {
            Output.Json(new JsonObject
            {
                ["replayed"] = new JsonArray(report.Replayed.Select(id => (JsonNode)JsonValue.Create(id)).ToArray()),
                ["skipped"] = new JsonArray(report.Skipped.Select(s => (JsonNode)new JsonObject { ["id"] = s.Id, ["reason"] = s.Reason }).ToArray()),
                ["truncated"] = report.Truncated,
            });
        }
        else
        {
            Output.Line(report.Replayed.Count == 0
                ? "No event was replayed."
                : $"Replayed {report.Replayed.Count} event(s): they are back on the events queue.");
            foreach (var id in report.Replayed) Output.Line($"  {id}");
            if (report.Skipped.Count > 0)
            {
                var table = CliOutput.Table("Skipped", "Reason");
                foreach (var skip in report.Skipped) table.AddRow(Output.Cell(skip.Id), Output.Cell(skip.Reason));
                Output.Write(table);
            }
            if (report.Truncated) Output.Line($"More failed events match: run it again (at most {settings.Limit} per call).");
        }
        if (report.Skipped.Count > 0)
        {
            Output.Error($"{report.Skipped.Count} event(s) were not replayed: {report.Skipped[0].Id}: {report.Skipped[0].Reason}");
            return ExitCodes.Failed;
        }
        return ExitCodes.Ok;
    }
}
