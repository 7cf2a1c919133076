using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Intake;

/// <summary>
/// Errors are what they are: storage failures answer 503 (SPP delivers again later), a bug answers 500 and is logged as
/// an error with its stack; either way nothing is left half-stored. And a copy another instance's trigger has taken
/// already is harmless: two instances racing on one delivery answer 200/202, never 503.
/// </summary>
public class PublisherErrorTests
{
    private sealed class BuggyEventStore(TableServiceClient tables, StorageNames names) : EventStore(tables, names)
    {
        public override Task<Azure.ETag?> TryAddReceivedAsync(EventEntry entry, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("A bug in the event store");
    }

    [Fact]
    public async Task A_bug_answers_500_with_a_json_body_is_logged_as_an_error_with_its_stack_and_rolls_back()
    {
        await using var app = await AppHarness.StartAsync(services: s => s.AddSingleton<EventStore, BuggyEventStore>());

        var answer = await PostAsync(app, Envelope());

        Assert.Equal(500, answer.Status);
        Assert.Null(answer.RetryAfter);
        Assert.Contains("internal error", answer.Body["error"]!.GetValue<string>());
        Assert.DoesNotContain("Storage is unavailable", answer.Body.ToJsonString());
        var errors = app.Logs.GetSnapshot().Where(r => r.Level == LogLevel.Error && r.Exception is InvalidOperationException).ToList();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Contains("BuggyEventStore", e.Exception!.StackTrace));
        Assert.DoesNotContain(app.Logs.GetSnapshot(), r => r.Message.Contains("storage",
            StringComparison.OrdinalIgnoreCase) && r.Level == LogLevel.Warning);
        await app.AssertNothingStoredAsync("a bug");
    }

    /// <summary>
    /// A repeated delivery whose copy another instance's queue trigger received before the insert met the row: its pop
    /// receipt changed, so withdrawing it fails with 400 PopReceiptMismatch (real Azurite semantics).
    /// </summary>
    private sealed class RacedEventStore(TableServiceClient tables, StorageNames names, QueueServiceClient queues) : EventStore(tables, names)
    {
        private readonly string _eventsQueue = names.EventsQueue;
        public bool Armed;
        public int Taken;

        public override async Task<Azure.ETag?> TryAddReceivedAsync(EventEntry entry, CancellationToken cancellationToken)
        {
            if (Armed)
            {
                var received = await queues.GetQueueClient(_eventsQueue).ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5), cancellationToken);
                Taken += received.Value.Length;
            }
            return await base.TryAddReceivedAsync(entry, cancellationToken);
        }
    }

    [Fact]
    public async Task A_copy_another_instance_already_took_is_withdrawn_as_a_duplicate_not_a_503()
    {
        await using var app = await AppHarness.StartAsync(services: s => s.AddSingleton<EventStore, RacedEventStore>());
        Assert.Equal(202, (await PostAsync(app, Envelope())).Status);
        var queue = app.Queue(app.Names.EventsQueue);
        foreach (var m in (await queue.ReceiveMessagesAsync(32)).Value) await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
        var store = (RacedEventStore)app.Get<EventStore>();
        store.Armed = true;

        var answer = await PostAsync(app, Envelope());

        Assert.Equal(1, store.Taken);
        Assert.Equal(200, answer.Status);
        Assert.Equal("duplicate", answer.Body["status"]!.GetValue<string>());
        Assert.Contains("PopReceiptMismatch", app.AllLogText());
    }

    [Fact]
    public async Task Two_instances_racing_on_every_delivery_answer_200_or_202_never_503()
    {
        const int events = 40;
        var names = StorageNames.WithSuffix("r" + Guid.NewGuid().ToString("N")[..10]);
        await using var first = await AppHarness.StartAsync(names: names);
        await using var second = await AppHarness.StartAsync(names: names, spp: first.Spp, ownsSpp: false);
        var queue = first.Queue(names.EventsQueue);
        await queue.CreateIfNotExistsAsync();

        // Both instances' queue triggers take messages as soon as they appear, as the host does.
        using var stop = new CancellationTokenSource();
        var taken = 0;
        var triggers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value;
                Interlocked.Add(ref taken, batch.Length);
                if (batch.Length == 0) await Task.Delay(5);
            }
        })).ToList();

        var bodies = Enumerable.Range(0,
            events).Select(i => Encoding.UTF8.GetBytes(Envelope(data: SampleData("order.created").Also(d
                => d["id"] = $"R{i}")).ToJsonString())).ToList();
        var answers = await Task.WhenAll(bodies.Select(async body =>
        {
            var both = await Task.WhenAll(PostAsync(first, body), PostAsync(second, body));
            return both;
        }));
        stop.Cancel();
        await Task.WhenAll(triggers);

        Assert.All(answers.SelectMany(a => a), a => Assert.True(a.Status is 200 or 202, $"{a.Status} {a.Body.ToJsonString()}"));
        Assert.All(answers, pair => Assert.Single(pair, a => a.Status == 202));
        Assert.True(taken >= events, $"the triggers took {taken} messages");
    }
}

internal static class JsonObjectExtensions
{
    public static System.Text.Json.Nodes.JsonObject Also(this System.Text.Json.Nodes.JsonObject o, Action<System.Text.Json.Nodes.JsonObject> change)
    {
        change(o);
        return o;
    }
}
