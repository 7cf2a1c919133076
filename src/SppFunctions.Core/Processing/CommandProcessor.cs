using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using SppFunctions.Events;
using SppFunctions.Processing.Actions;
using SppFunctions.Queueing;
using SppFunctions.Processing.Model;
using SppFunctions.Storage;
using SppFunctions.Tracing;

namespace SppFunctions.Processing;

/// <summary>
/// Processes the commands queue: JSON messages from other systems asking for one SPP action, run through the same
/// executor and at-most-once bookkeeping as rule actions. The command's <c>id</c> is its idempotency key: sending the
/// same command twice has one effect. Each command gets an event-log row (source "command") so failures are visible
/// and replayable. Formats:
/// <code>
/// {"id": "crm-4711", "type": "create_order_message", "order": "E4A269FC", "message": "&lt;p&gt;Hi&lt;/p&gt;", "userId": 5, "staffOnly": false}
/// {"id": "crm-4712", "type": "delete_order_message", "messageId": 1234}
/// {"id": "crm-4713", "type": "api_call", "method": "PUT", "path": "orders/E4A269FC", "query": {}, "headers": {}, "body": {"note": "synced"}}
/// </code>
/// </summary>
public partial class CommandProcessor
{
    private readonly IdempotentActionRunner _runner;
    private readonly ActionRecordStore _records;
    private readonly EventStore _log;
    private readonly PayloadStore _payloads;
    private readonly RetryScheduler _retries;
    private readonly TimeProvider _time;
    private readonly ILogger<CommandProcessor> _logger;

    public CommandProcessor(IdempotentActionRunner runner, ActionRecordStore records, EventStore log, PayloadStore payloads, RetryScheduler retries,
        TimeProvider time, ILogger<CommandProcessor> logger)
    {
        _runner = runner;
        _records = records;
        _log = log;
        _payloads = payloads;
        _retries = retries;
        _time = time;
        _logger = logger;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.:-]{1,100}\z")]
    private static partial Regex IdShape();

    /// <summary>
    /// A parsed command: its id, the action, the log row it belongs to, (set by <see cref="RetryScheduler"/>) how
    /// often it was re-scheduled and since when, and the sender's trace context when it sent one.
    /// </summary>
    public sealed record Command(string Id, PlannedAction Action, string EventId, int Replay, int Retry = 0, DateTimeOffset? RetryingSince = null,
        MessageTraceContext? Trace = null);

