using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SppFunctions.Storage;
using SppFunctions.Tracing;

namespace SppFunctions.Queueing;

/// <summary>The queue a re-scheduled message goes back to.</summary>
public enum RetryDestination
{
    Events,
    Commands,
}

/// <summary>
/// The next attempt of a message that failed transiently: its retry number (1 for the first re-scheduled copy), when
/// retrying began, the delay before it becomes visible and when that is.
/// </summary>
public sealed record RetryPlan(int Retry, DateTimeOffset Since, TimeSpan Delay, DateTimeOffset DueAt);

/// <summary>
/// Re-schedules a message whose processing failed transiently, using what Azure Storage Queues offer: a new message
/// carrying the retry number and when retrying began (<c>retry</c>, <c>retryingSince</c>) is sent with an initial
/// visibility delay, and the current message is then completed normally by its trigger. No attempt sleeps in the
/// function, and the waits grow with time (<see cref="RetryOptions"/>), so SPP is not called more often while it is
/// down however many instances poll the queue. Under the Functions host the new message may be taken by another
/// instance (once its delay is over) before the current invocation has returned: processing is idempotent per
/// event and action, so that is harmless; so is a copy left behind by a crash after the send.
/// Messages that crash the worker still go through the host's dequeue count to the poison queue.
/// </summary>
public class RetryScheduler
{
    /// <summary>The schedule before the cap: after that each step doubles, up to <see cref="RetryOptions.MaxDelay"/>.</summary>
    public static readonly IReadOnlyList<TimeSpan> Steps =
    [
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5),
        TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1),
    ];

    /// <summary>Longest initial visibility delay Azure Storage Queues accept.</summary>
    private static readonly TimeSpan MaxVisibilityDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    private readonly QueueClient _events;
    private readonly QueueClient _commands;
    private readonly IOptions<RetryOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RetryScheduler> _logger;

    protected RetryScheduler() { _events = null!; _commands = null!; _options = null!; _time = null!; _logger = null!; }

    public RetryScheduler(
        QueueServiceClient queues, StorageNames names, IOptions<RetryOptions> options, TimeProvider time, ILogger<RetryScheduler> logger)
    {
        _events = queues.GetQueueClient(names.EventsQueue);
        _commands = queues.GetQueueClient(names.CommandsQueue);
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>The schedule's wait before retry <paramref name="retry"/> (1-based), without jitter or Retry-After.</summary>
    public static TimeSpan StepDelay(int retry, TimeSpan maxDelay)
    {
        var index = Math.Max(retry, 1) - 1;
        var step = index < Steps.Count ? Steps[index] : Steps[^1] * Math.Pow(2, Math.Min(index - Steps.Count + 1, 16));
        return step < maxDelay ? step : maxDelay;
    }

    /// <summary>
    /// The next attempt after <paramref name="retries"/> re-scheduled copies, or null when the event has been retried
    /// for <see cref="RetryOptions.GiveUpAfter"/> and must be marked failed. The delay is the schedule's step plus up
    /// to 10% jitter (so the events of one outage do not all come back at once), or SPP's Retry-After when longer; the
    /// last attempt falls on the end of the retry window.
    /// </summary>
    /// <param name="retries">How many times the message was re-scheduled before (its <c>retry</c> field; 0 at first).</param>
    /// <param name="since">When retrying began (<c>retryingSince</c>), null on the first failure.</param>
    public RetryPlan? Plan(int retries, DateTimeOffset? since, TimeSpan? retryAfter)
    {
        var options = _options.Value;
        var now = _time.GetUtcNow();
        var start = since ?? now;
        var deadline = start + options.GiveUpAfter;
        if (now >= deadline) return null;

        var step = StepDelay(retries + 1, options.MaxDelay);
        var delay = step + TimeSpan.FromTicks((long)(step.Ticks * 0.1 * Random.Shared.NextDouble()));
        if (retryAfter is { } asked && asked > delay) delay = asked;
        if (now + delay > deadline) delay = deadline - now;
        if (delay < TimeSpan.FromSeconds(1)) delay = TimeSpan.FromSeconds(1);
        if (delay > MaxVisibilityDelay) delay = MaxVisibilityDelay;
        return new RetryPlan(retries + 1, start, delay, now + delay);
    }

    /// <summary>
    /// Sends the copy of <paramref name="messageText"/> that carries <paramref name="plan"/>, invisible until it is due.
    /// The caller then returns normally, so the trigger completes (deletes) the current message.
    /// </summary>
    /// <param name="reason">Why it failed (for the log; it never holds secrets: the processors' failure texts do not).</param>
    public async Task ScheduleAsync(RetryDestination queue, string messageText, RetryPlan plan, string reason, CancellationToken cancellationToken)
    {
        var body = WithRetry(messageText, plan, MessageTraceContext.Current());
        var client = queue == RetryDestination.Events ? _events : _commands;
        var receipt = await SendAsync(client, body, plan, reason, cancellationToken).ConfigureAwait(false);
        EventTracing.SetOutcome(EventTracing.Outcomes.Retrying, reason);
        _logger.LogInformation(
            "Re-scheduled a {Queue} message as retry {Retry} in {DelaySeconds} s (message {MessageId}, retrying since {Since:O}): {Reason}",
            queue, plan.Retry, (int)plan.Delay.TotalSeconds, receipt.MessageId, plan.Since, reason);
    }

    /// <summary>Sends the message with its initial visibility delay; it never expires, like every message the app sends.</summary>
    protected virtual async Task<SendReceipt> SendAsync(
        QueueClient queue, BinaryData body, RetryPlan plan, string reason, CancellationToken cancellationToken) =>
        (await queue.SendMessageAsync(body, plan.Delay, EventPublisher.NeverExpires, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>
    /// The message with <c>retry</c> and <c>retryingSince</c> set. The publisher's <c>logETag</c> is dropped: the event-log
    /// row has moved on since, and a stale ETag would only cost a failed write. The trace context is kept as it is, so
    /// every attempt continues the trace of the event's delivery; a message that came without one takes
    /// <paramref name="attempt"/>'s (the failed attempt's span), so its attempts at least share one trace.
    /// </summary>
    public static BinaryData WithRetry(string messageText, RetryPlan plan, MessageTraceContext? attempt = null)
    {
        var message = JsonNode.Parse(messageText) as JsonObject
            ?? throw new ArgumentException("A re-scheduled message must be a JSON object.", nameof(messageText));
        message["retry"] = plan.Retry;
        message["retryingSince"] = plan.Since.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        message.Remove("logETag");
        if (MessageTraceContext.ReadFrom(message) is null && attempt is not null) attempt.WriteTo(message);
        return BinaryData.FromString(message.ToJsonString());
    }

    /// <summary>The text of the log row / failure when an event is given up on.</summary>
    public static string GaveUp(long attempts, DateTimeOffset since, DateTimeOffset now, string reason) =>
        $"Gave up after {attempts} attempt(s) over {Describe(now - since)} of transient failures. Last error: {reason}";

    /// <summary>What the log row says while a retry is scheduled.</summary>
    public static string Scheduled(RetryPlan plan, string reason) =>
        $"{reason} Retry {plan.Retry} is scheduled for {plan.DueAt.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC " +
        $"(retrying since {plan.Since.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC).";

    private static string Describe(TimeSpan span) =>
        span >= TimeSpan.FromHours(1) ? $"{span.TotalHours:0.#} h"
        : span >= TimeSpan.FromMinutes(1) ? $"{span.TotalMinutes:0.#} min"
        : $"{span.TotalSeconds:0} s";
}
