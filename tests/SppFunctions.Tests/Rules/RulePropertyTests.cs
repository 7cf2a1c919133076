using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Handlers;
using SppFunctions.Processing.Rules;
using SppFunctions.Processing.Templates;
using Xunit.Abstractions;

namespace SppFunctions.Tests.Rules;

/// <summary>
/// Property-based tests (FsCheck) over arbitrary event data: conditions always decide (true or false, no exception),
/// templates fail only with the documented permanent failure, and a rule run never throws and never asks for a retry.
/// </summary>
public class RulePropertyTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
    private static Config Runs(int n) => Config.QuickThrowOnFailure.WithMaxTest(n).WithEndSize(40);

    private static JsonObject Scope(JsonObject data) => new EventContext("1764403200-abc", "order.created", "orders", 1764403200, "webhook",
        new JsonObject { ["event"] = "order.created", ["data"] = data.DeepClone() }, false).Scope;

    [Fact]
    public void Random_event_data_through_random_valid_conditions_always_decides_without_an_exception()
    {
        var valid = 0;
        var met = 0;
        var property = Prop.ForAll(Arb.From(Gen.Zip(RuleGenerators.Data, RuleGenerators.ConditionJson)), pair =>
        {
            var (data, json) = pair;
            var errors = new List<string>();
            var condition = ConditionParser.Read(json, "when", ScopeShape.Event, (f, p) => errors.Add($"{f}: {p}"));
            if (condition is null)
            {
                // Only combinations the loader refuses for a reason it names (e.g. gt on event) are left out.
                Assert.NotEmpty(errors);
                return true;
            }
            valid++;
            var unexpected = new List<Exception>();
            var scope = Scope(data);
            var context = new ConditionContext(scope, Now) { OnError = unexpected.Add };
            var result = condition.IsMet(context);
            Assert.Empty(unexpected);
            // Metamorphic checks: negation and single-element combinators agree with the condition itself.
            Assert.Equal(!result, new NotCondition(condition).IsMet(context));
            Assert.Equal(result, new AnyCondition(new[] { condition }).IsMet(context));
            Assert.Equal(result, new AllCondition(new[] { condition }).IsMet(context));
            Assert.Empty(unexpected);
            if (result) met++;
            return true;
        });
        Check.One(Runs(1500), property);
        output.WriteLine($"{valid} valid conditions evaluated, {met} held.");
        Assert.True(valid > 500, $"too few generated conditions were valid ({valid})");
        Assert.True(met > 50 && met < valid - 50, $"conditions should both hold and fail on random data ({met} of {valid} held)");
    }

    // The message template of TemplateRules, in pieces that fit on a line.
    private const string TemplateMessage =
        "<p>{{ data.client.email | upcase }} {{ data.total | times: 2 }} {{ data.total | plus: data.price }} {{ data.items | size }} " +
        "{{ data.date_added | date: '%Y-%m-%d' }} {% for t in data.tags %}{{ t }},{% endfor %} {{ data.total | divided_by: data.status }} " +
        "{{ data.message | truncate: 5 }} {{ data.metadata | default: 'none' }} {{ data.items[0] }}</p>";

    private const string TemplateRules = $$$"""
        [{ "name": "t", "on": "*", "actions": [
          { "id": "m", "type": "create_order_message", "order": "{{ data.id }}", "userId": "{{ data.total }}", "staffOnly": "{{ data.staff_only }}",
            "message": "{{{TemplateMessage}}}" },
          { "type": "delete_order_message", "messageId": "{{ data.items[0].id | default: data.id }}" },
          { "type": "list_order_messages", "order": "{{ data.order_id | default: data.id }}", "limit": "{{ data.total | default: 10 }}" },
          { "type": "api_call", "method": "PUT", "path": "orders/{{ data.id }}/{{ data.status | default: 'x' }}",
            "query": { "q": "{{ data.message | default: '' }}" }, "headers": { "X-Note": "{{ data.email | default: '-' }}" },
            "body": { "note": "{{ data.total | round: 2 }}", "tags": ["{{ data.tags | join: ',' }}"], "n": 5 } }
        ]}]
        """;

    [Fact]
    public void Random_event_data_through_the_templates_fails_only_with_the_documented_permanent_failure()
    {
        var rules = RulesLoader.Load(TemplateRules, "rules.json", new TemplateEngine(), new ForwardOptions());
        Assert.Empty(rules.Errors);
        var templates = rules.RuleSet!.Rules[0].Actions.Cast<ActionTemplate>().ToList();
        var rendered = 0;
        var refused = 0;
        var causes = new Dictionary<string, int>();
        var property = Prop.ForAll(Arb.From(RuleGenerators.Data), data =>
        {
            var scope = Scope(data);
            foreach (var template in templates)
            {
                try
                {
                    Assert.NotNull(template.Resolve(scope));
                    rendered++;
                }
                catch (ActionFailedException ex)
                {
                    Assert.Equal(ActionFailureKind.Permanent, ex.Kind);
                    refused++;
                    var cause = ex.InnerException?.GetType().Name ?? "invalid value";
                    causes[cause] = causes.GetValueOrDefault(cause) + 1;
                }
            }
            return true;
        });
        Check.One(Runs(600), property);
        output.WriteLine($"{rendered} actions rendered, {refused} failed for good: {string.Join(", ", causes.Select(c => $"{c.Key} {c.Value}"))}.");
        Assert.True(rendered > 100 && refused > 100, $"random data should both render and fail ({rendered} rendered, {refused} refused)");
    }

    /// <summary>Acts like the recording executor without storage: renders, fails permanently on a refusal, answers with an output.</summary>
    private sealed class RenderingExecutor : IStepExecutor
    {
        public int Runs { get; private set; }

        public Task<ActionOutcome> RunAsync(StepRun run, CancellationToken cancellationToken)
        {
            Runs++;
            try
            {
                var action = run.Plan();
                var body = action is ListOrderMessagesAction
                    ? new JsonArray(new JsonObject { ["id"] = 1, ["staff_only"] = true, ["message"] = "[tmp]" }, new JsonObject { ["id"] = 2 })
                    : (JsonNode)new JsonObject { ["id"] = 7, ["total"] = "10.00" };
                return Task.FromResult(
                    new ActionOutcome(run.Key, ActionStatus.Succeeded, null, null, false) { Output = StepOutput.Of(200, null, body) });
            }
            catch (ActionFailedException ex) when (ex.Kind == ActionFailureKind.Permanent)
            {
                return Task.FromResult(new ActionOutcome(run.Key, ActionStatus.Failed, null, ex.Message, false));
            }
        }
    }

    [Fact]
    public async Task Random_event_data_through_rules_with_steps_and_forEach_never_throws_nor_asks_for_a_retry()
    {
        const string itemMessage = """{{ item | default: 'none' }} {{ steps.order.body.total }}""";
        const string rules = $$$"""
            [{ "name": "chain", "on": "*", "when": { "not": { "field": "data.status", "equals": "skip" } }, "actions": [
                { "id": "order", "type": "api_call", "method": "GET", "path": "orders/{{ data.id }}" },
                { "id": "msgs", "type": "list_order_messages", "order": "{{ steps.order.body.id }}",
                  "when": { "any": [{ "field": "steps.order.body.total", "gt": "5" }, { "field": "data.total", "lte": 0 }] } },
                { "forEach": "data.items", "actions": [
                    { "type": "delete_order_message", "messageId": "{{ item.id }}",
                      "when": [{ "field": "item.staff_only", "equals": true }, { "field": "item.message", "contains": "tmp", "ignoreCase": true }] },
                    { "type": "create_order_message", "order": "{{ data.id }}", "message": "{{{itemMessage}}}",
                      "when": { "field": "item", "length": { "gt": 0 } } }
                ] },
                { "type": "create_order_message", "order": "{{ data.id }}", "message": "{{ steps.msgs.body | size }}",
                  "when": { "field": "data.date_added", "after": "-30d" } }
              ] }]
            """;
        var loaded = RulesLoader.Load(rules, "rules.json", new TemplateEngine(), new ForwardOptions());
        Assert.Empty(loaded.Errors);
        var rule = loaded.RuleSet!.Rules[0];
        var runner = new RuleRunner(Options.Create(new ProcessingOptions()), new FakeTimeProvider(Now));
        var executor = new RenderingExecutor();
        var gen = Gen.Zip(RuleGenerators.Data, RuleGenerators.Value);
        var samples = gen.Sample(400, 30);
        var outcomes = new Dictionary<string, int>();
        foreach (var (data, items) in samples)
        {
            if (items is JsonArray or null) data["items"] = items?.DeepClone();
            var context = new EventContext("1764403200-abc", "order.created", "orders", 1764403200, "webhook",
                new JsonObject { ["data"] = data.DeepClone() }, false);
            // Any exception fails the test: RetryLaterException included, as nothing here is transient.
            var result = await runner.RunAsync(rule, context, executor, CancellationToken.None);
            var key = !result.Matched ? "not matched" : result.Failures.Count == 0 ? "succeeded" : "failed";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }
        output.WriteLine(string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}")) + $"; {executor.Runs} actions");
        Assert.True(outcomes.GetValueOrDefault("failed") > 0 && outcomes.GetValueOrDefault("succeeded") > 0,
            "random data should make the rule both succeed and fail");
    }
}
