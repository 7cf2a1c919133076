using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Handlers;

namespace SppFunctions.Processing.Rules;

/// <summary>One action of a rule, ready to run: its record key, the step, and how to render it.</summary>
/// <param name="Key">The action's key within the event: <c>{rule}.{index}</c>, or <c>{rule}.{index}.{item}.{index}</c> in a forEach.</param>
/// <param name="Trace">Set in a dry run: where the executor notes what it would send.</param>
public sealed record StepRun(string Key, ActionTemplate Step, Func<PlannedAction> Plan, StepTrace? Trace);

/// <summary>Runs a rule's actions: for events, at most once each with records (<see cref="RecordedStepExecutor"/>); in the CLI's dry run,
/// without effect.</summary>
public interface IStepExecutor
{
    /// <exception cref="RetryLaterException">A transient failure: the event is to be retried.</exception>
    Task<ActionOutcome> RunAsync(StepRun run, CancellationToken cancellationToken);
}

/// <summary>
/// The production executor: each action through <see cref="IdempotentActionRunner"/> under the event's records (with
/// the delivery's pending writes, on a first delivery).
/// </summary>
public sealed class RecordedStepExecutor(IdempotentActionRunner runner, string scope, int generation, bool likelyNew,
    EventWriteBatch? batch = null) : IStepExecutor
{
    public Task<ActionOutcome> RunAsync(StepRun run, CancellationToken cancellationToken) =>
        runner.RunAsync(scope, run.Key, generation, run.Plan, cancellationToken, likelyNew, batch);
}

/// <summary>What a rule did with an event.</summary>
/// <param name="Matched">The rule's conditions held.</param>
/// <param name="Failures">One line per failure (a failure ends the rule).</param>
/// <param name="Actions">Actions run or found done.</param>
public sealed record RuleRunResult(bool Matched, IReadOnlyList<string> Failures, int Actions);

/// <summary>A record of one rule's run for the CLI's dry run: its conditions and each step.</summary>
public sealed class RuleTrace
{
    public required string Rule { get; init; }
    public List<ConditionResult> Conditions { get; } = new();
    public bool Matched { get; set; }
    public List<StepTrace> Steps { get; } = new();
    public List<string> Failures { get; } = new();
}

/// <summary>One step in a dry run: conditions, whether it ran, the action it rendered, and its (simulated or live) outcome.</summary>
public sealed class StepTrace
{
    public required string Key { get; init; }
    public required string Field { get; init; }
    public required string Type { get; init; }
    public string? Id { get; init; }
    /// <summary>The item's key inside a forEach.</summary>
    public string? Item { get; init; }
    public List<ConditionResult> Conditions { get; } = new();
    public bool Skipped { get; set; }
    public PlannedAction? Action { get; set; }
    /// <summary>What the dry run did: "simulated", "sent" (live), or why not.</summary>
    public string? Note { get; set; }
    public string? Status { get; set; }
    public string? Error { get; set; }
    public JsonObject? Output { get; set; }
}

/// <summary>
/// Runs one rule over one event: its conditions, then its steps in order, each step's own <c>when</c>, the outputs of
/// steps with an id (<c>steps.&lt;id&gt;</c>, read back from the records on a redelivery), and forEach lists with
/// <c>item</c>. A failed step ends its rule. Nothing in the event's data can make it throw: conditions decide,
/// templates fail their action for good; only a transient failure (<see cref="RetryLaterException"/>) escapes.
/// </summary>
public sealed partial class RuleRunner(IOptions<ProcessingOptions> options, TimeProvider time)
{
    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    private static partial Regex ItemIdShape();

    /// <summary>Stands in for the condition results of a step when there is no trace (never written to).</summary>
    private static readonly List<ConditionResult> NoConditions = new();

    public async Task<RuleRunResult> RunAsync(Rule rule, EventContext context, IStepExecutor executor, CancellationToken cancellationToken,
        RuleTrace? trace = null)
    {
        var scope = context.Scope;
        if (rule.UsesSteps)
        {
            scope = (JsonObject)context.Scope.DeepClone();
            scope["steps"] = new JsonObject();
        }
        var now = time.GetUtcNow();
        var matched = rule.When.Count == 0 || Condition.AllMet(rule.When, new ConditionContext(scope, now, trace?.Conditions));
        if (trace is not null) trace.Matched = matched;
        if (!matched) return new RuleRunResult(false, Array.Empty<string>(), 0);

        var failures = new List<string>();
        var count = 0;
        foreach (var step in rule.Actions)
        {
            // Condition results are collected only for a dry run's trace.
            var conditions = trace is null ? NoConditions : new List<ConditionResult>();
            if (step.When.Count > 0 && !Condition.AllMet(step.When, new ConditionContext(scope, now, trace is null ? null : conditions)))
            {
                trace?.Steps.Add(new StepTrace { Key = $"{rule.Name}.{step.Index}", Field = step.Field, Type = step.Type, Id = step.Id,
                    Skipped = true }.With(conditions));
                continue;
            }
            string? failure;
            if (step is ActionTemplate action)
            {
                count++;
                failure = await RunActionAsync(rule, action, $"{rule.Name}.{action.Index}", null, scope, executor, conditions, trace,
                    cancellationToken).ConfigureAwait(false);
                failure = failure is null ? null : $"rule '{rule.Name}' action {action.Index} ({action.Type}): {failure}";
            }
            else
            {
                var each = (ForEachStep)step;
                (failure, var ran) = await RunForEachAsync(rule, each, scope, executor, now, conditions, trace,
                    cancellationToken).ConfigureAwait(false);
                count += ran;
            }
            if (failure is not null)
            {
                failures.Add(failure);
                trace?.Failures.Add(failure);
                break;
            }
        }
        return new RuleRunResult(true, failures, count);
    }

