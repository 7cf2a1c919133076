using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using SppFunctions.Events;
using SppFunctions.Storage;
using SppFunctions.Tracing;

namespace SppFunctions.Queueing;

/// <summary>An event ready to be queued: its id, name and token-free payload <c>{event, created, data}</c>.</summary>
public sealed record NewEvent(string Id, string Name, string Topic, long Created, string Source, JsonObject Payload, string? DataId)
{
    /// <summary>The payload already serialized (UTF-8 JSON of <see cref="Payload"/>), when the caller has it: not serialized again.</summary>
    public BinaryData? PayloadJson { get; init; }
}

/// <summary>The outcome of publishing: the event id, and whether it had been seen already.</summary>
public sealed record PublishResult(string Id, bool Duplicate, string? PayloadBlob);

/// <summary>Storage could not take the event; nothing of it was left behind. Try again later.</summary>
public sealed class StorageUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Puts events on the events queue durably and once per id, for webhooks and the poller alike, in two storage round
/// trips for a new event: the queue send, then the insert of the event's row (table <c>SppEvents</c>), which is the
/// dedupe record. The row is written only after the message is queued and names it (<see cref="EventEntry.QueuedMessage"/>),
/// so a row is the proof that the event was queued: a redelivery whose insert meets a row (409) is a duplicate,
/// withdraws the message it has just sent and is answered 200. The dedupe window is the row's retention.
///
/// Large payloads go to a claim-check blob first (after a read for the row, so a repeated delivery uploads nothing).
/// Failures undo what this delivery wrote, newest first, and stop at the first undo that fails: a row that cannot be
/// removed keeps its message, so there is never a row without a queued message. A message left without a row (its
/// withdrawal failed) is harmless: processing is idempotent per event id and writes the row itself.
///
/// Rows of an earlier version (written before their message, with a record in <c>SppDedupe</c> written after it) are
/// read as that version wrote them until they expire: see <see cref="EventEntry.IsLegacyUnqueued"/> and docs/UPGRADING.md.
/// </summary>
public class EventPublisher
{
    /// <summary>Largest message sent inline: queue messages hold 64 KiB after Base64 (4/3), leave room for the envelope.</summary>
    public const int MaxInlineBytes = 45 * 1024;

    /// <summary>Queue messages never expire (the default is 7 days): an event waits however long processing is down.</summary>
    internal static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    private readonly QueueClient _queue;
    private readonly CreateOnce _create;
    private readonly EventStore _log;
    private readonly DedupeStore _legacyDedupe;
    private readonly PayloadStore _payloads;
    private readonly TimeProvider _time;
    private readonly ILogger<EventPublisher> _logger;

    protected EventPublisher()
    {
        _queue = null!; _create = null!; _log = null!; _legacyDedupe = null!; _payloads = null!; _time = null!; _logger = null!;
    }

    public EventPublisher(QueueServiceClient queues, StorageNames names, EventStore log, DedupeStore legacyDedupe, PayloadStore payloads,
        TimeProvider time, ILogger<EventPublisher> logger)
    {
        _queue = queues.GetQueueClient(names.EventsQueue);
        _create = new CreateOnce(ct => _queue.CreateIfNotExistsAsync(cancellationToken: ct));
        _log = log;
        _legacyDedupe = legacyDedupe;
        _payloads = payloads;
        _time = time;
        _logger = logger;
    }

    public QueueClient Queue => _queue;

    /// <summary>Queues an event unless it has a row already (it was queued before).</summary>
    /// <exception cref="StorageUnavailableException">Storage failed; everything written was rolled back.</exception>
    /// <remarks>Any other exception (a bug) is logged as an error and rethrown as it is, after the same rollback.</remarks>
    public virtual async Task<PublishResult> PublishAsync(NewEvent evt, CancellationToken cancellationToken)
    {
        // A producer span (a child of the webhook's or the poll run's invocation) whose context the message carries,
        // and the event's log scope over everything logged meanwhile.
        using var span = EventTracing.StartSending(_logger, EventTracing.QueueEvent, evt.Id, evt.Name, evt.Source);
        var result = await PublishCoreAsync(evt, span.Context, cancellationToken).ConfigureAwait(false);
        span.SetOutcome(result.Duplicate ? EventTracing.Outcomes.Duplicate : EventTracing.Outcomes.Queued);
        return result;
    }

