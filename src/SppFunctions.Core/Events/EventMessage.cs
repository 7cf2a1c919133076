using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SppFunctions.Events;

/// <summary>
/// The message on the events queue. The payload (SPP's envelope without its token: <c>{event, created, data}</c>)
/// travels inline, or, when too large for a queue message, in a claim-check blob named by <see cref="PayloadBlob"/>.
/// </summary>
public sealed class EventMessage
{
    /// <summary>
    /// Format version of this message: 1, <see cref="RowAfterSend"/> from a publisher that writes the event's row
    /// after the message is queued (the message carries no row ETag then), or <see cref="RecordsWithEvent"/>.
    /// </summary>
    public int V { get; set; } = 1;

    /// <summary>Messages whose event row is inserted right after the send: a first delivery finds it there (or, rarely, not yet).</summary>
    public const int RowAfterSend = 2;

    /// <summary>
    /// Messages of a version that keeps the event's action records in the event's partition: no earlier version has
    /// processed such a message, so a first delivery may claim its actions there without looking for older records.
    /// </summary>
    public const int RecordsWithEvent = 3;

    /// <summary>The version this app's publisher writes.</summary>
    public const int Current = RecordsWithEvent;
    public required string Id { get; set; }
    public required string Event { get; set; }
    public required string Topic { get; set; }
    /// <summary>SPP's <c>created</c> (Unix seconds).</summary>
    public long Created { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    /// <summary>webhook, poller or replay.</summary>
    public required string Source { get; set; }
    public long Size { get; set; }
    public JsonObject? Payload { get; set; }
    public string? PayloadBlob { get; set; }
    /// <summary>0 for a first delivery; the replay generation for a replayed event (lets failed actions run again).</summary>
    public int Replay { get; set; }
    /// <summary><c>data.id</c> of the payload, as the event-log row has it (optional).</summary>
    public string? DataId { get; set; }
    /// <summary>
    /// ETag of the event-log row as the publisher wrote it (optional). With it the processor writes the row's next state
    /// without reading it first; if the row changed since, the write fails on the ETag and the row is read after all.
    /// </summary>
    public string? LogETag { get; set; }
    /// <summary>0, or how many times a transient failure re-scheduled this event (<see cref="Queueing.RetryScheduler"/>).</summary>
    public int Retry { get; set; }
    /// <summary>When the first transient failure of this event re-scheduled it (null until then).</summary>
    public DateTimeOffset? RetryingSince { get; set; }
    /// <summary>
    /// The sender's W3C trace context (optional; <see cref="Tracing.MessageTraceContext"/>): the processing continues
    /// that trace. Re-scheduled copies keep it, so every attempt of an event belongs to the trace of its delivery.
    /// </summary>
    [JsonPropertyName(Tracing.MessageTraceContext.TraceParentField)]
    public string? TraceParent { get; set; }
    [JsonPropertyName(Tracing.MessageTraceContext.TraceStateField)]
    public string? TraceState { get; set; }

    /// <summary>The trace context the message carries, or null (none, or not a valid one).</summary>
    public Tracing.MessageTraceContext? TraceContext() => Tracing.MessageTraceContext.Parse(TraceParent, TraceState);

    /// <summary>Sets (or clears) the trace context the message carries.</summary>
    public void SetTraceContext(Tracing.MessageTraceContext? context)
    {
        TraceParent = context?.TraceParent;
        TraceState = context?.TraceState;
    }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public BinaryData ToBinaryData() => BinaryData.FromObjectAsJson(this, JsonOptions);

    /// <summary>Reads a queue message; throws <see cref="JsonException"/> when it is not one.</summary>
    public static EventMessage Parse(string text)
    {
        var message = JsonSerializer.Deserialize<EventMessage>(text, JsonOptions) ?? throw new JsonException("The message is empty.");
        if (string.IsNullOrEmpty(message.Id) || string.IsNullOrEmpty(message.Event)) throw new JsonException("The message has no id or event.");
        if (message.Payload is null && message.PayloadBlob is null) throw new JsonException("The message has neither a payload nor a payload blob.");
        return message;
    }
}

/// <summary>Where an event came from.</summary>
public static class EventSources
{
    public const string Webhook = "webhook";
    public const string Poller = "poller";
    public const string Replay = "replay";
    public const string Command = "command";
}
