using SppFunctions.Cli;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Cli;

/// <summary><c>sppfn rules check</c> and <c>sppfn rules test</c> as a user runs them.</summary>
public class RulesCommandTests
{
    private const string LogoService = """{ "field": "steps.order.body.service", "contains": "logo", "ignoreCase": true }""";

    private const string Rules = $$$"""
        // comments are fine
        { "$schema": "./rules.schema.json", "rules": [
          { "name": "service-reply", "on": "order.created", "when": { "field": "data.client.email", "exists": true }, "actions": [
              { "id": "order", "type": "api_call", "method": "GET", "path": "orders/{{ data.id }}" },
              { "type": "create_order_message", "order": "{{ data.id }}", "when": {{{LogoService}}},
                "message": "<p>Colours for your {{ steps.order.body.service | default: 'order' }}, {{ data.client.name }}?</p>" } ] },
          { "name": "paid", "on": "invoice.paid", "actions": [{ "type": "delete_order_message", "messageId": 1 }] }
        ] }
        """;

    private static string Write(string directory, string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Check_reports_every_error_with_rule_step_and_field_and_fails()
    {
        await using var app = await AppHarness.StartAsync();
        var dir = Directory.CreateTempSubdirectory("sppfn-rules-").FullName;
        var bad = Write(dir, "bad.json",
            """[{ "name": "a", "on": "x", "actions": [{ "type": "delete_order_message", "when": { "field": "data.x", "between": 1 } }] }, """ +
            """{ "name": "b", "actions": [] }]""");
        var good = Write(dir, "rules.json", Rules);

        var failed = await CliTestKit.RunAsync(CliTestKit.Environment(app), app.Names, dir, "rules", "check", bad);
        var ok = await CliTestKit.RunAsync(CliTestKit.Environment(app), app.Names, dir, "rules", "check");
        var json = await CliTestKit.RunAsync(CliTestKit.Environment(app), app.Names, dir, "rules", "check", bad, "--json");

        Assert.Equal(ExitCodes.Failed, failed.ExitCode);
        Assert.Contains("rules[0] 'a': actions[0].when.between: is not a known field", failed.Out);
        Assert.Contains("rules[0] 'a': actions[0].messageId: is required", failed.Out);
        Assert.Contains("rules[1] 'b': on: is required", failed.Out);
        Assert.Contains("5 error(s)", failed.Out);
        Assert.Equal(ExitCodes.Ok, ok.ExitCode);
        Assert.Contains($"{good}: OK, 2 rule(s) enabled: service-reply, paid.", ok.Out);
        Assert.False(json.Json["valid"]!.GetValue<bool>());
        Assert.Equal(5, json.Json["errors"]!.AsArray().Count);
    }

    [Fact]
    public async Task Test_shows_matches_condition_values_and_rendered_actions_and_sends_nothing()
    {
        await using var app = await AppHarness.StartAsync();
        var dir = Directory.CreateTempSubdirectory("sppfn-rules-").FullName;
        Write(dir, "rules.json", Rules);

        var run = await CliTestKit.RunAsync(CliTestKit.Environment(app), app.Names, dir, "rules", "test", "--event", "order.created");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("Rule 'service-reply': matched", run.Out);
        Assert.Contains("when data.client.email exists true: \"jane.doe@example.com\" → yes", run.Out);
        Assert.Contains("actions[0] api_call (id order): GET orders/666AF315 — not sent (dry run)", run.Out);
        // Without --live the GET has no output, so the filter on its body does not hold.
        Assert.Contains("actions[1] create_order_message: skipped", run.Out);
        Assert.Contains("when steps.order.body.service contains \"logo\" (ignoring case): (absent) → no", run.Out);
        Assert.Contains("Rule 'paid': not matched (on invoice.paid)", run.Out);
        Assert.Empty(app.Spp.Requests);
    }

    [Fact]
    public async Task Test_live_runs_the_GET_but_not_the_write_unless_allowed()
    {
        await using var app = await AppHarness.StartAsync();
        var dir = Directory.CreateTempSubdirectory("sppfn-rules-").FullName;
        Write(dir, "rules.json", Rules);
        var order = SppFunctions.FakeSpp.FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder());
        Write(dir, "webhook.json", new System.Text.Json.Nodes.JsonObject
        {
            ["event"] = "order.created", ["created"] = 1764403200, ["token"] = "x", ["data"] = order,
        }.ToJsonString());
        var number = order["id"]!.GetValue<string>();

        var live = await CliTestKit.RunAsync(CliTestKit.Environment(app), app.Names, dir,
            "rules", "test", "--event", "webhook.json", "--live", "--json");
        Assert.Equal(ExitCodes.Ok, live.ExitCode);
        var steps = live.Json["results"]![0]!["steps"]!.AsArray();
        Assert.Equal("sent", steps[0]!["note"]!.GetValue<string>());
        Assert.Equal("Logo design", steps[0]!["output"]!["body"]!["service"]!.GetValue<string>());
        Assert.Equal("not sent (a write: add --allow-writes)", steps[1]!["note"]!.GetValue<string>());
        Assert.Equal($"<p>Colours for your Logo design, Jane Doe?</p>", steps[1]!["action"]!["message"]!.GetValue<string>());
        Assert.Single(app.Spp.RequestsTo("GET", $"/api/orders/{number}"));
        Assert.Empty(app.Spp.Store.GetOrderMessages(number));

        var writes = await CliTestKit.RunAsync(CliTestKit.Environment(app), app.Names, dir,
            "rules", "test", "--event", "webhook.json", "--live", "--allow-writes");
        Assert.Equal(ExitCodes.Ok, writes.ExitCode);
        Assert.Single(app.Spp.Store.GetOrderMessages(number));
        foreach (var secret in CliTestKit.Secrets(app)) Assert.DoesNotContain(secret, writes.All);
    }

    [Fact]
    public async Task Test_fails_with_exit_1_when_a_rule_would_fail_and_with_usage_on_a_bad_event()
    {
        await using var app = await AppHarness.StartAsync();
        var dir = Directory.CreateTempSubdirectory("sppfn-rules-").FullName;
        Write(dir, "rules.json",
            """[{ "name": "r", "on": "*", "actions": [{ "type": "create_order_message", "order": "{{ data.id }}",""" +
            """ "message": "{{ data.nothing }}" }] }]""");

        var failing = await CliTestKit.RunAsync(CliTestKit.Environment(app), app.Names, dir, "rules", "test", "--event", "order.created");
        var usage = await CliTestKit.RunAsync(CliTestKit.Environment(app), app.Names, dir, "rules", "test", "--event", "missing-file.json");

        Assert.Equal(ExitCodes.Failed, failing.ExitCode);
        Assert.Contains("FAILED: rule 'r' action 0 (create_order_message): The template uses data.nothing", failing.Out);
        Assert.Equal(ExitCodes.Usage, usage.ExitCode);
        Assert.Contains("no such file", usage.Error);
    }
}