    private async Task<PublishResult> PublishCoreAsync(NewEvent evt, MessageTraceContext? trace, CancellationToken cancellationToken)
    {
        string? blob = null;
        SendReceipt? receipt = null;
        try
        {
            var payloadBytes = evt.PayloadJson ?? BinaryData.FromString(evt.Payload.ToJsonString());
            var message = new EventMessage
            {
                V = EventMessage.Current, Id = evt.Id, Event = evt.Name, Topic = evt.Topic, Created = evt.Created,
                Source = evt.Source, ReceivedAt = _time.GetUtcNow(), Size = payloadBytes.ToMemory().Length, Payload = evt.Payload,
                DataId = evt.DataId,
            };
            message.SetTraceContext(trace);
            // An event old enough to predate the upgrade may have a row of the earlier layout (a day partition): no
            // request at all for any other event.
            var legacy = await _log.GetLegacyAsync(evt.Id, cancellationToken).ConfigureAwait(false);
            if (legacy is not null && await WasQueuedAsync(legacy, cancellationToken).ConfigureAwait(false))
            {
                return new PublishResult(evt.Id, true, null);
            }
            if (payloadBytes.ToMemory().Length + EnvelopeAllowance(evt) + (trace?.EnvelopeBytes ?? 0) > MaxInlineBytes)
            {
                // Rare: look for a duplicate first, so a repeated delivery does not upload its blob again.
                var existing = await _log.GetAsync(evt.Id, cancellationToken).ConfigureAwait(false);
                if (existing is not null && await WasQueuedAsync(existing, cancellationToken).ConfigureAwait(false))
                {
                    return new PublishResult(evt.Id, true, null);
                }
                // A name of its own per attempt: a concurrent duplicate never shares (or deletes) this blob.
                blob = await _payloads.SaveAsync($"{evt.Id}/{Guid.NewGuid():N}", payloadBytes, cancellationToken).ConfigureAwait(false);
                message.Payload = null;
                message.PayloadBlob = blob;
            }

            await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
            receipt = (await _queue.SendMessageAsync(message.ToBinaryData(), visibilityTimeout: null, timeToLive: NeverExpires,
                cancellationToken).ConfigureAwait(false)).Value;

            var entry = ReceivedEntry(message, evt.DataId);
            entry.QueuedMessage = receipt.MessageId;
            if (legacy is not null ? await TakeOverLegacyAsync(entry, legacy, cancellationToken).ConfigureAwait(false)
                : await RecordQueuedAsync(entry, cancellationToken).ConfigureAwait(false))
            {
                return new PublishResult(evt.Id, false, blob);
            }

            // Queued before (the row says so): withdraw this copy.
            await DeleteMessageAsync(receipt).ConfigureAwait(false);
            if (blob is not null) await _payloads.DeleteAsync(blob, CancellationToken.None).ConfigureAwait(false);
            return new PublishResult(evt.Id, true, null);
        }
        catch (Exception ex)
        {
            // Also when the host is shutting down (cancelled): the rollback runs on its own timeout, so a stopped
            // request never leaves a half-stored event behind.
            var cancelled = ex is OperationCanceledException && cancellationToken.IsCancellationRequested;
            var storage = !cancelled && IsStorageFailure(ex);
            if (cancelled || storage)
            {
                _logger.LogWarning(cancelled ? null : ex, "Could not queue event {EventId} ({EventName}){Why}; rolling back", evt.Id, evt.Name,
                    cancelled ? " (cancelled)" : "");
            }
            else
            {
                // A bug, not an outage: say so, with its stack. The caller answers 500.
                _logger.LogError(ex, "Queueing event {EventId} ({EventName}) failed unexpectedly; rolling back", evt.Id, evt.Name);
            }
            await RollBackAsync(evt.Id, blob, receipt).ConfigureAwait(false);
            if (!storage) throw;
            throw new StorageUnavailableException($"Storage is unavailable: event {evt.Id} was not queued.", ex);
        }
    }

