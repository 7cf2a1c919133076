using Microsoft.Extensions.DependencyInjection;
using Spp.Client;
using Spp.Client.Models;
using SppFunctions.FakeSpp;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Handlers;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Processing;

// The custom handler example of docs/rules.md, verbatim.
public sealed class VipOrderHandler(SppClient spp) : IEventHandler
{
    public IReadOnlyList<string> Patterns { get; } = ["order.created"];

    public async Task HandleAsync(EventContext context, CancellationToken cancellationToken)
    {
        var orderId = context.Data?["id"]?.ToString() ?? throw new PermanentActionException("The event has no data.id.");
        var order = await spp.GetOrderAsync(orderId, cancellationToken);
        if (order.Price >= 1000)
        {
            // PUT replaces the tag set and is idempotent: running twice has the effect of running once.
            await spp.UpdateOrderAsync(orderId, new SppOrderUpdate { Tags = [.. order.Tags ?? [], "vip"] }, cancellationToken);
        }
    }
}

public class CustomHandlerTests
{
    [Fact]
    public async Task A_registered_handler_runs_for_matching_events_once_per_event()
    {
        await using var app = await AppHarness.StartAsync(services: s => s.AddEventHandler<VipOrderHandler>());
        var big = app.Spp.Store.AddOrder(customize: o => o["price"] = 2500);
        var small = app.Spp.Store.AddOrder(customize: o => o["price"] = 10);
        var bigEvent = await app.EnqueueEventAsync("order.created", FakeSppWebhooks.OldStyleOrder(big));
        await app.Queue(app.Names.EventsQueue).SendMessageAsync(bigEvent.ToBinaryData()); // delivered twice
        await app.EnqueueEventAsync("order.created", FakeSppWebhooks.OldStyleOrder(small));
        await app.EnqueueEventAsync("invoice.paid", new System.Text.Json.Nodes.JsonObject { ["id"] = 1 });

        await app.Driver().DrainAsync();

        Assert.Equal(new[] { "vip" }, app.Spp.Store.GetOrder(big["id"]!.ToString())!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Empty(app.Spp.Store.GetOrder(small["id"]!.ToString())!["tags"]!.AsArray());
        Assert.Equal(2, app.Spp.RequestsTo("GET", "/api/orders/").Count); // once per order.created event, none for invoice.paid
        Assert.Single(app.Spp.RequestsTo("PUT", "/api/orders/"));
        var record = Assert.Single(await app.Get<ActionRecordStore>().ListAsync(bigEvent.Id, CancellationToken.None),
            r => r.Key == "handler.VipOrderHandler");
        Assert.Equal(ActionStatus.Succeeded, record.Status);
    }

    [Fact]
    public async Task A_handler_throwing_a_permanent_exception_fails_the_event_without_retry()
    {
        await using var app = await AppHarness.StartAsync(services: s => s.AddEventHandler<VipOrderHandler>());
        var evt = await app.EnqueueEventAsync("order.created", new System.Text.Json.Nodes.JsonObject { ["status"] = "Pending" });
        var driver = app.Driver();
        await driver.DrainAsync();
        Assert.Equal(0, driver.Failures);
        Assert.Empty(driver.Retries);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("handler VipOrderHandler: The event has no data.id.", row.Error);
    }

    [Fact]
    public void The_rules_page_shows_this_example()
    {
        var page = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "rules.md"));
        var source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests/SppFunctions.Tests/Processing/CustomHandlerTests.cs"));
        var start = source.IndexOf("public sealed class VipOrderHandler", StringComparison.Ordinal);
        var end = source.IndexOf("\n}\n", start, StringComparison.Ordinal) + 2;
        Assert.Contains("```csharp\n" + source[start..end].ReplaceLineEndings("\n") + "\n```\n", page.ReplaceLineEndings("\n"));
        Assert.Contains("AddEventHandler<VipOrderHandler>()", page);
    }
}
