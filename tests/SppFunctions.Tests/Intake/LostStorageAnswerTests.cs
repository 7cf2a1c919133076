using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Intake;

/// <summary>
/// Storage acted but its answer was lost (the connection dropped, as when the storage front end restarts). The write's
/// outcome is unknown to the app, and the storage SDK retries it: an accepted event must never be lost that way.
/// </summary>
public class LostStorageAnswerTests
{
    /// <summary>Lets a request through, then drops its answer, for the next <c>times</c> matching requests.</summary>
    private sealed class LoseAnswers(string table, int times) : HttpPipelinePolicy
    {
        private int _remaining = times;

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            ThrowIfLost(message);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            ThrowIfLost(message);
        }

        private void ThrowIfLost(HttpMessage message)
        {
            var insert = message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.EndsWith("/" + table, StringComparison.Ordinal);
            if (insert && Interlocked.Decrement(ref _remaining) >= 0) throw new IOException("Simulated: the connection dropped before the answer "
                + "arrived.");
        }
    }

    private static Task<AppHarness> StartAsync(int answersLost)
    {
        var names = StorageNames.WithSuffix("t" + Guid.NewGuid().ToString("N")[..10]);
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.AddPolicy(new LoseAnswers(names.EventsTable, answersLost), HttpPipelinePosition.PerRetry);
        var lossy = new TableServiceClient(TestStorage.ConnectionString, options);
        return AppHarness.StartAsync(names: names, services: s => s.AddSingleton(_ => new EventStore(lossy, names)));
    }

    [Fact]
    public async Task The_row_whose_insert_answer_was_lost_is_recognised_as_its_own_on_the_SDK_retry()
    {
        await using var app = await StartAsync(answersLost: 1);

        var answer = await PostAsync(app, Envelope());

        // The retried insert met the row its first try had written (409): it names this delivery's message, so it is
        // this delivery's, not the proof of an earlier one.
        Assert.Equal(202, answer.Status);
        Assert.Equal("accepted", answer.Body["status"]!.GetValue<string>());
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
        Assert.Single(await app.RowsAsync(app.Names.EventsTable));
        Assert.Equal(200, (await PostAsync(app, Envelope())).Status); // and it still dedupes
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
    }

    [Fact]
    public async Task A_row_insert_with_an_unknown_outcome_is_undone_with_the_message_so_the_redelivery_is_queued()
    {
        // Every try of the row's insert loses its answer: the first one wrote the row, the publish gives up (503).
        await using var app = await StartAsync(answersLost: 3);

        var first = await PostAsync(app, Envelope());

        Assert.Equal(503, first.Status);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));
        Assert.Empty(await app.RowsAsync(app.Names.EventsTable)); // never a row without its queued message

        // SPP delivers again after the Retry-After: the event is queued, not answered as a duplicate of nothing.
        var again = await PostAsync(app, Envelope());
        Assert.Equal(202, again.Status);
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
    }
}
