using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Events;
using SppFunctions.Processing;

namespace SppFunctions.Cli.Commands.Events;

public sealed class EventsShowSettings : CliSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The event id, e.g. 1764403200-0123456789abcdef01234567 (from events list or the webhook's answer).")]
    public string Id { get; init; } = "";

    [CommandOption("--payload")]
    [Description("Also print the stored payload {event, created, data} (kept for failed and large events).")]
    public bool Payload { get; init; }

    public override ValidationResult Validate() => EventIds.IsValid(Id)
        ? ValidationResult.Success()
        : ValidationResult.Error(
            $"'{Id}' is not an event id (expected 10 digits, '-', 24 hex characters, e.g. 1764403200-0123456789abcdef01234567).");
}

/// <summary><c>sppfn events show</c>: an event's log row and its action records.</summary>
public sealed class EventsShowCommand(CliContext cli) : CliCommand<EventsShowSettings>(cli)
{
    protected override async Task<int> RunAsync(EventsShowSettings settings, CancellationToken cancellationToken)
    {
        var configuration = Cli.Settings(settings);
        await using var services = Cli.Storage(configuration, s => s.AddEventInspection());
        var inspector = services.GetRequiredService<EventInspector>();
        var details = await inspector.GetAsync(settings.Id, cancellationToken)
            ?? throw CliException.Failed($"No event {settings.Id} in the event log.");
        var payload = settings.Payload ? await inspector.ReadPayloadAsync(details.Entry, cancellationToken) : null;

        if (settings.Json)
        {
            var json = new JsonObject
            {
                ["event"] = EventJson.Row(details.Entry),
                ["actionScope"] = details.ActionScope,
                ["actions"] = new JsonArray(details.Actions.Select(a => (JsonNode)EventJson.Action(a)).ToArray()),
            };
            if (settings.Payload) json["payload"] = payload;
            Output.Json(json);
            return ExitCodes.Ok;
        }

        var e = details.Entry;
        void Row(string name, object? value) => Output.Line($"{name,-20}{CliOutput.Format(value)}");
        Row("Id", e.Id);
        Row("Event", e.EventName);
        Row("Topic", e.Topic);
        Row("Source", e.Source);
        Row("Status", e.Status);
        Row("Created (SPP, UTC)", Time(e.CreatedAt));
        Row("Received (UTC)", Time(e.ReceivedAt));
        Row("Updated (UTC)", Time(e.UpdatedAt));
        Row("Completed (UTC)", Time(e.CompletedAt));
        Row("data.id", e.DataId);
        Row("Size (bytes)", e.Size);
        Row("Payload blob", e.PayloadBlob);
        Row("Attempts", e.Attempts);
        Row("Replays", e.Replays);
        Row("Error", e.Error);
        Output.Line();

        if (details.Actions.Count == 0)
        {
            Output.Line("No action records (no rule or handler acted on it yet).");
        }
        else
        {
            var table = CliOutput.Table("Action", "Type", "Status", "Attempts", "Generation", "Completed (UTC)", "Result", "Error");
            foreach (var a in details.Actions)
            {
                table.AddRow(Output.Cell(a.Key), Output.Cell(a.Type), Output.Cell(a.Status), Output.Cell(a.Attempts), Output.Cell(a.Generation),
                    Output.Cell(Time(a.CompletedAt)), Output.Cell(Shorten(a.Result, 40)), Output.Cell(Shorten(a.Error)));
            }
            Output.Write(table);
        }

        if (settings.Payload)
        {
            Output.Line();
            if (payload is null) Output.Line("The payload was not kept (it travelled inline on the queue and the event did not fail).");
            else Output.Json(payload);
        }
        return ExitCodes.Ok;
    }
}
