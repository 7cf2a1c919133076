using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Processing;

/// <summary>The commands queue: other systems ask for one SPP action; the command id makes it idempotent.</summary>
public class CommandTests
{
    [Fact]
    public async Task Each_command_type_runs_once_even_when_sent_twice()
    {
        await using var app = await AppHarness.StartAsync();
        var order = app.Spp.Store.AddOrder();
        var spam = app.Spp.Store.AddOrderMessage(order["id"]!.ToString(), "spam");
        var create = $$"""{ "id": "crm-1", "type": "create_order_message", "order": "{{order["number"]}}",""" +
            $$""" "message": "<p>From the CRM</p>", "userId": 77, "staffOnly": true }""";
        await app.SendCommandAsync(create);
        await app.SendCommandAsync(create);
        await app.SendCommandAsync($$"""{ "id": "crm-2", "type": "delete_order_message", "messageId": {{spam["id"]}} }""");
        await app.SendCommandAsync(
            $$"""{ "id": "crm-3", "type": "api_call", "method": "PUT", "path": "orders/{{order["id"]}}", "body": { "note": "synced" } }""");

        await app.Driver().DrainAsync();

        var message = Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.ToString()));
        Assert.StartsWith("<p>From the CRM</p>", message["message"]!.GetValue<string>());
        Assert.True(message["staff_only"]!.GetValue<bool>());
        Assert.Equal(77, message["user_id"]!.GetValue<long>());
        Assert.Equal("synced", app.Spp.Store.GetOrder(order["id"]!.ToString())!["note"]!.GetValue<string>());
        var rows = await app.RowsAsync(app.Names.EventsTable);
        Assert.Equal(new[] { "command.api_call", "command.create_order_message", "command.delete_order_message" },
            rows.Select(r => r.GetString("EventName")).Order());
        Assert.All(rows, r => Assert.Equal(EventStatus.Succeeded, r.GetString("Status")));
        Assert.All(rows, r => Assert.Equal("command", r.GetString("Source")));
    }

    [Theory]
    [InlineData("not json", "must be JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("""{ "type": "create_order_message", "order": "1", "message": "x" }""", "id is required")]
    [InlineData("""{ "id": "has space", "type": "create_order_message" }""", "id is required")]
    [InlineData("""{ "id": "c1", "type": "launch_rocket" }""", "type 'launch_rocket' is not a command")]
    [InlineData("""{ "id": "c1", "type": "create_order_message", "message": "x" }""", "order is required")]
    [InlineData("""{ "id": "c1", "type": "create_order_message", "order": "1" }""", "message is required")]
    [InlineData("""{ "id": "c1", "type": "create_order_message", "order": "1", "message": "x", "userId": "abc" }""",
        "userId must be a positive integer")]
    [InlineData("""{ "id": "c1", "type": "create_order_message", "order": "1", "message": "x", "staffOnly": "yes" }""",
        "staffOnly must be true or false")]
    [InlineData("""{ "id": "c1", "type": "create_order_message", "order": "1", "message": "x", "color": "red" }""", "color is not a known field")]
    [InlineData("""{ "id": "c1", "type": "delete_order_message", "messageId": -4 }""", "messageId is required")]
    [InlineData("""{ "id": "c1", "type": "delete_order_message", "messageId": 4, "eventId": "1764403200-0123456789abcdef01234567" }""",
        "eventId is not a known field")]
    [InlineData("""{ "id": "c1", "type": "api_call", "method": "BREW", "path": "x" }""", "method must be one of")]
    [InlineData("""{ "id": "c1", "type": "api_call", "method": "GET" }""", "path is required")]
    public async Task A_bad_command_fails_visibly_without_a_retry(string json, string error)
    {
        await using var app = await AppHarness.StartAsync();
        await app.SendCommandAsync(json);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(0, driver.Failures);
        Assert.Empty(driver.Retries);
        var row = Assert.Single(await app.RowsAsync(app.Names.EventsTable));
        Assert.Equal(EventStatus.Failed, row.GetString("Status"));
        Assert.Contains(error, row.GetString("Error"));
        Assert.Empty(app.Spp.Requests);
    }

    [Fact]
    public async Task A_command_whose_path_escapes_the_api_root_fails_without_a_request()
    {
        await using var app = await AppHarness.StartAsync();
        await app.SendCommandAsync("""{ "id": "c-evil", "type": "api_call", "method": "GET", "path": "https://evil.example.com/" }""");
        await app.Driver().DrainAsync();
        var row = Assert.Single(await app.RowsAsync(app.Names.EventsTable));
        Assert.Equal(EventStatus.Failed, row.GetString("Status"));
        Assert.Contains("refused", row.GetString("Error"));
        Assert.Empty(app.Spp.Requests);
    }
}
