using System.Collections.Concurrent;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SppFunctions.Queueing;
using SppFunctions.Storage;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>A re-scheduled message as sent to Azurite: where, its receipt (to make it visible early), when it is due and why.</summary>
public sealed record ScheduledRetry(string Queue, string MessageId, string PopReceipt, DateTimeOffset DueAt, RetryPlan Plan, string Reason);

/// <summary>
/// The app's <see cref="RetryScheduler"/>, sending for real to Azurite, that also remembers each message it sent with
/// its send receipt. Azurite keeps the message invisible for its delay in real time; the queue drivers instead make it
/// visible when the (fake) clock reaches <see cref="ScheduledRetry.DueAt"/>, as the real host would see it after the delay.
/// </summary>
public sealed class RecordingRetryScheduler(
    QueueServiceClient queues, StorageNames names, IOptions<RetryOptions> options, TimeProvider time, ILogger<RetryScheduler> logger)
    : RetryScheduler(queues, names, options, time, logger)
{
    private readonly ConcurrentQueue<ScheduledRetry> _pending = new();
    private readonly ConcurrentQueue<ScheduledRetry> _all = new();

    /// <summary>Every message re-scheduled so far.</summary>
    public IReadOnlyList<ScheduledRetry> All => _all.ToArray();

    /// <summary>Re-scheduled messages the drivers have not made visible yet.</summary>
    public IReadOnlyList<ScheduledRetry> Pending => _pending.ToArray();

    protected override async Task<SendReceipt> SendAsync(
        QueueClient queue, BinaryData body, RetryPlan plan, string reason, CancellationToken cancellationToken)
    {
        var receipt = await base.SendAsync(queue, body, plan, reason, cancellationToken);
        var scheduled = new ScheduledRetry(queue.Name, receipt.MessageId, receipt.PopReceipt, plan.DueAt, plan, reason);
        _all.Enqueue(scheduled);
        _pending.Enqueue(scheduled);
        return receipt;
    }

    /// <summary>Takes the pending messages due by <paramref name="now"/> (all of them when null).</summary>
    public List<ScheduledRetry> TakeDue(DateTimeOffset? now)
    {
        var due = new List<ScheduledRetry>();
        var keep = new List<ScheduledRetry>();
        while (_pending.TryDequeue(out var s)) (now is null || s.DueAt <= now ? due : keep).Add(s);
        foreach (var s in keep) _pending.Enqueue(s);
        return due;
    }

    /// <summary>When the next pending message is due, or null when none is pending.</summary>
    public DateTimeOffset? NextDue => _pending.IsEmpty ? null : _pending.Min(s => s.DueAt);
}
