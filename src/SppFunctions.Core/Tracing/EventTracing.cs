using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace SppFunctions.Tracing;

/// <summary>
/// Follows one event end to end. The sender of a queue message (webhook intake, poller, replay) opens a producer span
/// and writes its W3C context into the message (<see cref="MessageTraceContext"/>); the processing opens a consumer
/// span whose parent is that context, whichever instance and invocation take the message, so the webhook's request, the
/// queue hop, the processing and every SPP call in it share one trace id. Both also open a log scope with the event id:
/// every log line written meanwhile, by any category, carries it.
/// Spans come from the <see cref="SourceName"/> ActivitySource; without a listener (the CLI, most tests) none is
/// created and the messages carry the context of whatever activity is current, if any.
/// </summary>
public static class EventTracing
{
    public const string SourceName = "SppFunctions";

    public static readonly ActivitySource Source = new(SourceName, typeof(EventTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Span tags and log-scope keys share these names, so one filter finds an event's logs and spans.</summary>
    public const string EventIdKey = "EventId";
    public const string EventNameKey = "EventName";
    public const string EventSourceKey = "EventSource";
    public const string RetryKey = "Retry";
    public const string ReplayKey = "Replay";
    public const string OutcomeKey = "Outcome";

    /// <summary>Span names: the sending kinds, and the processing ones named after their functions.</summary>
    public const string QueueEvent = "QueueEvent";
    public const string ReplayEvent = "ReplayEvent";
    public const string ProcessEvent = "ProcessEvent";
    public const string ProcessCommand = "ProcessCommand";
    public const string EventPoison = "EventPoison";
    public const string CommandPoison = "CommandPoison";

    /// <summary>Outcomes a span records in <see cref="OutcomeKey"/>.</summary>
    public static class Outcomes
    {
        public const string Queued = "queued";
        public const string Duplicate = "duplicate";
        public const string Succeeded = "succeeded";
        public const string Failed = "failed";
        public const string Retrying = "retrying";
        public const string Poisoned = "poisoned";
    }

    /// <summary>A log scope carrying the event id (and name) into every log line of this flow, whatever its category.</summary>
    public static IDisposable? BeginScope(ILogger logger, string eventId, string? eventName) =>
        logger.BeginScope(new Dictionary<string, object> { [EventIdKey] = eventId, [EventNameKey] = eventName ?? "" });

    /// <summary>
    /// Tags the activity current on this flow (the function invocation's) with the event id, so the invocation's own
    /// telemetry can be found by it too.
    /// </summary>
    public static void TagInvocation(string eventId, string? eventName)
    {
        if (Activity.Current is not { } current || current.Source == Source) return;
        current.SetTag(EventIdKey, eventId);
        if (eventName is not null) current.SetTag(EventNameKey, eventName);
    }

    /// <summary>
    /// Starts sending one event to a queue: a producer span (a child of the current activity) and the event's log scope.
    /// The message sent takes <see cref="EventSpan.Context"/>.
    /// </summary>
    public static EventSpan StartSending(ILogger logger, string operation, string eventId, string eventName, string source)
    {
        var scope = BeginScope(logger, eventId, eventName);
        var activity = Source.StartActivity(operation, ActivityKind.Producer, default(ActivityContext), Tags(eventId, eventName, source, 0, 0));
        if (activity is not null) activity.DisplayName = $"{operation} {eventName}";
        return new EventSpan(activity, scope);
    }

    /// <summary>
    /// Starts processing one message: a consumer span and the event's log scope. With the sender's context the span
    /// continues the sender's trace and links to the invocation running it; without one (an old message, a command
    /// sent without it) it is a child of the invocation. The invocation is tagged with the event id either way.
    /// </summary>
    public static EventSpan StartProcessing(ILogger logger, string operation, string eventId, string eventName, string? source,
        MessageTraceContext? sender, int retry = 0, int replay = 0)
    {
        var scope = BeginScope(logger, eventId, eventName);
        TagInvocation(eventId, eventName);
        var invocation = Activity.Current;
        var tags = Tags(eventId, eventName, source, retry, replay);
        var activity = sender is null
            ? Source.StartActivity(operation, ActivityKind.Consumer, default(ActivityContext), tags)
            : Source.StartActivity(operation, ActivityKind.Consumer, sender.Context, tags,
                invocation is null ? null : [new ActivityLink(invocation.Context)]);
        if (activity is not null) activity.DisplayName = $"{operation} {eventName}";
        return new EventSpan(activity, scope);
    }

    /// <summary>
    /// Records how the processing span of this flow ended (the nearest consumer span of <see cref="Source"/>): called
    /// where the processors settle or re-schedule an event, however deep, without passing the span around.
    /// </summary>
    public static void SetOutcome(string outcome, string? error = null)
    {
        for (var activity = Activity.Current; activity is not null; activity = activity.Parent)
        {
            if (activity.Source == Source && activity.Kind == ActivityKind.Consumer)
            {
                EventSpan.Record(activity, outcome, error);
                return;
            }
        }
    }

    private static List<KeyValuePair<string, object?>> Tags(string eventId, string eventName, string? source, int retry, int replay)
    {
        var tags = new List<KeyValuePair<string, object?>> { new(EventIdKey, eventId), new(EventNameKey, eventName) };
        if (source is not null) tags.Add(new(EventSourceKey, source));
        if (retry > 0) tags.Add(new(RetryKey, retry));
        if (replay > 0) tags.Add(new(ReplayKey, replay));
        return tags;
    }
}

/// <summary>
/// A span of <see cref="EventTracing"/> with its log scope, ended together. A span that ends without an outcome ended
/// by an exception (every normal path records one), and is marked as an error.
/// </summary>
public sealed class EventSpan : IDisposable
{
    private readonly IDisposable? _scope;

    internal EventSpan(Activity? activity, IDisposable? scope)
    {
        Activity = activity;
        _scope = scope;
    }

    /// <summary>The span, or null when nothing listens to <see cref="EventTracing.Source"/>.</summary>
    public Activity? Activity { get; }

    /// <summary>
    /// The context a message sent within this span carries: the span's, or without one the current activity's (the
    /// invocation's), so the trace continues even when nothing records the app's own spans.
    /// </summary>
    public MessageTraceContext? Context => MessageTraceContext.From(Activity ?? Activity.Current);

    public void SetOutcome(string outcome, string? error = null)
    {
        if (Activity is not null) Record(Activity, outcome, error);
    }

    internal static void Record(Activity activity, string outcome, string? error)
    {
        activity.SetTag(EventTracing.OutcomeKey, outcome);
        if (error is null) activity.SetStatus(ActivityStatusCode.Ok);
        else activity.SetStatus(ActivityStatusCode.Error, error.Length > 1024 ? error[..1024] + "…" : error);
    }

    public void Dispose()
    {
        if (Activity is not null)
        {
            if (Activity.GetTagItem(EventTracing.OutcomeKey) is null) Activity.SetStatus(ActivityStatusCode.Error, "Ended by an exception.");
            Activity.Dispose();
        }
        _scope?.Dispose();
    }
}
