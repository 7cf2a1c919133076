using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Microsoft.Extensions.Logging;
using SppFunctions.Events;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Handlers;
using SppFunctions.Processing.Rules;
using SppFunctions.Queueing;
using SppFunctions.Storage;
using SppFunctions.Tracing;

namespace SppFunctions.Processing;

/// <summary>
/// Processes one message of the events queue: reads the payload (inline or claim-check blob), moves the event-log
/// row received → processing → succeeded / failed, and runs every matching rule (<see cref="RuleRunner"/>: conditions,
/// steps, forEach), then the matching custom handlers, each action at most once in effect (<see cref="IdempotentActionRunner"/>).
/// A permanent failure of an action ends its rule (later actions of that rule depend on it), never the other rules, and
/// fails the event without a retry; a transient one (<see cref="RetryLaterException"/>) re-schedules the event on a
/// growing schedule (<see cref="RetryScheduler"/>) until <c>Retries__GiveUpAfter</c>, then fails it; actions that
/// already succeeded are skipped by every later attempt.
/// </summary>
public class EventProcessor
{
    private readonly RuleSet _rules;
    private readonly RuleRunner _ruleRunner;
    private readonly (IEventHandler Handler, EventPattern[] Patterns)[] _handlerPatterns;
    private readonly IdempotentActionRunner _runner;
    private readonly ActionRecordStore _records;
    private readonly EventStore _log;
    private readonly PayloadStore _payloads;
    private readonly RetryScheduler _retries;
    private readonly TimeProvider _time;
    private readonly ILogger<EventProcessor> _logger;

    public EventProcessor(RuleSet rules, RuleRunner ruleRunner, IEnumerable<IEventHandler> handlers, IdempotentActionRunner runner,
        ActionRecordStore records, EventStore log, PayloadStore payloads, RetryScheduler retries, TimeProvider time,
        ILogger<EventProcessor> logger)
    {
        _rules = rules;
        _ruleRunner = ruleRunner;
        // Handlers and their patterns are fixed for the life of the app: compile the patterns once, not per event.
        _handlerPatterns = handlers.Select(h => (h, h.Patterns.Select(p => new EventPattern(p)).ToArray())).ToArray();
        _runner = runner;
        _records = records;
        _log = log;
        _payloads = payloads;
        _retries = retries;
        _time = time;
        _logger = logger;
    }

