using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using SppFunctions.Events;
using SppFunctions.Storage;
using SppFunctions.Tracing;

namespace SppFunctions.Processing;

/// <summary>Which failed events to replay: a list of ids, or a time range of SPP's <c>created</c> (or both).</summary>
public sealed record ReplayRequest(IReadOnlyList<string>? Ids = null, DateTimeOffset? From = null, DateTimeOffset? To = null,
    int Limit = ReplayService.MaxPerRequest);

public sealed record ReplaySkip(string Id, string Reason);

public sealed record ReplayReport(IReadOnlyList<string> Replayed, IReadOnlyList<ReplaySkip> Skipped, bool Truncated);

/// <summary>
/// Re-enqueues failed events (and commands) with a higher replay generation. Actions that succeeded before are
/// skipped (their records say so); failed or unknown ones run again. Only events whose status is "failed" are
/// replayed, so a replay never races an event that is still being processed. The row is marked (received, the new
/// generation) after the message is queued, unless processing already recorded that generation: the trigger can be
/// quicker than that write.
/// </summary>
public class ReplayService
{
    public const int MaxPerRequest = 1000;

    private readonly EventStore _log;
    private readonly PayloadStore _payloads;
    private readonly QueueClient _events;
    private readonly QueueClient _commands;
    private readonly TimeProvider _time;
    private readonly ILogger<ReplayService> _logger;

    public ReplayService(EventStore log, PayloadStore payloads, QueueServiceClient queues, StorageNames names, TimeProvider time,
        ILogger<ReplayService> logger)
    {
        _log = log;
        _payloads = payloads;
        _events = queues.GetQueueClient(names.EventsQueue);
        _commands = queues.GetQueueClient(names.CommandsQueue);
        _time = time;
        _logger = logger;
    }

    /// <summary>Replays what the request names; <paramref name="onReplayed"/> hears of each event put back on its queue (progress).</summary>
    public virtual async Task<ReplayReport> ReplayAsync(ReplayRequest request, CancellationToken cancellationToken, Action<string>? onReplayed = null)
    {
        var replayed = new List<string>();
        var skipped = new List<ReplaySkip>();
        var candidates = new List<EventEntry>();
        var truncated = false;

        foreach (var id in request.Ids ?? Array.Empty<string>())
        {
            var entry = EventIds.IsValid(id) ? await _log.GetAsync(id, cancellationToken).ConfigureAwait(false) : null;
            if (entry is null) skipped.Add(new ReplaySkip(id, "no such event"));
            else if (entry.Status != EventStatus.Failed) skipped.Add(new ReplaySkip(id,
                $"its status is {entry.Status}; only failed events are replayed"));
            else candidates.Add(entry);
        }
        if (request.From is not null || request.To is not null)
        {
            await foreach (var entry in _log.QueryAsync(EventStatus.Failed, null, request.From, request.To, cancellationToken).ConfigureAwait(false))
            {
                if (candidates.Count >= request.Limit) { truncated = true; break; }
                if (candidates.All(c => c.RowKey != entry.RowKey)) candidates.Add(entry);
            }
        }

        foreach (var entry in candidates.Take(request.Limit))
        {
            if (entry.PayloadBlob is null)
            {
                skipped.Add(new ReplaySkip(entry.RowKey, "its payload was not kept"));
                continue;
            }
            var generation = entry.Replays + 1;
            // A replay is a new delivery: its processing continues the replay request's trace (the original is found by
            // the event id), and its log lines carry the event id.
            using var span = EventTracing.StartSending(_logger, EventTracing.ReplayEvent, entry.RowKey, entry.EventName, EventSources.Replay);
            var trace = span.Context;
            if (entry.Source == EventSources.Command)
            {
                var command = JsonNode.Parse((await _payloads.ReadAsync(entry.PayloadBlob,
                    cancellationToken).ConfigureAwait(false)).ToString())!.AsObject();
                command["replay"] = generation;
                // A replay starts a retry window of its own.
                command.Remove("retry");
                command.Remove("retryingSince");
                command.Remove(MessageTraceContext.TraceParentField);
                command.Remove(MessageTraceContext.TraceStateField);
                trace?.WriteTo(command);
                await _commands.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                await _commands.SendMessageAsync(BinaryData.FromString(command.ToJsonString()), visibilityTimeout: null,
                    timeToLive: Queueing.EventPublisher.NeverExpires, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var message = new EventMessage
                {
                    Id = entry.RowKey, Event = entry.EventName, Topic = entry.Topic, Created = entry.CreatedAt.ToUnixTimeSeconds(),
                    ReceivedAt = _time.GetUtcNow(), Source = EventSources.Replay, Size = entry.Size, PayloadBlob = entry.PayloadBlob,
                        Replay = generation,
                };
                message.SetTraceContext(trace);
                await _events.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                await _events.SendMessageAsync(message.ToBinaryData(), visibilityTimeout: null, timeToLive: Queueing.EventPublisher.NeverExpires,
                    cancellationToken).ConfigureAwait(false);
            }
            await _log.TransitionAsync(entry.RowKey, current =>
            {
                // The queue trigger may have taken the message already and recorded this generation (even its outcome).
                if (current is null || current.Replays >= generation) return null;
                current.Status = EventStatus.Received;
                current.Replays = generation;
                current.Error = null;
                current.UpdatedAt = _time.GetUtcNow();
                return current;
            }, cancellationToken).ConfigureAwait(false);
            replayed.Add(entry.RowKey);
            onReplayed?.Invoke(entry.RowKey);
            span.SetOutcome(EventTracing.Outcomes.Queued);
            _logger.LogInformation("Replayed event {EventId} ({EventName}), generation {Generation}", entry.RowKey, entry.EventName, generation);
        }
        return new ReplayReport(replayed, skipped, truncated);
    }
}