    /// <summary>Runs one action; returns why it failed, or null.</summary>
    private static async Task<string?> RunActionAsync(Rule rule, ActionTemplate action, string key, string? item, JsonObject scope,
        IStepExecutor executor,
        List<ConditionResult> conditions, RuleTrace? trace, CancellationToken cancellationToken)
    {
        var stepTrace = trace is null ? null : new StepTrace { Key = key, Field = action.Field, Type = action.Type, Id = action.Id,
            Item = item }.With(conditions);
        if (stepTrace is not null) trace!.Steps.Add(stepTrace);
        var outcome = await executor.RunAsync(new StepRun(key, action, () => action.Resolve(scope), stepTrace),
            cancellationToken).ConfigureAwait(false);
        if (stepTrace is not null)
        {
            stepTrace.Status = outcome.Status;
            stepTrace.Error = outcome.Error ?? outcome.OutputError;
        }
        if (outcome.Failed) return outcome.Error;
        if (action.Id is null) return null;
        if (outcome.OutputError is { } outputError)
        {
            return $"step '{action.Id}' succeeded, but {outputError} Later steps cannot read steps.{action.Id}.";
        }
        // Re-read from its JSON: a fresh output reads exactly as one read back from its record on a redelivery.
        ((JsonObject)scope["steps"]!)[action.Id] = outcome.Output is null ? new JsonObject() : JsonNode.Parse(outcome.Output.ToJsonString());
        return null;
    }

    private async Task<(string? Failure, int Ran)> RunForEachAsync(Rule rule, ForEachStep each, JsonObject scope, IStepExecutor executor,
        DateTimeOffset now,
        List<ConditionResult> conditions, RuleTrace? trace, CancellationToken cancellationToken)
    {
        var where = $"rule '{rule.Name}' action {each.Index} (forEach {each.ItemsPath})";
        var list = Values.Resolve(scope, each.ItemsPath);
        if (trace is not null) trace.Steps.Add(new StepTrace { Key = $"{rule.Name}.{each.Index}", Field = each.Field, Type = each.Type,
            Note = list is JsonArray a ? $"{a.Count} item(s)" : null }.With(conditions));
        if (list is not JsonArray items)
        {
            return ($"{where}: {(list is null ? "the event has no value there"
                : "the value there is not a list")}; add a when with exists to skip it.", 0);
        }
        var max = options.Value.MaxForEachItems;
        if (items.Count > max)
        {
            return ($"{where}: the list has {items.Count} items, more than Processing__MaxForEachItems ({max}); none of them ran.", 0);
        }

        var steps = (JsonObject)scope["steps"]!;
        var ran = 0;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            for (var i = 0; i < items.Count; i++)
            {
                var itemKey = ItemKey(items[i], i);
                // Two items with one id would share records: the second would be taken as done. Key it by position.
                if (!keys.Add(itemKey)) itemKey = $"i{i}";
                keys.Add(itemKey);
                scope["item"] = items[i]?.DeepClone();
                foreach (var nested in each.Steps) if (nested.Id is not null) steps.Remove(nested.Id);
                foreach (var nested in each.Steps)
                {
                    var nestedConditions = trace is null ? NoConditions : new List<ConditionResult>();
                    var key = $"{rule.Name}.{each.Index}.{itemKey}.{nested.Index}";
                    if (nested.When.Count > 0 && !Condition.AllMet(nested.When, new ConditionContext(scope, now, trace is null ? null
                        : nestedConditions)))
                    {
                        trace?.Steps.Add(new StepTrace { Key = key, Field = nested.Field, Type = nested.Type, Id = nested.Id,
                            Item = itemKey, Skipped = true }.With(nestedConditions));
                        continue;
                    }
                    ran++;
                    var failure = await RunActionAsync(rule, nested, key, itemKey, scope, executor, nestedConditions, trace,
                        cancellationToken).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        return ($"rule '{rule.Name}' action {each.Index} item {itemKey} action {nested.Index} ({nested.Type}): {failure}", ran);
                    }
                }
            }
        }
        finally
        {
            scope.Remove("item");
            foreach (var nested in each.Steps) if (nested.Id is not null) steps.Remove(nested.Id);
        }
        return (null, ran);
    }

    /// <summary>An item's key in its records: <c>id-{id}</c> when it has a plain id, else its position (<c>i{n}</c>).</summary>
    internal static string ItemKey(JsonNode? item, int index) =>
        item is JsonObject o && Values.Text(o["id"]) is { } id && ItemIdShape().IsMatch(id) ? $"id-{id}" : $"i{index}";
}

internal static class StepTraceExtensions
{
    public static StepTrace With(this StepTrace trace, List<ConditionResult> conditions)
    {
        trace.Conditions.AddRange(conditions);
        return trace;
    }
}