    /// <summary>
    /// Inserts the row of an event whose message is queued; false when the event had been queued before (a duplicate).
    /// A row met on the insert (409) is read: this delivery's own (the insert's answer was lost and the SDK retried it),
    /// a legacy row whose delivery never finished (taken over by its ETag), or the proof of an earlier queued delivery.
    /// </summary>
    private async Task<bool> RecordQueuedAsync(EventEntry entry, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await _log.TryAddReceivedAsync(entry, cancellationToken).ConfigureAwait(false) is not null) return true;
            var existing = await _log.GetAsync(entry.RowKey, cancellationToken).ConfigureAwait(false);
            if (existing is null) continue; // removed by a rollback meanwhile: insert again
            if (existing.QueuedMessage == entry.QueuedMessage) return true;
            if (await WasQueuedAsync(existing, cancellationToken).ConfigureAwait(false)) return false;
            entry.ETag = existing.ETag;
            if (await _log.TryUpdateAsync(entry, cancellationToken).ConfigureAwait(false)) return true;
        }
        // The row keeps changing under this delivery (rival deliveries and rollbacks): keep the queued message, which
        // processing handles once per event id whatever else is queued.
        return true;
    }

    /// <summary>
    /// Records the queued event in the legacy row an earlier version's unfinished delivery left (by its ETag, where it
    /// is). False when another delivery changed that row first (it queued or processed the event). A row that went
    /// away meanwhile (that delivery's rollback) leaves nothing to take over: the row is inserted as usual.
    /// </summary>
    private async Task<bool> TakeOverLegacyAsync(EventEntry entry, EventEntry legacy, CancellationToken cancellationToken)
    {
        entry.PartitionKey = legacy.PartitionKey;
        entry.ETag = legacy.ETag;
        if (await _log.TryUpdateAsync(entry, cancellationToken).ConfigureAwait(false)) return true;
        if (await _log.GetLegacyAsync(entry.RowKey, cancellationToken).ConfigureAwait(false) is not null) return false;
        entry.ETag = default;
        return await RecordQueuedAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// True when an event's row proves the event was queued: every row does, except a legacy "received" row without a
    /// live record in the legacy dedupe table (its delivery by the earlier version did not finish).
    /// </summary>
    private async Task<bool> WasQueuedAsync(EventEntry row, CancellationToken cancellationToken) =>
        !row.IsLegacyUnqueued || await _legacyDedupe.SeenAsync(row.RowKey, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// True for a failure of storage itself: an error answer from the service (or none: the Azure SDK reports transport
    /// failures as <see cref="RequestFailedException"/>, and exhausted retries as an <see cref="AggregateException"/>
    /// of them), a network timeout, or a connection that broke. Anything else is a bug and is not dressed up as an outage.
    /// </summary>
    public static bool IsStorageFailure(Exception ex) => ex switch
    {
        RequestFailedException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsStorageFailure),
        OperationCanceledException or TimeoutException or IOException or HttpRequestException or System.Net.Sockets.SocketException => true,
        _ => false,
    };

    /// <summary>
    /// Room the queue message takes besides the payload and its trace context: its other fields (names escaped at worst
    /// to twice their length). The payload goes inline when it fits in <see cref="MaxInlineBytes"/> with it.
    /// </summary>
    private static int EnvelopeAllowance(NewEvent evt) =>
        512 + 2 * (evt.Id.Length + evt.Name.Length + evt.Topic.Length + evt.Source.Length + (evt.DataId?.Length ?? 0));

    /// <summary>
    /// The row of a newly received event, as written once its message is queued (without the message id); in the
    /// legacy day partition for a message of an earlier version, which wrote its row there.
    /// </summary>
    public static EventEntry ReceivedEntry(EventMessage message, string? dataId) => new()
    {
        RowKey = message.Id,
        PartitionKey = message.V >= EventMessage.RowAfterSend ? EventStore.PartitionOf(message.Id) : EventIds.Partition(message.Id),
        EventName = message.Event, Topic = message.Topic,
        Source = message.Source, Status = EventStatus.Received, ReceivedAt = message.ReceivedAt,
        CreatedAt = DateTimeOffset.FromUnixTimeSeconds(message.Created), DataId = dataId, Size = message.Size,
        PayloadBlob = message.PayloadBlob, UpdatedAt = message.ReceivedAt,
    };

    private async Task RollBackAsync(string id, string? blob, SendReceipt? receipt)
    {
        // Best effort, newest write first; the first step that fails (storage still down) ends it, so whatever is
        // left is consistent: a row that cannot be removed (its insert may have been written with the answer lost)
        // keeps its queued message, and a queued message keeps its blob.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            if (receipt is not null)
            {
                await _log.DeleteIfQueuedByAsync(id, receipt.MessageId, timeout.Token).ConfigureAwait(false);
                await DeleteMessageAsync(receipt).ConfigureAwait(false);
            }
            if (blob is not null) await _payloads.DeleteAsync(blob, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Rolling back event {EventId} failed", id);
        }
    }

    private async Task DeleteMessageAsync(SendReceipt receipt)
    {
        try
        {
            await _queue.DeleteMessageAsync(receipt.MessageId, receipt.PopReceipt).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (IsTaken(ex))
        {
            // Already taken by a queue trigger (of this or another instance: its receive changed the pop receipt), or
            // already processed and deleted. Processing is idempotent per event id, so that copy is harmless: withdrawn.
            _logger.LogInformation("Event message {MessageId} was already taken by a queue trigger ({Status} {ErrorCode}); treated as withdrawn",
                receipt.MessageId, ex.Status, ex.ErrorCode);
        }
    }

    /// <summary>A delete that failed because the message is no longer this sender's: 404, or 400 PopReceiptMismatch.</summary>
    private static bool IsTaken(RequestFailedException ex) =>
        ex.Status == 404 || (ex.Status == 400 && ex.ErrorCode == "PopReceiptMismatch");
}
