using Azure.Core;
using Microsoft.Extensions.Azure;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Intake;

/// <summary>
/// The storage requests a webhook costs, counted on the app's own storage clients (not timed): a new event is one queue
/// send and one insert of its row, the row being the dedupe record; processing it writes its row without reading it.
/// </summary>
public class StorageRoundTripTests
{
    private static async Task<(AppHarness App, StorageRequestLog Log)> StartAsync()
    {
        var log = new StorageRequestLog();
        var app = await AppHarness.StartAsync(rules: null,
            services: s => s.AddAzureClients(c => c.ConfigureDefaults(o => o.AddPolicy(log, HttpPipelinePosition.PerRetry))));
        // The first webhook creates the queue and the table (once per process): not what a webhook costs.
        Assert.Equal(202, (await PostAsync(app, Envelope(created: Created - 1))).Status);
        log.Take();
        return (app, log);
    }

    [Fact]
    public async Task A_new_webhook_costs_one_queue_send_and_one_row_insert()
    {
        var (app, log) = await StartAsync();
        await using var _ = app;

        Assert.Equal(202, (await PostAsync(app, Envelope())).Status);

        Assert.Equal(new[] { $"POST {app.Names.EventsQueue} 201", $"POST {app.Names.EventsTable} 204" }, log.Take());
    }

    [Fact]
    public async Task A_duplicate_is_told_by_the_insert_and_its_copy_withdrawn()
    {
        var (app, log) = await StartAsync();
        await using var _ = app;
        Assert.Equal(202, (await PostAsync(app, Envelope())).Status);
        log.Take();

        Assert.Equal(200, (await PostAsync(app, Envelope())).Status);

        Assert.Equal(new[]
        {
            $"POST {app.Names.EventsQueue} 201", $"POST {app.Names.EventsTable} 409", $"GET {app.Names.EventsTable} 200",
            $"DELETE {app.Names.EventsQueue} 204",
        }, log.Take());
        Assert.Equal(2, (await app.PeekAllAsync(app.Names.EventsQueue)).Count); // the warm-up event and the first delivery
    }

    [Fact]
    public async Task Processing_a_new_event_writes_its_row_without_reading_it()
    {
        var (app, log) = await StartAsync();
        await using var _ = app;
        await app.Driver().DrainAsync();
        Assert.Equal(202, (await PostAsync(app, Envelope())).Status);
        log.Take();

        await app.Driver().DrainAsync();

        // No action ran: the row goes from "received" to "succeeded" in one write, without a read.
        var onRows = log.Take().Where(r => r.Split(' ')[1] == app.Names.EventsTable).ToList();
        Assert.Equal(new[] { $"PUT {app.Names.EventsTable} 204" }, onRows);
    }
}
