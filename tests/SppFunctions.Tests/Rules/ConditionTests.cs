using System.Text.Json.Nodes;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Rules;
using SppFunctions.Processing.Templates;

namespace SppFunctions.Tests.Rules;

/// <summary>Make's filter operators on SPP's loosely typed values, and the start-up errors of bad conditions.</summary>
public class ConditionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private static bool Holds(string condition, string data)
    {
        var errors = new List<string>();
        var c = ConditionParser.Read(JsonNode.Parse(condition), "when", ScopeShape.Event, (f, p) => errors.Add($"{f}: {p}"));
        Assert.True(c is not null, string.Join("\n", errors));
        var scope = new JsonObject { ["event"] = "order.created", ["created"] = 1764403200, ["data"] = JsonNode.Parse(data) };
        var unexpected = new List<Exception>();
        var met = c!.IsMet(new ConditionContext(scope, Now) { OnError = unexpected.Add });
        Assert.Empty(unexpected);
        return met;
    }

    [Theory]
    // The reported bug: a number beyond decimal's range made the event retry into poison. Now it simply decides.
    [InlineData("""{"field": "data.total", "equals": 5}""", """{"total": 1e30}""", false)]
    [InlineData("""{"field": "data.total", "gt": 5}""", """{"total": 1e30}""", true)]
    [InlineData("""{"field": "data.total", "lt": "1e31"}""", """{"total": 1e30}""", true)]
    [InlineData("""{"field": "data.total", "equals": 5}""", """{"total": 123456789012345678901234567890123456789}""", false)]
    [InlineData("""{"field": "data.total", "gt": 0}""", """{"total": "NaN"}""", false)]
    [InlineData("""{"field": "data.total", "lt": 0}""", """{"total": "-Infinity"}""", false)]
    [InlineData("""{"field": "data.total", "equals": 5}""", """{"total": {"amount": 5}}""", false)]
    [InlineData("""{"field": "data.total", "gt": 5}""", """{"total": [6]}""", false)]
    [InlineData("""{"field": "data.total", "equals": 5}""", """{"total": null}""", false)]
    // SPP's money comes as strings: compared as decimals.
    [InlineData("""{"field": "data.total", "gt": "99.99"}""", """{"total": "100.00"}""", true)]
    [InlineData("""{"field": "data.total", "gte": 100}""", """{"total": "100.00"}""", true)]
    [InlineData("""{"field": "data.total", "lt": "9.5"}""", """{"total": "10.00"}""", false)]
    [InlineData("""{"field": "data.total", "equals": 10}""", """{"total": "10.00"}""", true)]
    [InlineData("""{"field": "data.total", "equals": "10"}""", """{"total": 10.0}""", true)]
    [InlineData("""{"field": "data.status", "equals": "Complete"}""", """{"status": "complete"}""", false)]
    [InlineData("""{"field": "data.status", "equals": "Complete", "ignoreCase": true}""", """{"status": "complete"}""", true)]
    [InlineData("""{"field": "data.status", "notEquals": "Complete"}""", """{"status": "Working"}""", true)]
    [InlineData("""{"field": "data.status", "oneOf": ["Working", "Complete"]}""", """{"status": "Complete"}""", true)]
    // Text.
    [InlineData("""{"field": "data.message", "contains": "urgent", "ignoreCase": true}""", """{"message": "<p>URGENT: call me</p>"}""", true)]
    [InlineData("""{"field": "data.message", "notContains": "urgent"}""", """{"message": "URGENT"}""", true)]
    [InlineData("""{"field": "data.message", "startsWith": "[tmp]"}""", """{"message": "[tmp] draft"}""", true)]
    [InlineData("""{"field": "data.message", "endsWith": ".pdf", "ignoreCase": true}""", """{"message": "Invoice.PDF"}""", true)]
    [InlineData("""{"field": "data.message", "matches": "^INV-\\d{4}$"}""", """{"message": "INV-2026"}""", true)]
    [InlineData("""{"field": "data.message", "matches": "^inv-\\d{4}$", "ignoreCase": true}""", """{"message": "INV-2026"}""", true)]
    [InlineData("""{"field": "data.id", "startsWith": "12"}""", """{"id": 1234}""", true)]
    // A catastrophic pattern on a long value times out and does not match, instead of hanging the worker.
    [InlineData("""{"field": "data.message", "matches": "^(a+)+$"}""",
        """{"message": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}""", false)]
    // Dates: SPP's formats, Unix seconds, and values relative to now (2026-11-02 09:00 UTC here).
    [InlineData("""{"field": "data.date_added", "after": "-2h"}""", """{"date_added": "2026-11-02T08:00:00+0000"}""", true)]
    [InlineData("""{"field": "data.date_added", "after": "-2h"}""", """{"date_added": "2026-11-02 06:59:59"}""", false)]
    [InlineData("""{"field": "data.date_added", "before": "2026-01-01"}""", """{"date_added": "2025-12-31T23:00:00+00"}""", true)]
    [InlineData("""{"field": "data.date_added", "before": "now"}""", """{"date_added": "2021-08-26T14:55:23.000000Z"}""", true)]
    [InlineData("""{"field": "data.date_added", "after": "-1w"}""", """{"date_added": 1764403200}""", false)]
    [InlineData("""{"field": "created", "before": "-1d"}""", """{}""", true)]
    [InlineData("""{"field": "data.date_added", "after": "-2h"}""", """{"date_added": "soon"}""", false)]
    // Presence, emptiness, lists.
    [InlineData("""{"field": "data.note", "exists": false}""", """{"note": null}""", true)]
    [InlineData("""{"field": "data.note", "empty": true}""", """{"note": ""}""", true)]
    [InlineData("""{"field": "data.tags", "empty": true}""", """{"tags": []}""", true)]
    [InlineData("""{"field": "data.tags", "empty": false}""", """{"tags": ["vip"]}""", true)]
    [InlineData("""{"field": "data.tags", "contains": "VIP", "ignoreCase": true}""", """{"tags": ["vip", "new"]}""", true)]
    [InlineData("""{"field": "data.ids", "contains": 5}""", """{"ids": ["5", 6]}""", true)]
    [InlineData("""{"field": "data.tags", "length": 2}""", """{"tags": ["a", "b"]}""", true)]
    [InlineData("""{"field": "data.tags", "length": {"gt": 0, "lte": 1}}""", """{"tags": ["a", "b"]}""", false)]
    [InlineData("""{"field": "data.items[1].id", "equals": 7}""", """{"items": [{"id": 6}, {"id": 7}]}""", true)]
    // Combinators.
    [InlineData("""{"any": [{"field": "data.a", "equals": 1}, {"field": "data.b", "equals": 2}]}""", """{"b": 2}""", true)]
    [InlineData("""{"all": [{"field": "data.a", "equals": 1}, {"field": "data.b", "equals": 2}]}""", """{"b": 2}""", false)]
    [InlineData("""{"not": {"field": "data.a", "exists": true}}""", """{"b": 2}""", true)]
    public void Operators_decide_as_a_Make_user_expects(string condition, string data, bool expected) =>
        Assert.Equal(expected, Holds(condition, data));

    private static string Load(string rules)
    {
        var result = RulesLoader.Load(rules, "rules.json", new TemplateEngine(), new ForwardOptions());
        Assert.Null(result.RuleSet);
        return string.Join("\n", result.Errors);
    }

    public static TheoryData<string, string> BadConditions => new()
    {
        { """{ "field": "data.x", "greaterThan": 5 }""", "rules[0] 'r': when.greaterThan: is not a known field" },
        { """{ "field": "data.x", "matches": "([a-z" }""", "rules[0] 'r': when.matches: is not a valid regular expression" },
        { """{ "field": "event", "gt": 5 }""", "rules[0] 'r': when.gt: cannot apply to event, which is never a number" },
        { """{ "field": "data", "contains": "x" }""", "rules[0] 'r': when.contains: cannot apply to data, which is an object" },
        { """{ "field": "topic", "before": "-2h" }""", "rules[0] 'r': when.before: cannot apply to topic, which is never a date" },
        { """{ "field": "created", "length": 3 }""", "rules[0] 'r': when.length: cannot apply to created, which is never a list or text" },
        { """{ "field": "data.total", "gt": "lots" }""", "rules[0] 'r': when.gt: must be a number" },
        { """{ "field": "data.date", "after": "next tuesday" }""", "rules[0] 'r': when.after: must be a date" },
        { """{ "field": "data.x", "gt": 1, "ignoreCase": true }""", "rules[0] 'r': when.ignoreCase: applies to text operators only" },
        { """{ "field": "date.status", "equals": 1 }""", "rules[0] 'r': when.field: 'date.status' is not in the event" },
        { """{ "field": "steps.order.status", "equals": 200 }""",
            "rules[0] 'r': when.field: 'steps.order.status': no earlier step of this rule has the id 'order'" },
        { """{ "field": "item.id", "exists": true }""", "rules[0] 'r': when.field: 'item.id': item exists only inside a forEach" },
        { """{ "any": [] }""", "rules[0] 'r': when.any: must be a non-empty list of conditions" },
        { """{ "not": { "field": "data.x", "between": [1, 2] } }""", "rules[0] 'r': when.not.between: is not a known field" },
    };

    [Theory]
    [MemberData(nameof(BadConditions))]
    public void A_bad_condition_is_a_start_up_error_naming_rule_and_field(string condition, string expected)
    {
        var errors = Load(
            $$"""[{ "name": "r", "on": "*", "when": {{condition}}, "actions": [{ "type": "delete_order_message", "messageId": 1 }] }]""");
        Assert.Contains(expected, errors);
    }

    public static TheoryData<string, string> BadSteps => new()
    {
        // A condition of a step: rule, step and field are named.
        { """[{ "id": "order", "type": "api_call", "method": "GET", "path": "orders/1" }, """ +
            """{ "type": "delete_order_message", "messageId": 1, "when": { "field": "steps.order.status", "matches": "(" } }]""",
          "rules[0] 'r': actions[1].when.matches: is not a valid regular expression" },
        { """[{ "type": "delete_order_message", "messageId": 1, "when": { "field": "steps.order.status", "equals": 200 } }, """ +
            """{ "id": "order", "type": "api_call", "method": "GET", "path": "orders/1" }]""",
          "rules[0] 'r': actions[0].when.field: 'steps.order.status': no earlier step of this rule has the id 'order'" },
        { """[{ "id": "order", "type": "api_call", "method": "GET", "path": "orders/1" }, """ +
            """{ "type": "create_order_message", "order": "1", "message": "{{ steps.ordr.body.x }}" }]""",
          "rules[0] 'r': actions[1].message: reads steps.ordr, but no earlier step of this rule has the id 'ordr'" },
        { """[{ "type": "create_order_message", "order": "1", "message": "{{ item.id }}" }]""",
          "rules[0] 'r': actions[0].message: reads item, which exists only inside a forEach" },
        { """[{ "id": "a", "type": "api_call", "method": "GET", "path": "x" }, { "id": "a", "type": "api_call", "method": "GET", "path": "y" }]""",
          "rules[0] 'r': actions[1].id: 'a' is used by another step of this rule" },
        { """[{ "id": "bad id", "type": "api_call", "method": "GET", "path": "x" }]""", "rules[0] 'r': actions[0].id: must be 1-64 letters" },
        { """[{ "forEach": "steps.messages.body", "actions": [{ "type": "delete_order_message", "messageId": "{{ item.id }}" }] }]""",
          "rules[0] 'r': actions[0].forEach: 'steps.messages.body': no earlier step of this rule has the id 'messages'" },
        { """[{ "forEach": "data.items", "actions": [] }]""", "rules[0] 'r': actions[0].actions: is required" },
        { """[{ "forEach": "data.items", "actions": [{ "forEach": "item.list",""" +
            """ "actions": [{ "type": "delete_order_message", "messageId": 1 }] }] }]""",
          "rules[0] 'r': actions[0].actions[0]: a forEach cannot be nested" },
        { """[{ "type": "list_order_messages", "order": "1", "limit": 500 }]""", "rules[0] 'r': actions[0].limit: must be between 1 and 100" },
        { """[{ "type": "list_order_messages" }]""", "rules[0] 'r': actions[0].order: is required" },
    };

    [Theory]
    [MemberData(nameof(BadSteps))]
    public void A_bad_step_is_a_start_up_error_naming_rule_step_and_field(string actions, string expected)
    {
        var errors = Load($$"""[{ "name": "r", "on": "*", "actions": {{actions}} }]""");
        Assert.Contains(expected, errors);
    }

    [Fact]
    public void Todays_conditions_and_action_shapes_still_load()
    {
        // Pieces that would not fit on a line of the rules below.
        const string tags = """{ "field": "data.tags.0", "oneOf": ["a", "b"] }""";
        const string apiCall = """{ "type": "api_call", "method": "put", "path": "orders/{{ data.id }}",""" +
            """ "query": { "a": 1 }, "headers": { "X-A": "b" }, "body": { "note": "x" } }""";
        const string message = """Your item: {% for item in data.items %}{{ item.name }} {% endfor %}{{ data.line_item | default: '' }}""";
        const string rules = $$$"""
            [{ "name": "old", "on": ["order.*"], "when": [{ "field": "data.status", "equals": "Pending" }, {{{tags}}},
                 { "field": "data.client.email", "exists": true }],
               "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "Hi", "userId": 5, "staffOnly": true },
                           { "type": "delete_order_message", "messageId": "{{ data.metadata.m }}" },
                           {{{apiCall}}},
                           { "type": "create_order_message", "order": "1", "message": "{{{message}}}" }] }]
            """;
        var result = RulesLoader.Load(rules, "rules.json", new TemplateEngine(), new ForwardOptions());
        Assert.Empty(result.Errors);
        Assert.Equal(3, result.RuleSet!.Rules[0].When.Count);
        Assert.Equal(4, result.RuleSet.Rules[0].Actions.Count);
    }
}
