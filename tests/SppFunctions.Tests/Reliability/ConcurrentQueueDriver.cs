using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Storage.Queues.Models;
using SppFunctions.Functions.Processing;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Reliability;

/// <summary>
/// Plays the Functions host's events-queue trigger with several concurrent workers (instances), as host.json
/// configures it: a message that throws comes back and after maxDequeueCount failed deliveries goes to the poison
/// queue, whose function then runs.
///
/// It works in rounds. Within a round every worker takes visible messages one at a time until none is left; a message
/// that failed stays invisible until the round ends (as it would for host.json's visibilityTimeout), so each message
/// is tried at most once per round. Between rounds no attempt is in flight, and <c>betweenRounds</c> may move a
/// FakeTimeProvider past the action leases of attempts that "crashed", which real time would have expired.
/// Messages the app re-scheduled after a transient failure become visible at the end of the round in which they are
/// due by the fake clock; a round with nothing to do moves the clock to the next one due.
/// </summary>
public sealed class ConcurrentQueueDriver(AppHarness app, int workers)
{
    private static readonly TimeSpan InvisibleDuringRound = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, int> _errorKinds = new();

    public int Deliveries { get; private set; }
    public int Failures { get; private set; }
    public int Poisoned { get; private set; }
    public int Rounds { get; private set; }
    /// <summary>Exception type (and for retries their reason's start) → count, for the test output.</summary>
    public IReadOnlyDictionary<string, int> ErrorKinds => _errorKinds;
    /// <summary>Exceptions that are neither a planned retry nor a simulated crash.</summary>
    public ConcurrentBag<Exception> Unexpected { get; } = new();

    /// <summary>Transient failures re-scheduled while this driver ran.</summary>
    public int Retries { get; private set; }

    public async Task DrainAsync(int maxRounds, Func<int, Task>? betweenRounds = null, Action<string>? log = null)
    {
        var recorder = QueueDriver.Recorder(app);
        var retriesBefore = recorder.All.Count;
        var functions = app.Function<ProcessingFunctions>();
        var queue = app.Queue(app.Names.EventsQueue);
        var poison = app.Queue(app.Names.EventsPoisonQueue);
        await queue.CreateIfNotExistsAsync();
        await poison.CreateIfNotExistsAsync();

        for (var round = 0; round < maxRounds; round++)
        {
            var clock = Stopwatch.StartNew();
            var failed = new ConcurrentBag<QueueMessage>();
            var delivered = 0;
            await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
            {
                while (true)
                {
                    var received = (await queue.ReceiveMessagesAsync(1, InvisibleDuringRound)).Value;
                    if (received.Length == 0) return;
                    var message = received[0];
                    Interlocked.Increment(ref delivered);
                    try
                    {
                        await functions.ProcessEvent(message.Body.ToString(),
                            new TestFunctionContext(app.Services, message.DequeueCount, message.InsertedOn), CancellationToken.None);
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                    }
                    catch (Exception ex)
                    {
                        Count(ex);
                        failed.Add(message);
                    }
                }
            })));

            // The round is over: failed messages come back, or go to the poison queue after their last delivery.
            var toPoison = failed.Where(m => m.DequeueCount >= QueueDriver.MaxDequeueCount).ToList();
            foreach (var message in failed.Except(toPoison))
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero);
            }
            foreach (var message in toPoison)
            {
                await poison.SendMessageAsync(message.Body);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
            var poisonHandled = 0;
            while ((await poison.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value is { Length: > 0 } batch)
            {
                foreach (var message in batch)
                {
                    await functions.EventPoison(message.Body.ToString(), CancellationToken.None);
                    await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                    poisonHandled++;
                }
            }

            var retried = recorder.All.Skip(retriesBefore + Retries).ToList();
            foreach (var r in retried) Count(r.Reason);
            var released = await QueueDriver.ReleaseDueAsync(app, advanceClock: delivered == 0 && poisonHandled == 0);

            Deliveries += delivered;
            Failures += failed.Count;
            Poisoned += toPoison.Count;
            Retries += retried.Count;
            Rounds = round + 1;
            log?.Invoke($"round {round + 1}: {delivered} deliveries, {failed.Count} failed, {retried.Count} re-scheduled, " +
                $"{released} released, {toPoison.Count} poisoned, {poisonHandled} poison handled, {clock.ElapsedMilliseconds} ms");
            if (delivered == 0 && poisonHandled == 0 && released == 0) return;
            if (betweenRounds is not null) await betweenRounds(round);
        }
        throw new TimeoutException($"The events queue was not drained after {maxRounds} rounds.");
    }

    private void Count(Exception ex)
    {
        var kind = ex switch
        {
            SimulatedCrashException => "simulated crash",
            _ => "unexpected " + ex.GetType().Name,
        };
        if (kind.StartsWith("unexpected", StringComparison.Ordinal)) Unexpected.Add(ex);
        _errorKinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
    }

    /// <summary>A re-scheduled message, by the reason the processor gave.</summary>
    private void Count(string reason)
    {
        var kind = reason switch
        {
            _ when reason.Contains("held by another attempt", StringComparison.Ordinal) => "retry: action held by another attempt",
            _ when reason.Contains("claimed by another attempt", StringComparison.Ordinal) => "retry: lost the claim race",
            _ when reason.Contains("(after checking its effect)", StringComparison.Ordinal) => "retry: SPP may have acted",
            _ => "retry: SPP did not act",
        };
        _errorKinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
    }
}
