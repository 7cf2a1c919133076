using System.Text.Json.Nodes;
using SppFunctions.FakeSpp;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Processing;

/// <summary>
/// Reconciliation of create_order_message after an attempt whose outcome is unknown: it must find the message this
/// action posted, and only that one.
/// </summary>
public class ReconcileTests
{
    // Every event of an order posts the same text.
    private const string AckRule =
        """[{ "name": "ack", "on": "order.updated", "actions": [{ "type": "create_order_message", "order": "{{ data.id }}",""" +
        """ "message": "<p>We saw the update.</p>" }] }]""";

    [Fact]
    public async Task Another_events_message_with_the_same_text_is_not_taken_for_this_actions_message()
    {
        await using var app = await AppHarness.StartAsync(rules: AckRule);
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        var number = order["id"]!.GetValue<string>();
        var first = await app.EnqueueEventAsync("order.updated", order, created: 1764403200);
        await app.Driver().DrainAsync();
        Assert.Single(app.Spp.Store.GetOrderMessages(number));

        // The second event's POST is cut off before SPP handles it: its outcome is unknown, so the retry reconciles,
        // and finds only the first event's message, with the same text but the first action's marker.
        app.Spp.InjectFault(new FaultRule(FaultKind.Drop) { Method = "POST", Times = 1 });
        var second = await app.EnqueueEventAsync("order.updated", order, created: 1764403300);
        await app.Driver().DrainAsync();

        var messages = app.Spp.Store.GetOrderMessages(number);
        Assert.Equal(2, messages.Count);
        Assert.NotEmpty(app.Spp.RequestsTo("GET", "/api/order_messages/")); // the retry did reconcile
        foreach (var evt in new[] { first, second })
        {
            var record = (await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None)).Single(r => r.Key == "ack.0");
            Assert.Equal(ActionStatus.Succeeded, record.Status);
            var message = Assert.Single(messages, m => m["id"]!.ToString() == record.Result);
            Assert.Contains(ActionExecutor.MarkerFor($"{evt.Id}.ack.0"), message["message"]!.GetValue<string>());
        }
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(second.Id))!.Status);
    }

    [Fact]
    public async Task Without_markers_a_message_with_the_same_text_posted_by_the_lost_attempt_is_found_by_its_text()
    {
        await using var app = await AppHarness.StartAsync(new() { ["Processing:MarkMessages"] = "false" }, rules: AckRule);
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        var number = order["id"]!.GetValue<string>();
        app.Spp.InjectFault(new FaultRule(FaultKind.DropAfterHandling) { Method = "POST", Times = 1 });
        var evt = await app.EnqueueEventAsync("order.updated", order);

        await app.Driver().DrainAsync();

        var message = Assert.Single(app.Spp.Store.GetOrderMessages(number));
        Assert.Equal("<p>We saw the update.</p>", message["message"]!.GetValue<string>());
        Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages/"));
        var record = (await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None)).Single(r => r.Key == "ack.0");
        Assert.Equal(message["id"]!.ToString(), record.Result);
    }
}
