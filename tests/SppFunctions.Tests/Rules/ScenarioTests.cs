using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SppFunctions.FakeSpp;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;

namespace SppFunctions.Tests.Rules;

/// <summary>
/// The six scenarios of docs/rules.md's "From Make to rules.json", read from that page itself, each run through the real
/// processing path (webhook intake, events queue, rules, SPP client) against the fake SPP with injected faults and a
/// redelivered event: every effect reaches SPP exactly once.
/// </summary>
public partial class ScenarioTests
{
    [GeneratedRegex(@"```json\n(.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();

    /// <summary>The rules of each scenario, in the page's order.</summary>
    public static IReadOnlyList<string> Scenarios { get; } = ReadScenarios();

    private static List<string> ReadScenarios()
    {
        var page = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "rules.md")).ReplaceLineEndings("\n");
        var start = page.IndexOf("\n## From Make to rules.json\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/rules.md has no \"## From Make to rules.json\" section.");
        // The section runs to the next heading of its level, or to the end of the page.
        var end = page.IndexOf("\n## ", start + 10, StringComparison.Ordinal);
        return JsonBlock().Matches(page[start..(end < 0 ? page.Length : end)]).Select(m => m.Groups[1].Value).ToList();
    }

    [Fact]
    public void The_rules_page_shows_six_scenarios()
    {
        Assert.Equal(6, Scenarios.Count);
    }

    private static async Task<AppHarness> StartAsync(int scenario) => await AppHarness.StartAsync(rules: Scenarios[scenario - 1]);

    /// <summary>Posts the webhook, drains the queues, then lets the queue deliver the same event again and drains once more.</summary>
    private static async Task<string> DeliverTwiceAsync(AppHarness app, string eventName, JsonObject data)
    {
        var answer = await WebhookTestKit.PostAsync(app, WebhookTestKit.Envelope(eventName, data));
        Assert.Equal(202, answer.Status);
        var id = answer.Body["id"]!.GetValue<string>();
        await app.Driver().DrainAsync();
        // SPP posts it again (the intake answers "duplicate"), and the queue delivers it again (the rules skip what ran).
        Assert.Equal(200, (await WebhookTestKit.PostAsync(app, WebhookTestKit.Envelope(eventName, data))).Status);
        await app.EnqueueEventAsync(eventName, data, id: id);
        await app.Driver().DrainAsync();
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
        return id;
    }

    /// <summary>The injected faults really hit requests (else the scenario proved nothing about them).</summary>
    private static void AssertFaultsHit(AppHarness app, int expected) =>
        Assert.Equal(expected, app.Spp.Requests.Count(r => r.Fault is not null));

    private static JsonObject Order(FakeSppServer spp, string status = "Pending") =>
        FakeSppWebhooks.OldStyleOrder(spp.Store.AddOrder(status: status));

    private static List<string> Texts(FakeSppServer spp, string order) =>
        spp.Store.GetOrderMessages(order).Select(m => m["message"]!.GetValue<string>().Split('\n')[0]).ToList();