    /// <param name="messageText">The queue message (already Base64-decoded by the trigger).</param>
    /// <param name="dequeueCount">How many times the queue has delivered this message (1 the first time).</param>
    public virtual async Task ProcessAsync(string messageText, long dequeueCount, CancellationToken cancellationToken)
    {
        EventMessage message;
        try
        {
            message = EventMessage.Parse(messageText);
        }
        catch (JsonException ex)
        {
            // Not an event: no id to record it under and nothing to retry. Drop it, loudly.
            _logger.LogError("Dropped a message on the events queue that is not an event: {Reason}", ex.Message);
            return;
        }

        // Continues the sender's trace (kept by re-scheduled copies) and tags every log line with the event id.
        using var span = EventTracing.StartProcessing(_logger, EventTracing.ProcessEvent, message.Id, message.Event, message.Source,
            message.TraceContext(), message.Retry, message.Replay);
        dequeueCount += message.Retry; // attempts so far: the deliveries of this copy and of the re-scheduled ones before it
        var payload = await ReadPayloadAsync(message, cancellationToken).ConfigureAwait(false);
        if (payload is null)
        {
            await FinishAsync(message, dequeueCount, new[] { $"The payload blob {message.PayloadBlob} is missing." }, null,
                cancellationToken).ConfigureAwait(false);
            return;
        }

        var now = _time.GetUtcNow();
        // Before any action: a delivery that cannot record that it is processing the event acts on nothing. On a first
        // delivery that record waits for the first action's claim and goes with it in one transaction (or, with no
        // action, goes as the final state); otherwise it is written now.
        EventEntry? known = null;
        EventWriteBatch? batch = null;
        var firstOfThisVersion = dequeueCount <= 1 && message.Replay == 0 && message.Retry == 0 && message.V >= EventMessage.RecordsWithEvent;
        if (firstOfThisVersion)
        {
            var row = Mark(Queueing.EventPublisher.ReceivedEntry(message, message.DataId), message, EventStatus.Processing, dequeueCount, now);
            batch = new EventWriteBatch(row, ct => MarkProcessingAsync(message, dequeueCount, now, ct));
        }
        else
        {
            known = await MarkProcessingAsync(message, dequeueCount, now, cancellationToken).ConfigureAwait(false);
        }

        var failures = new List<string>();
        var ran = 0;
        Task? idempotent = null;
        try
        {
            var context = new EventContext(message.Id, message.Event, message.Topic, message.Created, message.Source, payload,
                await IsOwnMessageAsync(message.Topic, payload, cancellationToken).ConfigureAwait(false));
            // A first delivery of a first generation normally finds no action records: claim by insert, without reading
            // (not for a message of an earlier version, whose event may have records where that version kept them).
            var likelyNew = dequeueCount <= 1 && message.Replay == 0 && message.V >= EventMessage.RecordsWithEvent;
            var handlers = _handlerPatterns.Where(h => EventPattern.AnyMatches(h.Patterns, message.Event)).Select(h => h.Handler).ToList();
            // Idempotent handlers (the watch-set updater) keep no records and depend on no action: they run alongside
            // the rules, so their writes add no latency.
            var safe = handlers.Where(h => h is IIdempotentEventHandler).ToList();
            ran += safe.Count;
            idempotent = safe.Count == 0 ? null : Task.WhenAll(safe.Select(h => RunIdempotentAsync(h, context, cancellationToken)));
            var steps = new RecordedStepExecutor(_runner, message.Id, message.Replay, likelyNew, batch);
            foreach (var rule in _rules.Matching(context))
            {
                var result = await _ruleRunner.RunAsync(rule, context, steps, cancellationToken).ConfigureAwait(false);
                ran += result.Actions;
                failures.AddRange(result.Failures);
            }
            foreach (var handler in handlers.Where(h => h is not IIdempotentEventHandler))
            {
                ran++;
                var outcome = await _runner.RunAsync(message.Id, $"handler.{handler.GetType().Name}", message.Replay,
                    () => new HandlerAction(handler, context), cancellationToken, likelyNew, batch).ConfigureAwait(false);
                if (outcome.Failed) failures.Add($"handler {handler.GetType().Name}: {outcome.Error}");
            }
            if (idempotent is not null) await idempotent.ConfigureAwait(false);
        }
        catch (RetryLaterException ex)
        {
            await SettleAsync(idempotent).ConfigureAwait(false);
            await _runner.FlushAsync(batch, cancellationToken).ConfigureAwait(false);
            known = batch?.WrittenRow ?? known;
            if (await RetryLaterAsync(message, messageText, dequeueCount, ex, known, cancellationToken).ConfigureAwait(false))
            {
                await SettleAlongsideAsync(batch).ConfigureAwait(false);
                return;
            }
            failures.Add(RetryScheduler.GaveUp(dequeueCount, message.RetryingSince ?? _time.GetUtcNow(), _time.GetUtcNow(), ex.Message));
        }
        catch
        {
            // Observed, so its failure is not left unobserved; the delivery fails with the first exception.
            await SettleAsync(idempotent).ConfigureAwait(false);
            await FailWithBatchAsync(batch).ConfigureAwait(false);
            throw;
        }

        try
        {
            await FinishAsync(message, dequeueCount, failures, payload, cancellationToken, known, batch).ConfigureAwait(false);
        }
        catch
        {
            // E.g. storage failing the final transaction: the outcomes of the actions that ran still go, alone.
            await FailWithBatchAsync(batch).ConfigureAwait(false);
            throw;
        }
        await SettleAlongsideAsync(batch).ConfigureAwait(false);
        _logger.LogInformation("Event {EventId} ({EventName}) {Status}: {Actions} action(s), {Failures} failure(s)",
            message.Id, message.Event, failures.Count == 0 ? "succeeded" : "failed", ran, failures.Count);
    }

