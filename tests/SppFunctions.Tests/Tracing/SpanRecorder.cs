using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Testing;
using SppFunctions.Tracing;

namespace SppFunctions.Tests.Tracing;

/// <summary>
/// Records the app's spans (<see cref="EventTracing.Source"/>) as an exporter would see them once they end. Listeners
/// are process-wide and tests run in parallel, so tests pick their spans by event id (each test's events are its own).
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == EventTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The ended spans of one event, in the order they ended.</summary>
    public IReadOnlyList<Activity> For(string eventId) =>
        _stopped.Where(a => Equals(a.GetTagItem(EventTracing.EventIdKey), eventId)).ToList();

    /// <summary>The ended spans of one event with the given name (QueueEvent, ProcessEvent, ...).</summary>
    public IReadOnlyList<Activity> For(string eventId, string operation) => For(eventId).Where(a => a.OperationName == operation).ToList();

    /// <summary>An activity standing in for a function invocation (the worker starts one per invocation), made current.</summary>
    public static Activity Invocation(string name)
    {
        var activity = new Activity(name);
        activity.SetIdFormat(ActivityIdFormat.W3C);
        return activity.Start();
    }

    /// <summary>True when the log line was written inside a scope carrying this event id.</summary>
    public static bool HasEventScope(FakeLogRecord record, string eventId) =>
        record.Scopes.OfType<IEnumerable<KeyValuePair<string, object>>>()
            .Any(scope => scope.Any(kv => kv.Key == EventTracing.EventIdKey && Equals(kv.Value, eventId)));

    public void Dispose() => _listener.Dispose();
}
