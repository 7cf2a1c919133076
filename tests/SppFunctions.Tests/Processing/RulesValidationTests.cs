using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Rules;
using SppFunctions.Processing.Templates;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Processing;

/// <summary>A rules file with any error stops start-up with a message naming the rule and the field.</summary>
public class RulesValidationTests
{
    private static RulesLoadResult Load(string json, params string[] allowedHosts) =>
        RulesLoader.Load(json, "rules.json", new TemplateEngine(), new ForwardOptions { AllowedHosts = allowedHosts.ToList() });

    private const string Ok = """{ "type": "create_order_message", "order": "{{ data.id }}", "message": "hi" }""";

    public static TheoryData<string, string> BadFiles => new()
    {
        { "{", "rules.json: not valid JSON" },
        { """{ "rule": [] }""", "must be a JSON array of rules ([] for none), or an object" },
        { "42", "must be a JSON array of rules" },
        { "[42]", "rules[0]: rule: must be an object" },
        { $$"""[{ "on": "order.*", "actions": [{{Ok}}] }]""", "rules[0]: name: is required" },
        { $$"""[{ "name": "has space", "on": "order.*", "actions": [{{Ok}}] }]""", "rules[0] 'has space': name: must be 1-64" },
        { $$"""[{ "name": "a", "on": "x", "actions": [{{Ok}}] }, { "name": "A", "on": "y", "actions": [{{Ok}}] }]""",
            "rules[1] 'A': name: 'A' is used by another rule" },
        { $$"""[{ "name": "a", "actions": [{{Ok}}] }]""", "rules[0] 'a': on: is required" },
        { $$"""[{ "name": "a", "on": ["order.*", "bad pattern"], "actions": [{{Ok}}] }]""", "rules[0] 'a': on[1]: must be an event-name pattern" },
        { """[{ "name": "a", "on": "order.*" }]""", "rules[0] 'a': actions: is required" },
        { """[{ "name": "a", "on": "order.*", "actions": [] }]""", "rules[0] 'a': actions: is required" },
        { $$"""[{ "name": "a", "on": "order.*", "actions": [{{Ok}}], "action": [] }]""", "rules[0] 'a': action: is not a known field" },
        { $$"""[{ "name": "a", "on": "order.*", "when": { "field": "data.x" }, "actions": [{{Ok}}] }]""",
            "rules[0] 'a': when: needs exactly one of equals, oneOf, exists" },
        { $$"""[{ "name": "a", "on": "order.*", "when": [{ "equals": 1 }], "actions": [{{Ok}}] }]""", "rules[0] 'a': when[0].field: is required" },
        { $$"""[{ "name": "a", "on": "order.*", "when": [{ "field": "x", "oneOf": [] }], "actions": [{{Ok}}] }]""",
            "rules[0] 'a': when[0].oneOf: must be a non-empty list" },
        { $$"""[{ "name": "a", "on": "order.*", "when": [{ "field": "x", "exists": "yes" }], "actions": [{{Ok}}] }]""",
            "rules[0] 'a': when[0].exists: must be true or false" },
        { $$"""[{ "name": "a", "on": "order.*", "enabled": "no", "actions": [{{Ok}}] }]""", "rules[0] 'a': enabled: must be true or false" },
        { """[{ "name": "a", "on": "x", "actions": [{ "order": "1" }] }]""", "rules[0] 'a': actions[0].type: is required" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "send_email" }] }]""",
            "rules[0] 'a': actions[0].type: 'send_email' is not an action type" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "create_order_message", "message": "hi" }] }]""",
            "rules[0] 'a': actions[0].order: is required" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "create_order_message", "order": "1" }] }]""",
            "rules[0] 'a': actions[0].message: is required" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "create_order_message", "order": "1", "message": "{{ data.x " }] }]""",
            "rules[0] 'a': actions[0].message: template error" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "create_order_message", "order": "1", "message": "hi", "staffOnly": 3 }] }]""",
            "rules[0] 'a': actions[0].staffOnly: must be true, false or a template string" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "create_order_message", "order": "1", "message": "hi", "userID": 3 }] }]""",
            "rules[0] 'a': actions[0].userID: is not a known field" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "delete_order_message" }] }]""", "rules[0] 'a': actions[0].messageId: is required" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "FETCH", "path": "orders" }] }]""",
            "rules[0] 'a': actions[0].method: must be one of GET, POST, PUT, PATCH, DELETE" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "GET", "path": "https://evil.example.com/x" }] }]""",
            "rules[0] 'a': actions[0].path: The path 'https://evil.example.com/x' is refused" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "GET", "path": "../admin" }] }]""",
            "rules[0] 'a': actions[0].path: The path '../admin' is refused" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "GET", "path": "orders",""" +
            """ "headers": { "Authorization": "x" } }] }]""",
            "rules[0] 'a': actions[0].headers.Authorization: is set by the SPP client" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "POST", "path": "orders", "body": { "note": "{% if %}" } }] }]""",
            "rules[0] 'a': actions[0].body: template error at $.note" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "GET", "path": "orders", "query": [1] }] }]""",
            "rules[0] 'a': actions[0].query: must be an object" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "forward", "url": "https://evil.example.com/hook" }] }]""",
            "rules[0] 'a': actions[0].url: is refused: host evil.example.com is not on Forward__AllowedHosts" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "forward", "url": "http://hooks.slack.com/x" }] }]""",
            "rules[0] 'a': actions[0].url: is refused: the URL must be https" },
        { """[{ "name": "a", "on": "x", "actions": [{ "type": "forward", "url": "not a url" }] }]""",
            "rules[0] 'a': actions[0].url: must be an absolute https URL" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_rules_file_is_refused_naming_the_rule_and_field(string json, string expected)
    {
        var result = Load(json, "hooks.slack.com");
        Assert.Null(result.RuleSet);
        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_error_is_reported_not_just_the_first()
    {
        var result = Load(
            """[{ "name": "a", "actions": [{ "type": "x" }] }, { "name": "b", "on": "y", "actions": [{ "type": "delete_order_message" }] }]""");
        Assert.Equal(3, result.Errors.Count);
    }

    [Fact]
    public void The_shipped_rules_file_and_the_example_file_are_valid_and_the_example_covers_every_action_type()
    {
        var output = TestPaths.FunctionsOutputDirectory;
        var shipped = RulesLoader.LoadFile(Path.Combine(output, "rules.json"), new TemplateEngine(), new ForwardOptions());
        Assert.Empty(shipped.Errors);
        Assert.Empty(shipped.RuleSet!.Rules);

        var example = RulesLoader.LoadFile(Path.Combine(output, "rules.example.json"),
            new TemplateEngine(new Dictionary<string, string> { ["SlackWebhook"] = "https://hooks.slack.com/services/T000/B000/XXXX" }),
            new ForwardOptions { AllowedHosts = { "hooks.slack.com" } });
        Assert.Empty(example.Errors);
        var text = File.ReadAllText(Path.Combine(output, "rules.example.json"));
        foreach (var type in new[] { "create_order_message", "delete_order_message", "list_order_messages", "api_call", "forward" })
            Assert.Contains($"\"type\": \"{type}\"", text);
        Assert.Contains("\"forEach\":", text);
        Assert.Contains("\"$schema\": \"./rules.schema.json\"", text);
    }

    [Fact]
    public async Task Start_up_fails_on_a_bad_rules_file_with_the_errors()
    {
        await using var app = await AppHarness.StartAsync(
            rules: """[{ "name": "broken", "on": "order.*", "actions": [{ "type": "create_order_message", "order": "1" }] }]""");
        var ex = Assert.Throws<OptionsValidationException>(() => app.Get<IOptions<RulesOptions>>().Value);
        Assert.Contains("'broken': actions[0].message: is required", ex.Message);
        Assert.Throws<OptionsValidationException>(() => app.Get<RuleSet>());
    }

    [Fact]
    public async Task Start_up_fails_when_the_rules_file_is_missing()
    {
        await using var app = await AppHarness.StartAsync(new() { ["Rules:Path"] = "/nonexistent/rules.json" });
        var ex = Assert.Throws<OptionsValidationException>(() => app.Get<IOptions<RulesOptions>>().Value);
        Assert.Contains("/nonexistent/rules.json does not exist", ex.Message);
    }

    [Fact]
    public void Disabled_rules_are_checked_but_do_not_run()
    {
        var result = Load("""[{ "name": "off", "enabled": false, "on": "x", "actions": [{ "type": "delete_order_message", "messageId": 1 }] }]""");
        Assert.Empty(result.Errors);
        Assert.Empty(result.RuleSet!.Rules);
    }
}