    /// <param name="insertedAt">When the message was put on the queue (names the log row of a new command).</param>
    public virtual async Task ProcessAsync(string messageText, long dequeueCount, DateTimeOffset insertedAt, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (!TryParse(messageText, insertedAt, out var command, out var error, out var partialId))
        {
            // A malformed command fails for good, visibly: a failed row with the reason, its text kept for inspection.
            var id = EventIds.Create("command.invalid", partialId, insertedAt.ToUnixTimeSeconds(), messageText);
            var blob = await _payloads.SaveAsync($"{id}/command", BinaryData.FromString(messageText), cancellationToken).ConfigureAwait(false);
            await _log.TransitionAsync(id,
                entry => Row(entry, id, "command.invalid", insertedAt, now, EventStatus.Failed, dequeueCount, error, blob, 0), cancellationToken)
                .ConfigureAwait(false);
            _logger.LogWarning("Command refused ({EventId}): {Error}", id, error);
            return;
        }

        command = await WithLogIdAsync(command, cancellationToken).ConfigureAwait(false);
        // Continues the sender's trace when the command carries one, and tags every log line with the log row's id.
        using var span = EventTracing.StartProcessing(_logger, EventTracing.ProcessCommand, command.EventId, $"command.{command.Action.Type}",
            EventSources.Command, command.Trace, command.Retry, command.Replay);
        dequeueCount += command.Retry; // attempts so far: the deliveries of this copy and of the re-scheduled ones before it
        var name = $"command.{command.Action.Type}";
        await _log.TransitionAsync(command.EventId, entry => entry?.IsSettled(command.Replay) == true
            ? null
            : Row(entry, command.EventId, name, insertedAt, now, EventStatus.Processing, dequeueCount, null, entry?.PayloadBlob, command.Replay),
            cancellationToken).ConfigureAwait(false);

        ActionOutcome outcome;
        try
        {
            outcome = await _runner.RunAsync($"cmd-{command.Id}", "command", command.Replay, () => command.Action, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RetryLaterException ex)
        {
            var plan = _retries.Plan(command.Retry, command.RetryingSince, ex.RetryAfter);
            if (plan is not null)
            {
                // The row first: if the send fails, the exception lets the queue redeliver this message instead.
                await _log.TransitionAsync(command.EventId, entry => entry?.IsSettled(command.Replay) == true
                    ? null // another delivery settled it meanwhile
                    : Row(entry, command.EventId, name, insertedAt, _time.GetUtcNow(), EventStatus.Processing, dequeueCount,
                        RetryScheduler.Scheduled(plan, ex.Message), entry?.PayloadBlob, command.Replay),
                    cancellationToken).ConfigureAwait(false);
                await _retries.ScheduleAsync(RetryDestination.Commands, messageText, plan, ex.Message, cancellationToken).ConfigureAwait(false);
                return;
            }
            outcome = new ActionOutcome("command", ActionStatus.Failed, null,
                RetryScheduler.GaveUp(dequeueCount, command.RetryingSince ?? now, _time.GetUtcNow(), ex.Message), AlreadyDone: false);
        }

        string? archived = null;
        if (outcome.Failed)
        {
            archived = await _payloads.SaveAsync($"{command.EventId}/command", BinaryData.FromString(messageText), cancellationToken)
                .ConfigureAwait(false);
        }
        await _log.TransitionAsync(command.EventId, entry =>
        {
            var row = Row(entry, command.EventId, name, insertedAt, _time.GetUtcNow(), outcome.Failed ? EventStatus.Failed : EventStatus.Succeeded,
                dequeueCount, outcome.Error, entry?.PayloadBlob ?? archived, command.Replay);
            row.CompletedAt = _time.GetUtcNow();
            return row;
        }, cancellationToken).ConfigureAwait(false);
        if (outcome.Failed) EventTracing.SetOutcome(EventTracing.Outcomes.Failed, outcome.Error ?? "failed");
        else EventTracing.SetOutcome(EventTracing.Outcomes.Succeeded);
        _logger.LogInformation("Command {CommandId} ({Type}) {Status}", command.Id, command.Action.Type, outcome.Status);
    }

    /// <summary>Gives the command the log id it got when first seen (a replay carries it already).</summary>
    public virtual async Task<Command> WithLogIdAsync(Command command, CancellationToken cancellationToken) =>
        command with { EventId = await _records.GetOrAddCommandLogIdAsync(command.Id, command.EventId, cancellationToken).ConfigureAwait(false) };

    private static EventEntry Row(EventEntry? entry, string id, string name, DateTimeOffset insertedAt, DateTimeOffset now, string status,
        long attempts, string? error, string? blob, int replay)
    {
        entry ??= new EventEntry
        {
            RowKey = id, EventName = name, Topic = "commands", Source = EventSources.Command, ReceivedAt = now, CreatedAt = insertedAt,
        };
        entry.Status = status;
        entry.Replays = Math.Max(entry.Replays, replay); // (so a replay's late write to the row sees it was processed)
        entry.Attempts = (int)Math.Max(attempts, 1);
        entry.Error = error;
        entry.PayloadBlob = blob;
        entry.UpdatedAt = now;
        return entry;
    }

    /// <summary>Reads and validates a command; on failure <paramref name="error"/> says what is wrong with which field.</summary>
    public static bool TryParse(string text, DateTimeOffset insertedAt, out Command command, out string error, out string? id)
    {
        command = null!;
        id = null;
        JsonObject obj;
        try
        {
            if (JsonNode.Parse(text) is not JsonObject parsed) { error = "A command must be a JSON object."; return false; }
            obj = parsed;
        }
        catch (JsonException ex)
        {
            error = $"A command must be JSON: {ex.Message}";
            return false;
        }

        id = obj["id"] is JsonValue iv && iv.TryGetValue<string>(out var s) ? s : null;
        if (id is null || !IdShape().IsMatch(id))
        {
            error = "id is required: 1-100 letters, digits, '_', '-', '.', ':' (it is the command's idempotency key).";
            return false;
        }
        // The same typed model as the rules file's actions; a command's values are taken literally (no templates).
        var problems = new List<string>();
        var errors = new ActionErrors((field, problem) => problems.Add($"{field} {problem}"))
        {
            Tolerated = { "replay", "retry", "retryingSince", MessageTraceContext.TraceParentField, MessageTraceContext.TraceStateField },
        };
        var definition = ActionDefinition.Read(obj, CommandTypes, errors, string.Join(", ", CommandTypes));
        if (definition?.When is not null) problems.Add("when is not a known field of this command.");
        if (definition?.Description is not null) problems.Add("description is not a known field of this command.");
        if (definition is null || problems.Count > 0)
        {
            error = problems.Count == 0 ? "The command could not be read." : string.Join(" ", problems);
            if (error.StartsWith("type is required", StringComparison.Ordinal)) error = $"type is required: {string.Join(", ", CommandTypes)}.";
            return false;
        }
        foreach (var field in new[] { MessageTraceContext.TraceParentField, MessageTraceContext.TraceStateField })
        {
            if (obj[field] is { } value && value.GetValueKind() != JsonValueKind.String)
            {
                error = $"{field} must be a string (a W3C {field}).";
                return false;
            }
        }
        var type = definition.Kind;
        var action = definition.ToPlannedAction();
        error = "";

        var replay = obj["replay"] is JsonValue rv && rv.TryGetValue<int>(out var r) ? r : 0;
        var retry = obj["retry"] is JsonValue rtv && rtv.TryGetValue<int>(out var rt) ? rt : 0;
        DateTimeOffset? retryingSince = obj["retryingSince"] is JsonValue rsv && rsv.TryGetValue<DateTimeOffset>(out var rs) ? rs : null;
        // The log id is derived, never taken from the message: a command cannot take over another event's row. Its
        // first value is remembered per command id (WithLogIdAsync), so redeliveries and replays share one row.
        var eventId = EventIds.Create($"command.{type}", id, insertedAt.ToUnixTimeSeconds(), id);
        // A traceparent that does not parse is ignored, as W3C asks: the command then runs in a trace of its own.
        command = new Command(id, action, eventId, replay, retry, retryingSince, MessageTraceContext.ReadFrom(obj));
        return true;
    }

    /// <summary>The action types a command may carry.</summary>
    public static IReadOnlyList<string> CommandTypes { get; } = new[] { CreateOrderMessageAction.TypeName,
        DeleteOrderMessageAction.TypeName, ApiCallAction.TypeName };
}
