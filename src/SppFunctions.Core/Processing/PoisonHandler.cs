using System.Text.Json;
using Microsoft.Extensions.Logging;
using SppFunctions.Events;
using SppFunctions.Storage;
using SppFunctions.Tracing;

namespace SppFunctions.Processing;

/// <summary>
/// Handles messages the Functions host moved to a poison queue after its last failed delivery (host.json
/// <c>maxDequeueCount</c>): marks the event failed in the event log, with the last error, and keeps its payload in a
/// blob so it can be replayed. Taking the message off the poison queue is then safe: the log row and blob hold all of it.
/// </summary>
public class PoisonHandler
{
    private readonly EventStore _log;
    private readonly PayloadStore _payloads;
    private readonly CommandProcessor _commands;
    private readonly TimeProvider _time;
    private readonly ILogger<PoisonHandler> _logger;

    public PoisonHandler(EventStore log, PayloadStore payloads, CommandProcessor commands, TimeProvider time, ILogger<PoisonHandler> logger)
    {
        _log = log;
        _payloads = payloads;
        _commands = commands;
        _time = time;
        _logger = logger;
    }

    public virtual async Task HandleEventAsync(string messageText, CancellationToken cancellationToken)
    {
        EventMessage message;
        try
        {
            message = EventMessage.Parse(messageText);
        }
        catch (JsonException ex)
        {
            _logger.LogError("A message on the events poison queue is not an event and was dropped: {Reason}", ex.Message);
            return;
        }
        // The failure shows in the event's own trace, where its attempts are.
        using var span = EventTracing.StartProcessing(_logger, EventTracing.EventPoison, message.Id, message.Event, message.Source,
            message.TraceContext(), message.Retry, message.Replay);
        var blob = message.PayloadBlob
            ?? await _payloads.SaveAsync($"{message.Id}/failed", BinaryData.FromString(message.Payload!.ToJsonString()), cancellationToken)
                .ConfigureAwait(false);
        await MarkFailedAsync(message.Id, blob, () => EventProcessor.NewEntry(message, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    public virtual async Task HandleCommandAsync(string messageText, DateTimeOffset insertedAt, CancellationToken cancellationToken)
    {
        if (!CommandProcessor.TryParse(messageText, insertedAt, out var command, out var error, out _))
        {
            _logger.LogError("A message on the commands poison queue is not a valid command and was dropped: {Reason}", error);
            return;
        }
        command = await _commands.WithLogIdAsync(command, cancellationToken).ConfigureAwait(false);
        using var span = EventTracing.StartProcessing(_logger, EventTracing.CommandPoison, command.EventId, $"command.{command.Action.Type}",
            EventSources.Command, command.Trace, command.Retry, command.Replay);
        var blob = await _payloads.SaveAsync($"{command.EventId}/command", BinaryData.FromString(messageText), cancellationToken)
            .ConfigureAwait(false);
        await MarkFailedAsync(command.EventId, blob, () => new EventEntry
        {
            RowKey = command.EventId, EventName = $"command.{command.Action.Type}", Topic = "commands", Source = EventSources.Command,
            ReceivedAt = _time.GetUtcNow(), CreatedAt = insertedAt,
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task MarkFailedAsync(string id, string blob, Func<EventEntry> create, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await _log.TransitionAsync(id, entry =>
        {
            if (entry is { Status: EventStatus.Succeeded }) return null; // a duplicate that failed after the original succeeded
            entry ??= create();
            var last = string.IsNullOrEmpty(entry.Error) ? "" : $" Last error: {entry.Error}";
            entry.Status = EventStatus.Failed;
            entry.Error = EventProcessor.Truncate($"Moved to the poison queue after {Math.Max(entry.Attempts, 1)} attempt(s).{last}");
            entry.PayloadBlob = blob;
            entry.UpdatedAt = now;
            entry.CompletedAt = now;
            return entry;
        }, cancellationToken).ConfigureAwait(false);
        EventTracing.SetOutcome(EventTracing.Outcomes.Poisoned, "The message reached the poison queue.");
        _logger.LogError("Event {EventId} failed: it reached the poison queue", id);
    }
}