    [Fact]
    public async Task Scenario_1_welcome_message_is_posted_once_despite_a_429_and_a_500_after_SPP_posted_it()
    {
        await using var app = await StartAsync(1);
        app.Spp.InjectFault(FaultRule.Throttle("1", times: 1, method: "POST", pathPrefix: "/api/order_messages/"));
        app.Spp.InjectFault(new FaultRule(FaultKind.StatusAfterHandling)
        {
            Status = 500, Method = "POST", PathPrefix = "/api/order_messages/", Times = 1,
        });
        var order = Order(app.Spp);
        var noEmail = Order(app.Spp);
        noEmail["client"]!.AsObject().Remove("email");

        await DeliverTwiceAsync(app, "order.created", order);
        await DeliverTwiceAsync(app, "order.created", noEmail);

        AssertFaultsHit(app, 2);
        Assert.Equal(new[] { "<p>Thanks Jane Doe, we are on it.</p>" }, Texts(app.Spp, order["id"]!.GetValue<string>()));
        Assert.Empty(Texts(app.Spp, noEmail["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Scenario_2_complete_order_loses_its_marked_internal_notes_once_despite_a_503_after_a_delete()
    {
        await using var app = await StartAsync(2);
        var order = Order(app.Spp, "Complete");
        var number = order["id"]!.GetValue<string>();
        app.Spp.Store.AddOrderMessage(number, "<p>Your logo is ready</p>");
        app.Spp.Store.AddOrderMessage(number, "[tmp] waiting for the designer", staffOnly: true);
        app.Spp.Store.AddOrderMessage(number, "keep: the client prefers blue", staffOnly: true);
        app.Spp.Store.AddOrderMessage(number, "[tmp] second draft sent", staffOnly: true);
        app.Spp.InjectFault(new FaultRule(FaultKind.StatusAfterHandling)
        {
            Status = 503, Method = "DELETE", PathPrefix = "/api/order_messages/", Times = 1,
        });
        app.Spp.InjectFault(new FaultRule(FaultKind.Drop) { Method = "GET", PathPrefix = "/api/order_messages/", Times = 1 });
        var working = Order(app.Spp, "Working");
        app.Spp.Store.AddOrderMessage(working["id"]!.GetValue<string>(), "[tmp] not yet", staffOnly: true);

        await DeliverTwiceAsync(app, "order.status_changed", order);
        await DeliverTwiceAsync(app, "order.status_changed", working);

        AssertFaultsHit(app, 2);
        Assert.Equal(new[] { "keep: the client prefers blue", "<p>Your logo is ready</p>" }, Texts(app.Spp, number));
        Assert.Single(Texts(app.Spp, working["id"]!.GetValue<string>()));
        Assert.Equal(2, app.Spp.RequestsTo("DELETE", "/api/order_messages/").Where(r => r.Fault is null).Select(r => r.Path).Distinct().Count());
    }

    [Fact]
    public async Task Scenario_3_a_large_paid_invoice_tags_its_order_once_and_a_small_one_does_nothing()
    {
        await using var app = await StartAsync(3);
        var order = app.Spp.Store.AddOrder();
        var small = app.Spp.Store.AddOrder();
        app.Spp.InjectFault(FaultRule.Fail(502, times: 1, method: "PUT", pathPrefix: "/api/orders/"));
        JsonObject Invoice(JsonObject forOrder, string total) => new()
        {
            ["id"] = forOrder["id"]!.GetValue<long>() + 1000, ["number"] = "INV" + forOrder["number"], ["status"] = "Paid", ["total"] = total,
            ["items"] = new JsonArray(new JsonObject { ["order_id"] = forOrder["number"]!.GetValue<string>(), ["total"] = total }),
        };

        await DeliverTwiceAsync(app, "invoice.paid", Invoice(order, "750.00"));
        await DeliverTwiceAsync(app, "invoice.paid", Invoice(small, "99.00"));

        var tagged = app.Spp.Store.GetOrder(order["number"]!.GetValue<string>())!;
        AssertFaultsHit(app, 1);
        Assert.Equal(new[] { "vip" }, tagged["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal($"Invoice INV{order["number"]} paid: 750.00", tagged["note"]!.GetValue<string>());
        Assert.Empty(app.Spp.Store.GetOrder(small["number"]!.GetValue<string>())!["tags"]!.AsArray());
        Assert.Single(app.Spp.RequestsTo("PUT", "/api/orders/"), r => r.Status == 200);
    }

    [Fact]
    public async Task Scenario_4_the_reply_depends_on_the_fetched_service_and_a_lost_answer_does_not_post_twice()
    {
        await using var app = await StartAsync(4);
        app.Spp.InjectFault(FaultRule.Fail(500, times: 1, method: "GET", pathPrefix: "/api/orders/"));
        app.Spp.InjectFault(new FaultRule(FaultKind.DropAfterHandling) { Method = "POST", PathPrefix = "/api/order_messages/", Times = 1 });
        var logo = Order(app.Spp);
        var seo = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(customize: o => o["service"] = "SEO audit"));

        await DeliverTwiceAsync(app, "order.created", logo);
        await DeliverTwiceAsync(app, "order.created", seo);

        AssertFaultsHit(app, 2);
        Assert.Equal(new[] { "<p>Please send us your brand colours for the Logo design.</p>" }, Texts(app.Spp, logo["id"]!.GetValue<string>()));
        Assert.Equal(new[] { "<p>We have started on your SEO audit.</p>" }, Texts(app.Spp, seo["id"]!.GetValue<string>()));
        // Each order was fetched once successfully: the recorded output served the redelivery.
        Assert.Equal(2, app.Spp.RequestsTo("GET", "/api/orders/").Count(r => r.Status == 200));
    }

    [Fact]
    public async Task Scenario_5_only_urgent_client_messages_get_one_staff_note_despite_a_502()
    {
        await using var app = await StartAsync(5);
        app.Spp.InjectFault(FaultRule.Fail(502, times: 1, method: "POST", pathPrefix: "/api/order_messages/"));
        var order = app.Spp.Store.AddOrder();
        var number = order["number"]!.GetValue<string>();
        JsonObject Message(long id, string text, bool fromClient) => new()
        {
            ["id"] = id, ["order_id"] = number, ["message"] = text, ["from_client"] = fromClient, ["staff_only"] = false, ["user_id"] = 12,
        };

        await DeliverTwiceAsync(app, "order_message.created", Message(9001, "<p>This is URGENT, the launch is tomorrow</p>", true));
        await DeliverTwiceAsync(app, "order_message.created", Message(9002, "<p>No rush, thanks</p>", true));
        await DeliverTwiceAsync(app, "order_message.created", Message(9003, "<p>urgent: staff reminder</p>", false));
        await DeliverTwiceAsync(app, "order_message.created", Message(9004, "<p>Resurgent demand</p>", true));

        var notes = app.Spp.Store.GetOrderMessages(number);
        var note = Assert.Single(notes);
        AssertFaultsHit(app, 1);
        Assert.True(note["staff_only"]!.GetValue<bool>());
        Assert.StartsWith("<p>Urgent message from the client", note["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Scenario_6_only_orders_older_than_a_week_get_the_apology_once_despite_a_429()
    {
        await using var app = await StartAsync(6);
        app.Spp.InjectFault(FaultRule.Throttle("1", times: 1, method: "POST", pathPrefix: "/api/order_messages/"));
        var old = Order(app.Spp, "Working");
        old["date_added"] = DateTimeOffset.UtcNow.AddDays(-30).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        var fresh = Order(app.Spp, "Working");
        var oldButPending = Order(app.Spp, "Pending");
        oldButPending["date_added"] = "2024-01-01 15:00:00";

        await DeliverTwiceAsync(app, "order.status_changed", old);
        await DeliverTwiceAsync(app, "order.status_changed", fresh);
        await DeliverTwiceAsync(app, "order.status_changed", oldButPending);

        AssertFaultsHit(app, 1);
        Assert.Equal(new[] { "<p>Sorry for the wait: your order is now in progress.</p>" }, Texts(app.Spp, old["id"]!.GetValue<string>()));
        Assert.Empty(Texts(app.Spp, fresh["id"]!.GetValue<string>()));
        Assert.Empty(Texts(app.Spp, oldButPending["id"]!.GetValue<string>()));
    }
}
