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
/// Puts events on the events queue durably and exactly once per id, for webhooks and the poller alike.
///
/// Order of writes, each undone if a later one fails, so a failure leaves nothing half-stored:
/// 1. the payload blob, when the message would be too large for a queue message (claim-check);
/// 2. the event-log row (status "received"), inserted: only when a row is there already is the dedupe record read,
///    and a live one means a duplicate, answered without writing anything;
/// 3. the queue message (Base64, as the queue trigger expects);
/// 4. the dedupe record: last, so there is never a dedupe record without a queued message.
/// If a concurrent delivery of the same event wins step 4, this one deletes its own queue message and reports a
/// duplicate. Processing is idempotent per event id as well, so even a message that slipped through twice has one effect.
/// If step 4 itself fails, storage may still have written the record (the answer was lost): the rollback removes that
/// record first (it carries this attempt's owner) and stops there if it cannot, keeping the queued message, so a
/// redelivery is never answered "duplicate" for an event nobody queued.
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
    private readonly DedupeStore _dedupe;
    private readonly PayloadStore _payloads;
    private readonly TimeProvider _time;
    private readonly ILogger<EventPublisher> _logger;

    protected EventPublisher() { _queue = null!; _create = null!; _log = null!; _dedupe = null!; _payloads = null!; _time = null!; _logger = null!; }

    public EventPublisher(QueueServiceClient queues, StorageNames names, EventStore log, DedupeStore dedupe, PayloadStore payloads, TimeProvider time, ILogger<EventPublisher> logger)
    {
        _queue = queues.GetQueueClient(names.EventsQueue);
        _create = new CreateOnce(ct => _queue.CreateIfNotExistsAsync(cancellationToken: ct));
        _log = log;
        _dedupe = dedupe;
        _payloads = payloads;
        _time = time;
        _logger = logger;
    }

    public QueueClient Queue => _queue;

    /// <summary>Queues an event unless its id was seen within <paramref name="dedupeWindow"/>.</summary>
    /// <exception cref="StorageUnavailableException">Storage failed; everything written was rolled back.</exception>
    /// <remarks>Any other exception (a bug) is logged as an error and rethrown as it is, after the same rollback.</remarks>
    public virtual async Task<PublishResult> PublishAsync(NewEvent evt, TimeSpan dedupeWindow, CancellationToken cancellationToken)
    {
        // A producer span (a child of the webhook's or the poll run's invocation) whose context the message carries,
        // and the event's log scope over everything logged meanwhile.
        using var span = EventTracing.StartSending(_logger, EventTracing.QueueEvent, evt.Id, evt.Name, evt.Source);
        var result = await PublishCoreAsync(evt, dedupeWindow, span.Context, cancellationToken).ConfigureAwait(false);
        span.SetOutcome(result.Duplicate ? EventTracing.Outcomes.Duplicate : EventTracing.Outcomes.Queued);
        return result;
    }

    private async Task<PublishResult> PublishCoreAsync(NewEvent evt, TimeSpan dedupeWindow, MessageTraceContext? trace,
        CancellationToken cancellationToken)
    {
        string? blob = null;
        ETag? logEtag = null;
        var insertedLog = false;
        SendReceipt? receipt = null;
        string? dedupeOwner = null;
        try
        {
            var payloadBytes = evt.PayloadJson ?? BinaryData.FromString(evt.Payload.ToJsonString());
            var message = new EventMessage
            {
                Id = evt.Id, Event = evt.Name, Topic = evt.Topic, Created = evt.Created, Source = evt.Source,
                ReceivedAt = _time.GetUtcNow(), Size = payloadBytes.ToMemory().Length, Payload = evt.Payload, DataId = evt.DataId,
            };
            message.SetTraceContext(trace);
            if (payloadBytes.ToMemory().Length + EnvelopeAllowance(evt) + (trace?.EnvelopeBytes ?? 0) > MaxInlineBytes)
            {
                // Rare: look for a duplicate first, so a repeated delivery does not upload its blob again.
                if (await _dedupe.SeenAsync(evt.Id, cancellationToken).ConfigureAwait(false)) return new PublishResult(evt.Id, true, null);
                // A name of its own per attempt: a concurrent duplicate never shares (or deletes) this blob.
                blob = await _payloads.SaveAsync($"{evt.Id}/{Guid.NewGuid():N}", payloadBytes, cancellationToken).ConfigureAwait(false);
                message.Payload = null;
                message.PayloadBlob = blob;
                logEtag = await _log.AddReceivedAsync(ReceivedEntry(message, evt.DataId), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // The log row is inserted, not read for: an insert that finds a row means the event may have been seen,
                // and only then is the dedupe record read (a new event costs no read at all).
                logEtag = await _log.TryAddReceivedAsync(ReceivedEntry(message, evt.DataId), cancellationToken).ConfigureAwait(false);
                insertedLog = logEtag is not null;
                if (!insertedLog)
                {
                    if (await _dedupe.SeenAsync(evt.Id, cancellationToken).ConfigureAwait(false)) return new PublishResult(evt.Id, true, null);
                    // A row without a live dedupe record. Processed already (a redelivery after the dedupe window): the
                    // log remembers it, so it is a duplicate and its row keeps its history. Still "received": an earlier
                    // delivery did not finish; take the row over by its ETag and queue the event.
                    var existing = await _log.GetAsync(evt.Id, cancellationToken).ConfigureAwait(false);
                    if (existing is { Status: not EventStatus.Received }) return new PublishResult(evt.Id, true, null);
                    var entry = ReceivedEntry(message, evt.DataId);
                    if (existing is null)
                    {
                        logEtag = await _log.TryAddReceivedAsync(entry, cancellationToken).ConfigureAwait(false);
                        insertedLog = logEtag is not null;
                    }
                    else
                    {
                        entry.ETag = existing.ETag;
                        if (await _log.TryUpdateAsync(entry, cancellationToken).ConfigureAwait(false)) logEtag = entry.ETag;
                    }
                    // Lost a race with a concurrent delivery of the same event: it queues the event.
                    if (logEtag is null) return new PublishResult(evt.Id, true, null);
                }
            }

            // The processor writes the row's next state by this ETag without reading it first (a stale one costs a read).
            message.LogETag = logEtag!.Value.ToString();
            var body = message.ToBinaryData();

            await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
            receipt = (await _queue.SendMessageAsync(body, visibilityTimeout: null, timeToLive: NeverExpires, cancellationToken).ConfigureAwait(false)).Value;

            dedupeOwner = receipt.MessageId;
            if (!await _dedupe.TryAddAsync(evt.Id, dedupeWindow, dedupeOwner, cancellationToken).ConfigureAwait(false))
            {
                // A concurrent delivery of the same event got there first (or a record outlived the log row): withdraw
                // this copy, and the log row if this attempt created it.
                await DeleteMessageAsync(receipt).ConfigureAwait(false);
                if (blob is not null) await _payloads.DeleteAsync(blob, CancellationToken.None).ConfigureAwait(false);
                if (insertedLog) await _log.DeleteIfUnchangedAsync(evt.Id, logEtag.Value, CancellationToken.None).ConfigureAwait(false);
                return new PublishResult(evt.Id, true, null);
            }
            return new PublishResult(evt.Id, false, blob);
        }
        catch (Exception ex)
        {
            // Also when the host is shutting down (cancelled): the rollback runs on its own timeout, so a stopped
            // request never leaves a half-stored event behind.
            var cancelled = ex is OperationCanceledException && cancellationToken.IsCancellationRequested;
            var storage = !cancelled && IsStorageFailure(ex);
            if (cancelled || storage)
            {
                _logger.LogWarning(cancelled ? null : ex, "Could not queue event {EventId} ({EventName}){Why}; rolling back", evt.Id, evt.Name, cancelled ? " (cancelled)" : "");
            }
            else
            {
                // A bug, not an outage: say so, with its stack. The caller answers 500.
                _logger.LogError(ex, "Queueing event {EventId} ({EventName}) failed unexpectedly; rolling back", evt.Id, evt.Name);
            }
            await RollBackAsync(evt.Id, blob, logEtag, receipt, dedupeOwner).ConfigureAwait(false);
            if (!storage) throw;
            throw new StorageUnavailableException($"Storage is unavailable: event {evt.Id} was not queued.", ex);
        }
    }

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
    /// to twice their length) and the log row's ETag. The payload goes inline when it fits in <see cref="MaxInlineBytes"/> with it.
    /// </summary>
    private static int EnvelopeAllowance(NewEvent evt) =>
        512 + 2 * (evt.Id.Length + evt.Name.Length + evt.Topic.Length + evt.Source.Length + (evt.DataId?.Length ?? 0));

    /// <summary>The event-log row of a newly received event, as written before its message is queued.</summary>
    public static EventEntry ReceivedEntry(EventMessage message, string? dataId) => new()
    {
        RowKey = message.Id, PartitionKey = EventIds.Partition(message.Id), EventName = message.Event, Topic = message.Topic,
        Source = message.Source, Status = EventStatus.Received, ReceivedAt = message.ReceivedAt,
        CreatedAt = DateTimeOffset.FromUnixTimeSeconds(message.Created), DataId = dataId, Size = message.Size,
        PayloadBlob = message.PayloadBlob, UpdatedAt = message.ReceivedAt,
    };

    private async Task RollBackAsync(string id, string? blob, ETag? logEtag, SendReceipt? receipt, string? dedupeOwner)
    {
        // Best effort, newest write first; the first step that fails (storage still down) ends it, so whatever is
        // left is consistent: a dedupe record that cannot be removed keeps its queued message.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            if (dedupeOwner is not null) await _dedupe.RemoveIfOwnedAsync(id, dedupeOwner, timeout.Token).ConfigureAwait(false);
            if (receipt is not null) await DeleteMessageAsync(receipt).ConfigureAwait(false);
            if (logEtag is { } etag) await _log.DeleteIfUnchangedAsync(id, etag, timeout.Token).ConfigureAwait(false);
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
