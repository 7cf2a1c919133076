using System.Diagnostics;
using System.Text.Json.Nodes;

namespace SppFunctions.Tracing;

/// <summary>
/// The W3C trace context a queue message carries from its sender to its processing: <c>traceparent</c> and, when the
/// sender has one, <c>tracestate</c>. Storage queues have no message properties, so these travel as two optional fields
/// of the message's JSON (events, commands and their re-scheduled copies alike); a message without them still
/// processes, in a trace of its own.
/// </summary>
public sealed record MessageTraceContext
{
    public const string TraceParentField = "traceparent";
    public const string TraceStateField = "tracestate";

    /// <summary>W3C's limit for <c>tracestate</c>; a longer one is dropped rather than carried in every message.</summary>
    public const int MaxTraceStateLength = 512;

    private MessageTraceContext(ActivityContext context, string traceParent, string? traceState)
    {
        Context = context;
        TraceParent = traceParent;
        TraceState = traceState;
    }

    /// <summary>The context as an activity parent (marked remote: it came through a queue).</summary>
    public ActivityContext Context { get; }

    /// <summary><c>00-{trace id}-{span id}-{flags}</c>.</summary>
    public string TraceParent { get; }

    public string? TraceState { get; }

    public string TraceId => Context.TraceId.ToHexString();

    /// <summary>The context of <paramref name="activity"/>; null when there is none or its ids are not W3C.</summary>
    public static MessageTraceContext? From(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C } ? Parse(activity.Id, activity.TraceStateString) : null;

    /// <summary>The context of the activity current on this flow (the function invocation's, or a span within it).</summary>
    public static MessageTraceContext? Current() => From(Activity.Current);

    /// <summary>
    /// Reads the two fields; null when <paramref name="traceParent"/> is missing or not a valid W3C traceparent (as
    /// W3C asks of a receiver: the processing then starts a trace of its own instead of failing).
    /// </summary>
    public static MessageTraceContext? Parse(string? traceParent, string? traceState)
    {
        if (string.IsNullOrEmpty(traceParent) || traceParent.Length > 128) return null;
        var state = string.IsNullOrEmpty(traceState) || traceState.Length > MaxTraceStateLength ? null : traceState;
        return ActivityContext.TryParse(traceParent, state, isRemote: true, out var context) && context.TraceId != default
            ? new MessageTraceContext(context, traceParent, state)
            : null;
    }

    /// <summary>Reads the fields of a message's JSON (strings only; anything else counts as absent).</summary>
    public static MessageTraceContext? ReadFrom(JsonObject message) =>
        Parse(StringField(message, TraceParentField), StringField(message, TraceStateField));

    /// <summary>Writes the fields into a message's JSON, replacing (or removing) what it had.</summary>
    public void WriteTo(JsonObject message)
    {
        message[TraceParentField] = TraceParent;
        if (TraceState is null) message.Remove(TraceStateField);
        else message[TraceStateField] = TraceState;
    }

    /// <summary>Room the two fields take in a message at most (names, quotes and a JSON-escaped state).</summary>
    public int EnvelopeBytes => 64 + TraceParent.Length + 2 * (TraceState?.Length ?? 0);

    private static string? StringField(JsonObject message, string name) =>
        message[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
