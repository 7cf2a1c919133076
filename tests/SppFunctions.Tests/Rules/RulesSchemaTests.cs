using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Rules;
using SppFunctions.Processing.Templates;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Rules;

/// <summary>The JSON Schema of rules.json (what editors check) and the loader (what start-up checks) agree.</summary>
public class RulesSchemaTests
{
    private static readonly string AppDirectory = Path.Combine(TestPaths.RepositoryRoot, "src", "SppFunctions");
    private static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(AppDirectory, "rules.schema.json")));
    private static readonly JsonDocumentOptions Jsonc = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static bool SchemaAccepts(string json, out string detail)
    {
        using var document = JsonDocument.Parse(json, Jsonc);
        var result = Schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        detail = string.Join("\n", (result.Details ?? new List<EvaluationResults>()).Where(d => d.Errors is { Count: > 0 })
            .Take(8).Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}"));
        return result.IsValid;
    }

    private static RulesLoadResult Load(string json) => RulesLoader.Load(json, "rules.json",
        new TemplateEngine(new Dictionary<string, string> { ["SlackWebhook"] = "https://hooks.slack.com/services/T000/B000/XXXX" }),
        new ForwardOptions { AllowedHosts = { "hooks.slack.com" } });

    private const string CreateMessageWithEveryField =
        """{ "type": "create_order_message", "order": "{{ data.id }}", "message": "{{ steps.d.status }}", "userId": 5,""" +
        """ "staffOnly": "{{ item.staff_only }}" }""";

    private const string ApiCallWithEveryField =
        """{ "type": "api_call", "method": "post", "path": "orders", "query": { "a": 1, "b": true }, "headers": { "X-A": "b" },""" +
        """ "body": [1, { "a": null }] }""";

    public static TheoryData<string, string> Examples()
    {
        var data = new TheoryData<string, string>
        {
            { "rules.json", File.ReadAllText(Path.Combine(AppDirectory, "rules.json")) },
            { "rules.example.json", File.ReadAllText(Path.Combine(AppDirectory, "rules.example.json")) },
        };
        for (var i = 0; i < ScenarioTests.Scenarios.Count; i++) data.Add($"docs/rules.md scenario {i + 1}", ScenarioTests.Scenarios[i]);
        data.Add("every operator", $$$"""
            [{ "name": "ops", "on": ["order.*", "invoice.paid"], "includeOwnMessages": true, "enabled": true, "description": "d",
               "when": { "all": [
                 { "field": "data.a", "equals": null }, { "field": "data.a", "notEquals": [1] }, { "field": "data.a", "oneOf": [1, "x"] },
                 { "field": "data.a", "exists": true }, { "field": "data.a", "empty": false }, { "field": "data.a", "contains": 5 },
                 { "field": "data.a", "notContains": "x", "ignoreCase": true }, { "field": "data.a", "startsWith": "x" },
                 { "field": "data.a", "endsWith": true }, { "field": "data.a", "matches": "^x$" }, { "field": "data.a", "gt": 1 },
                 { "field": "data.a", "gte": "1.50" }, { "field": "data.a", "lt": -3 }, { "field": "data.a", "lte": 1e3 },
                 { "field": "data.a", "before": "-2h" }, { "field": "created", "after": 1764403200 }, { "field": "data.a", "length": 2 },
                 { "field": "data.a", "length": { "gt": 0, "lte": 9 } },
                 { "any": [{ "not": { "field": "data.b", "exists": true } }, { "field": "event", "equals": "order.created" }] } ] },
               "actions": [
                 { "id": "m", "type": "list_order_messages", "order": 5, "limit": 20, "description": "x" },
                 { "type": "forEach", "forEach": "{{ steps.m.body }}", "when": { "field": "steps.m.status", "equals": 200 },
                   "actions": [{ "id": "d", "type": "delete_order_message", "messageId": "{{ item.id }}" },
                               {{{CreateMessageWithEveryField}}}] },
                 {{{ApiCallWithEveryField}}},
                 { "type": "forward", "url": "{{ secrets.SlackWebhook }}", "headers": { "X-B": "{{ data.id }}" }, "body": "{{ event }}" }
               ] }]
            """);
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_is_valid_for_the_schema_and_the_loader(string name, string json)
    {
        Assert.True(SchemaAccepts(json, out var detail), $"{name}: the schema refuses it:\n{detail}");
        var loaded = Load(json);
        Assert.True(loaded.Errors.Count == 0, $"{name}: the loader refuses it:\n{string.Join("\n", loaded.Errors)}");
    }

    private const string Ok = """{ "type": "delete_order_message", "messageId": 1 }""";

    public static TheoryData<string> BrokenFiles => new()
    {
        """{ "rules": [], "extra": 1 }""",
        """{ "rule": [] }""",
        "42",
        $$"""[{ "on": "order.*", "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "has space", "on": "order.*", "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "bad pattern", "actions": [{{Ok}}] }]""",
        """[{ "name": "a", "on": "x", "actions": [] }]""",
        $$"""[{ "name": "a", "on": "x", "actions": [{{Ok}}], "action": [] }]""",
        $$"""[{ "name": "a", "on": "x", "enabled": "no", "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x" }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x", "equals": 1, "oneOf": [1] }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x", "greaterThan": 1 }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x", "exists": "yes" }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x", "oneOf": [] }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x", "gt": "lots" }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x", "equals": 1, "ignoreCase": "yes" }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x", "length": -1 }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "field": "data.x", "length": { "above": 1 } }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "any": [] }, "actions": [{{Ok}}] }]""",
        $$"""[{ "name": "a", "on": "x", "when": { "not": { "field": "data.x", "exists": true }, "field": "data.y" }, "actions": [{{Ok}}] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "order": "1" }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "send_email" }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "create_order_message", "order": "1" }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "create_order_message", "order": "1", "message": "hi", "staffOnly": 3 }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "create_order_message", "order": "1", "message": "hi", "userID": 3 }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "delete_order_message" }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "list_order_messages", "order": "1", "limit": 500 }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "FETCH", "path": "orders" }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "GET", "path": "orders", "query": [1] }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "api_call", "method": "GET", "path": "orders", "headers": { "X": { "a": 1 } } }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "type": "forward" }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "id": "bad id", "type": "delete_order_message", "messageId": 1 }] }]""",
        """[{ "name": "a", "on": "x", "actions": [{ "forEach": "data.items" }] }]""",
        $$"""[{ "name": "a", "on": "x", "actions": [{ "forEach": "data.items", "actions": [{ "forEach": "item.x", "actions": [{{Ok}}] }] }] }]""",
        $$"""[{ "name": "a", "on": "x", "actions": [{ "forEach": "data.items", "id": "x", "actions": [{{Ok}}] }] }]""",
    };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void A_broken_rules_file_is_refused_by_the_schema_and_the_loader(string json)
    {
        Assert.False(SchemaAccepts(json, out _), "the schema accepts it");
        var loaded = Load(json);
        Assert.Null(loaded.RuleSet);
        Assert.NotEmpty(loaded.Errors);
    }
}
