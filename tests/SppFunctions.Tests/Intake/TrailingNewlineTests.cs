using System.Text.Json.Nodes;
using SppFunctions.Events;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Rules;
using SppFunctions.Processing.Templates;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Intake;

/// <summary>
/// In .NET regular expressions "$" also matches before a final "\n", so shape checks anchored with it let a trailing
/// newline through. The fuzzed corpus of the reliability suite found "order.created\n" accepted as an event name.
/// </summary>
public class TrailingNewlineTests
{
    [Theory]
    [InlineData("order.created\n")]
    [InlineData("order.created\r\n")]
    [InlineData("\norder.created")]
    public async Task An_event_name_with_a_line_break_is_refused_and_nothing_is_stored(string eventName)
    {
        await using var app = await AppHarness.StartAsync();
        var answer = await PostAsync(app, Envelope(eventName));
        Assert.Equal(400, answer.Status);
        Assert.Equal("event", answer.Body["field"]!.GetValue<string>());
        await app.AssertNothingStoredAsync(eventName);
    }

    [Fact]
    public void Event_ids_rule_names_and_patterns_with_a_trailing_newline_are_invalid()
    {
        var id = EventIds.Create("order.created", "1", Created, "x");
        Assert.True(EventIds.IsValid(id));
        Assert.False(EventIds.IsValid(id + "\n"));

        Assert.False(new EventPattern("order.*").Matches("order.created\n"));
        Assert.False(new EventPattern("order.created").Matches("order.created\n"));
        Assert.True(new EventPattern("order.*").Matches("order.created"));

        const string ok = """{ "type": "create_order_message", "order": "{{ data.id }}", "message": "hi" }""";
        var badName = RulesLoader.Load($$"""[{ "name": "welcome\n", "on": "order.*", "actions": [{{ok}}] }]""", "rules.json",
            new TemplateEngine(), new ForwardOptions());
        Assert.Contains(badName.Errors, e => e.Contains("name: must be 1-64", StringComparison.Ordinal));
        var badPattern = RulesLoader.Load($$"""[{ "name": "welcome", "on": "order.*\n", "actions": [{{ok}}] }]""", "rules.json",
            new TemplateEngine(), new ForwardOptions());
        Assert.Contains(badPattern.Errors, e => e.Contains("must be an event-name pattern", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_command_id_with_a_trailing_newline_fails_the_command_visibly_without_calling_SPP()
    {
        await using var app = await AppHarness.StartAsync();
        var order = app.Spp.Store.AddOrder();
        await app.SendCommandAsync(new JsonObject
        {
            ["id"] = "crm-1\n", ["type"] = "create_order_message", ["order"] = order["id"]!.ToString(), ["message"] = "x",
        }.ToJsonString());
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(0, driver.Failures);
        var row = Assert.Single(await app.RowsAsync(app.Names.EventsTable));
        Assert.Equal(EventStatus.Failed, row.GetString("Status"));
        Assert.Contains("id is required", row.GetString("Error"));
        Assert.Empty(app.Spp.Requests);
    }
}
