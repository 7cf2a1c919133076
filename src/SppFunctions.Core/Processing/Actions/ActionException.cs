namespace SppFunctions.Processing.Actions;

/// <summary>How an action failed, which decides whether it may run again.</summary>
public enum ActionFailureKind
{
    /// <summary>The target certainly did not act (429, no connection, circuit open): safe to run again.</summary>
    NotActed,
    /// <summary>Transient, and the target may have acted (timeout, dropped connection, 5xx).</summary>
    Ambiguous,
    /// <summary>Will not succeed by retrying (4xx other than 408/429, bad template, refused host, bad input).</summary>
    Permanent,
}

/// <summary>An action failed; <see cref="Kind"/> says whether and how it may be retried.</summary>
public class ActionFailedException(string message, ActionFailureKind kind, Exception? inner = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    public ActionFailureKind Kind { get; } = kind;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>Thrown by a custom handler to fail its event for good (no retry).</summary>
public sealed class PermanentActionException(string message, Exception? inner = null)
    : ActionFailedException(message, ActionFailureKind.Permanent, inner);

/// <summary>
/// Processing of an event must be tried again later (a transient failure, or another instance holds an action).
/// The processors re-schedule the message (<see cref="Queueing.RetryScheduler"/>), no sooner than
/// <see cref="RetryAfter"/> when it is set (SPP's Retry-After, or the end of another attempt's lease).
/// </summary>
public sealed class RetryLaterException(string message, Exception? inner = null, TimeSpan? retryAfter = null) : Exception(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
