using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Queues;
using SppFunctions.Functions.Processing;
using SppFunctions.Queueing;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>
/// Plays the Functions host's queue trigger against Azurite, as host.json configures it: receive a message, run the
/// function, delete it when it returns; on an exception let it come back, and after maxDequeueCount failed deliveries
/// move it to the poison queue, whose function then runs too. Visibility waits are skipped so tests run fast.
/// Messages the app re-scheduled (<see cref="RecordingRetryScheduler"/>) become visible when they are due: with a fake
/// clock the driver moves it to the next due message once nothing else is visible; with the real clock at once.
/// </summary>
public sealed class QueueDriver(AppHarness app)
{
    /// <summary>host.json's maxDequeueCount, read from the file the app ships.</summary>
    public static int MaxDequeueCount { get; } =
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "host.json")))!["extensions"]!["queues"]!["maxDequeueCount"]!
            .GetValue<int>();

    private readonly int _retriesBefore = Recorder(app).All.Count;

    /// <summary>Deliveries whose function threw (the host redelivers them after its visibility timeout).</summary>
    public int Failures { get; private set; }
    public List<Exception> Errors { get; } = new();

    /// <summary>Messages the app re-scheduled while this driver ran (transient failures), with why.</summary>
    public IReadOnlyList<ScheduledRetry> Retries => Recorder(app).All.Skip(_retriesBefore).ToList();

    public static RecordingRetryScheduler Recorder(AppHarness app) =>
        app.Get<RetryScheduler>() as RecordingRetryScheduler ?? throw new InvalidOperationException("The harness registers RecordingRetryScheduler.");

    /// <summary>Runs until the events and commands queues and their poison queues are empty (or the round limit).</summary>
    public async Task DrainAsync(int maxRounds = 100, Func<int, Task>? betweenRounds = null)
    {
        var functions = app.Function<ProcessingFunctions>();
        for (var round = 0; round < maxRounds; round++)
        {
            var worked = false;
            worked |= await PumpAsync(app.Names.EventsQueue, app.Names.EventsPoisonQueue,
                (text, ctx) => functions.ProcessEvent(text, ctx, CancellationToken.None));
            worked |= await PumpAsync(app.Names.CommandsQueue, app.Names.CommandsPoisonQueue,
                (text, ctx) => functions.ProcessCommand(text, ctx, CancellationToken.None));
            worked |= await PumpAsync(app.Names.EventsPoisonQueue, null, (text, _) => functions.EventPoison(text, CancellationToken.None));
            worked |= await PumpAsync(app.Names.CommandsPoisonQueue, null, (text, ctx) => functions.CommandPoison(text, ctx, CancellationToken.None));
            worked |= await ReleaseDueAsync(app, advanceClock: !worked) > 0;
            if (!worked) return;
            if (betweenRounds is not null) await betweenRounds(round);
        }
        throw new TimeoutException($"Queues not drained after {maxRounds} rounds.");
    }

    /// <summary>
    /// Makes the re-scheduled messages that are due visible (as their visibility delay ending would). With a fake clock
    /// and <paramref name="advanceClock"/>, first moves the clock to the next one due when none is due yet.
    /// </summary>
    public static async Task<int> ReleaseDueAsync(AppHarness app, bool advanceClock)
    {
        var recorder = Recorder(app);
        if (app.Time is { } time && advanceClock && recorder.NextDue is { } next && next > time.GetUtcNow()) time.SetUtcNow(next);
        var due = recorder.TakeDue(app.Time?.GetUtcNow());
        foreach (var s in due)
        {
            try
            {
                await app.Queue(s.Queue).UpdateMessageAsync(s.MessageId, s.PopReceipt, visibilityTimeout: TimeSpan.Zero);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 400)
            {
                // Taken already (a test receiving it directly): nothing to release.
            }
        }
        return due.Count;
    }

    private async Task<bool> PumpAsync(string queueName, string? poisonName, Func<string, TestFunctionContext, Task> run)
    {
        var queue = app.Queue(queueName);
        await queue.CreateIfNotExistsAsync();
        var received = (await queue.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(30))).Value;
        foreach (var message in received)
        {
            try
            {
                await run(message.Body.ToString(), new TestFunctionContext(app.Services, message.DequeueCount, message.InsertedOn));
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
            catch (Exception ex)
            {
                Failures++;
                Errors.Add(ex);
                if (poisonName is not null && message.DequeueCount >= MaxDequeueCount)
                {
                    var poison = app.Queue(poisonName);
                    await poison.CreateIfNotExistsAsync();
                    await poison.SendMessageAsync(message.Body);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
                else
                {
                    await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero);
                }
            }
        }
        return received.Length > 0;
    }
}