    /// <summary>
    /// Re-schedules the event after a transient failure (the row says why and when the next attempt is due), or returns
    /// false when its retry window is over and it is to be marked failed. The row is written before the new message is
    /// sent: if the send fails, the exception lets the queue redeliver this message instead.
    /// </summary>
    private async Task<bool> RetryLaterAsync(EventMessage message, string messageText, long attempts, RetryLaterException ex, EventEntry? known,
        CancellationToken cancellationToken)
    {
        var plan = _retries.Plan(message.Retry, message.RetryingSince, ex.RetryAfter);
        if (plan is null)
        {
            _logger.LogError("Event {EventId} ({EventName}) failed after {Attempts} attempt(s) since {Since:O}: {Reason}", message.Id,
                message.Event, attempts, message.RetryingSince, ex.Message);
            return false;
        }
        _logger.LogWarning("Event {EventId} ({EventName}) attempt {Attempt} will be retried in {DelaySeconds} s: {Reason}",
            message.Id, message.Event, attempts, (int)plan.Delay.TotalSeconds, ex.Message);
        await _log.TransitionAsync(message.Id, entry =>
        {
            // Another delivery may have settled the event while this one waited (e.g. for the action it held).
            if (entry?.IsSettled(message.Replay) == true) return null;
            entry = Mark(entry, message, EventStatus.Processing, attempts, _time.GetUtcNow());
            entry.Error = Truncate(RetryScheduler.Scheduled(plan, ex.Message));
            return entry;
        }, cancellationToken, known).ConfigureAwait(false);
        await _retries.ScheduleAsync(RetryDestination.Events, messageText, plan, ex.Message, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Writes what waits in the batch before the delivery fails (the outcomes of actions that ran): best effort, as
    /// the delivery fails anyway; what is not written is found claimed by the next attempt, which reconciles.
    /// </summary>
    private async Task FlushQuietlyAsync(EventWriteBatch? batch)
    {
        if (batch is null || batch.IsEmpty) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _runner.FlushAsync(batch, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogWarning("Could not write the pending records of event {EventId} before its delivery failed: {Reason}", batch.EventId,
                ex.Message);
        }
    }

    private static Task SettleAlongsideAsync(EventWriteBatch? batch) => batch?.SettleAlongsideAsync() ?? Task.CompletedTask;

    /// <summary>Before a delivery fails: what waits in the batch goes (best effort), and the writes alongside are awaited.</summary>
    private async Task FailWithBatchAsync(EventWriteBatch? batch)
    {
        await FlushQuietlyAsync(batch).ConfigureAwait(false);
        await SettleAsync(batch?.SettleAlongsideAsync()).ConfigureAwait(false);
    }

    /// <summary>Waits for a task started alongside others, its failure already accounted for by the caller's.</summary>
    private static async Task SettleAsync(Task? task)
    {
        if (task is null) return;
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception) when (task.IsFaulted || task.IsCanceled)
        {
            // Reported by the exception the delivery fails or retries with.
        }
    }

    private static async Task RunIdempotentAsync(IEventHandler handler, EventContext context, CancellationToken cancellationToken)
    {
        try
        {
            await handler.HandleAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new RetryLaterException($"handler {handler.GetType().Name} failed and will be retried: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes the event's outcome. With a batch (a first delivery) the final row goes in one transaction with the
    /// records still waiting, replacing the row: by its ETag when this delivery wrote it, else whatever its ETag (no
    /// action ran, so the publisher's row is replaced unread). When that transaction meets a conflict, everything goes
    /// alone, the row read and changed as usual.
    /// </summary>
    private async Task FinishAsync(EventMessage message, long dequeueCount, IReadOnlyList<string> failures, JsonObject? payload,
        CancellationToken cancellationToken, EventEntry? known = null, EventWriteBatch? batch = null)
    {
        string? archived = null;
        if (failures.Count > 0 && message.PayloadBlob is null && payload is not null)
        {
            // Keep the payload of a failed event, so it can be replayed once the queue message is gone.
            archived = await _payloads.SaveAsync($"{message.Id}/failed", BinaryData.FromString(payload.ToJsonString()),
                cancellationToken).ConfigureAwait(false);
        }
        var now = _time.GetUtcNow();
        EventEntry Settle(EventEntry? entry)
        {
            entry = Mark(entry, message, failures.Count == 0 ? EventStatus.Succeeded : EventStatus.Failed, dequeueCount, now);
            entry.Error = failures.Count == 0 ? null : Truncate(string.Join("\n", failures));
            entry.PayloadBlob ??= archived ?? message.PayloadBlob;
            entry.CompletedAt = now;
            return entry;
        }
        var committed = false;
        if (batch is not null)
        {
            if ((batch.WrittenRow ?? batch.Row) is { } current)
            {
                committed = await _records.TryCommitAsync(batch, null, Settle(current.Copy()), cancellationToken).ConfigureAwait(false);
            }
            if (!committed)
            {
                await _runner.FlushAsync(batch, cancellationToken).ConfigureAwait(false);
                known = batch.WrittenRow;
            }
        }
        if (!committed) await _log.TransitionAsync(message.Id, Settle, cancellationToken, known).ConfigureAwait(false);
        EventTracing.SetOutcome(failures.Count == 0 ? EventTracing.Outcomes.Succeeded : EventTracing.Outcomes.Failed,
            failures.Count == 0 ? null : string.Join("\n", failures));
    }

    /// <summary>
    /// Moves the event's row to "processing" and returns it as written (with its ETag, so the next write needs no read).
    /// A first delivery of a message whose row the publisher inserts after the send (<see cref="EventMessage.RowAfterSend"/>)
    /// writes without reading: its row is one the publisher wrote moments ago, unless a duplicate copy of the message
    /// settled the event first, which is harmless here, as the actions' records decide what runs and this delivery then
    /// records the same outcome. A message with the row's ETag (an earlier version's) writes by that ETag. Otherwise,
    /// and when those writes find no row or a changed one, the row is read, and a settled one is left as it is.
    /// </summary>
    private async Task<EventEntry?> MarkProcessingAsync(EventMessage message, long dequeueCount, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        EventEntry? known = null;
        if (message.V >= EventMessage.RowAfterSend && dequeueCount <= 1 && message.Replay == 0 && message.Retry == 0)
        {
            var entry = Mark(Queueing.EventPublisher.ReceivedEntry(message, message.DataId), message, EventStatus.Processing, dequeueCount, now);
            if (await _log.TryMergeExistingAsync(entry, cancellationToken).ConfigureAwait(false) is not null) return entry;
        }
        else if (message.LogETag is { Length: > 0 } etag && message.Replay == 0)
        {
            known = KnownEntry(message, etag);
        }
        return await _log.TransitionAsync(message.Id, entry =>
        {
            if (entry?.IsSettled(message.Replay) == true) return null; // a duplicate of a settled event: keep its outcome
            return Mark(entry, message, EventStatus.Processing, dequeueCount, now);
        }, cancellationToken, known).ConfigureAwait(false);
    }

    /// <summary>The row (created if missing) moved to <paramref name="status"/> by this delivery.</summary>
    private static EventEntry Mark(EventEntry? entry, EventMessage message, string status, long dequeueCount, DateTimeOffset now)
    {
        entry ??= NewEntry(message, now);
        entry.Replays = Math.Max(entry.Replays, message.Replay);
        entry.Status = status;
        entry.Attempts = (int)Math.Max(dequeueCount, 1);
        entry.UpdatedAt = now;
        return entry;
    }

    /// <summary>The row the publisher wrote for this message (<see cref="EventPublisher.ReceivedEntry"/>) with its ETag.</summary>
    private static EventEntry KnownEntry(EventMessage message, string etag)
    {
        var entry = Queueing.EventPublisher.ReceivedEntry(message, message.DataId);
        entry.ETag = new ETag(etag);
        return entry;
    }

    private async Task<JsonObject?> ReadPayloadAsync(EventMessage message, CancellationToken cancellationToken)
    {
        if (message.Payload is not null) return message.Payload;
        try
        {
            var data = await _payloads.ReadAsync(message.PayloadBlob!, cancellationToken).ConfigureAwait(false);
            return JsonNode.Parse(data.ToString()) as JsonObject;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>True for a message event about a message this app posted (its marker, or its id among the ones it created).</summary>
    private async Task<bool> IsOwnMessageAsync(string topic, JsonObject payload, CancellationToken cancellationToken)
    {
        if (topic != SppEventTopics.Messages || payload["data"] is not JsonObject data) return false;
        if (data["message"] is JsonValue text && text.TryGetValue<string>(out var body) && ActionExecutor.HasMarker(body)) return true;
        return data["id"] is JsonValue id && await _records.IsOwnMessageAsync(id.ToString(), cancellationToken).ConfigureAwait(false);
    }

    internal static EventEntry NewEntry(EventMessage message, DateTimeOffset now) => new()
    {
        RowKey = message.Id,
        EventName = message.Event,
        Topic = message.Topic,
        Source = message.Source,
        ReceivedAt = message.ReceivedAt == default ? now : message.ReceivedAt,
        CreatedAt = DateTimeOffset.FromUnixTimeSeconds(message.Created),
        Size = message.Size,
        PayloadBlob = message.PayloadBlob,
    };

    internal static string Truncate(string text) => text.Length > 16_000 ? text[..16_000] + "…" : text;
}
