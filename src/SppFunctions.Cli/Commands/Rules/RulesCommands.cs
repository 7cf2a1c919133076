using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Spectre.Console.Cli;
using Spp.Client;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Events;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Handlers;
using SppFunctions.Processing.Rules;
using SppFunctions.Processing.Templates;

namespace SppFunctions.Cli.Commands.Rules;

public sealed class RulesCheckSettings : CliSettings
{
    [CommandArgument(0, "[FILE]")]
    [Description("The rules file (default: Rules__Path, else ./rules.json, else the repository's src/SppFunctions/rules.json).")]
    public string? File { get; init; }
}

public sealed class RulesTestSettings : CliSettings
{
    [CommandOption("--event <EVENT>")]
    [Description("A webhook body file ({event, created, data}) or a sample event name (order.created, invoice.paid, ...).")]
    public string Event { get; init; } = "";

    [CommandOption("--rules <FILE>")]
    [Description("The rules file (default as for rules check).")]
    public string? Rules { get; init; }

    [CommandOption("--live")]
    [Description("Call SPP for read-only steps (GET, list_order_messages), so later steps see real outputs.")]
    public bool Live { get; init; }

    [CommandOption("--allow-writes")]
    [Description("With --live: also run the steps that change something (messages, PUT/POST/DELETE, forward).")]
    public bool AllowWrites { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Event))
        {
            return Spectre.Console.ValidationResult.Error("--event is required: a webhook body file or a sample event name such as order.created.");
        }
        return AllowWrites && !Live ? Spectre.Console.ValidationResult.Error("--allow-writes needs --live.")
            : Spectre.Console.ValidationResult.Success();
    }
}

/// <summary>Loading a rules file as the app does at start-up, with the app's rule secrets and forward hosts.</summary>
internal static class RulesFileLoader
{
    public static string Resolve(CliContext cli, CliConfiguration settings, string? file)
    {
        if (!string.IsNullOrWhiteSpace(file)) return Path.GetFullPath(file, cli.Environment.CurrentDirectory);
        if (settings["Rules__Path"] is { Length: > 0 } configured) return Path.GetFullPath(configured, cli.Environment.CurrentDirectory);
        var local = Path.Combine(cli.Environment.CurrentDirectory, RulesOptions.DefaultFileName);
        if (System.IO.File.Exists(local)) return local;
        for (var dir = new DirectoryInfo(cli.Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var shipped = Path.Combine(dir.FullName, "src", "SppFunctions", RulesOptions.DefaultFileName);
            if (System.IO.File.Exists(shipped)) return shipped;
        }
        return local;
    }

    public static RulesLoadResult Load(CliConfiguration settings, string path)
    {
        var configuration = settings.Configuration;
        var secrets = configuration.GetSection(TemplateEngine.SecretsSection).GetChildren()
            .Where(c => !string.IsNullOrEmpty(c.Value)).ToDictionary(c => c.Key, c => c.Value!, StringComparer.Ordinal);
        var forward = new ForwardOptions();
        configuration.GetSection(ForwardOptions.SectionName).Bind(forward);
        return RulesLoader.LoadFile(path, new TemplateEngine(secrets), forward);
    }
}

/// <summary><c>sppfn rules check</c>: the start-up validation of a rules file, with every error.</summary>
public sealed class RulesCheckCommand(CliContext cli) : CliCommand<RulesCheckSettings>(cli)
{
    protected override Task<int> RunAsync(RulesCheckSettings settings, CancellationToken cancellationToken)
    {
        var configuration = Cli.Settings(settings);
        var path = RulesFileLoader.Resolve(Cli, configuration, settings.File);
        var result = RulesFileLoader.Load(configuration, path);
        if (settings.Json)
        {
            Output.Json(new JsonObject
            {
                ["file"] = path,
                ["valid"] = result.Errors.Count == 0,
                ["rules"] = new JsonArray((result.RuleSet?.Rules ?? Array.Empty<Rule>()).Select(r => (JsonNode)r.Name).ToArray()),
                ["errors"] = new JsonArray(result.Errors.Select(e => (JsonNode)e).ToArray()),
            });
        }
        else if (result.Errors.Count == 0)
        {
            var rules = result.RuleSet!.Rules;
            Output.Line($"{path}: OK, {rules.Count} rule(s) enabled{(rules.Count > 0 ? ": " + string.Join(", ", rules.Select(r => r.Name)) : "")}.");
        }
        else
        {
            foreach (var error in result.Errors) Output.Line(error);
            Output.Line($"{result.Errors.Count} error(s): the app would refuse to start with this file.");
        }
        return Task.FromResult(result.Errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed);
    }
}

/// <summary>
/// <c>sppfn rules test</c>: Make's "Run once" for a rules file. Runs the rules through the app's own rule runner on
/// one event, showing which rules match, each condition with the value it read, and each step's rendered action;
/// nothing is sent to SPP unless <c>--live</c> (read-only steps) or <c>--live --allow-writes</c> (all). No records are
/// written: a live write here is not protected by the app's at-most-once bookkeeping.
/// </summary>
public sealed class RulesTestCommand(CliContext cli) : CliCommand<RulesTestSettings>(cli)
{
    protected override async Task<int> RunAsync(RulesTestSettings settings, CancellationToken cancellationToken)
    {
        var configuration = Cli.Settings(settings);
        var path = RulesFileLoader.Resolve(Cli, configuration, settings.Rules);
        var loaded = RulesFileLoader.Load(configuration, path);
        if (loaded.RuleSet is null)
        {
            throw CliException.Failed($"{path} has {loaded.Errors.Count} error(s); run 'sppfn rules check' to see them. First: {loaded.Errors[0]}");
        }
        var context = ReadEvent(settings.Event);

        ServiceProvider? spp = null;
        try
        {
            ActionExecutor? live = null;
            if (settings.Live)
            {
                spp = Cli.Spp(configuration);
                live = new ActionExecutor(spp.GetRequiredService<SppClient>(), new NoHttp(), Options.Create(new ProcessingOptions()),
                    NullLogger<ActionExecutor>.Instance);
            }
            var executor = new DryRunExecutor(live, settings.AllowWrites);
            var runner = new RuleRunner(Options.Create(new ProcessingOptions()), TimeProvider.System);
            var traces = new List<(Rule Rule, RuleTrace? Trace)>();
            foreach (var rule in loaded.RuleSet.Rules)
            {
                if (!rule.Applies(context))
                {
                    traces.Add((rule, null));
                    continue;
                }
                var trace = new RuleTrace { Rule = rule.Name };
                await runner.RunAsync(rule, context, executor, cancellationToken, trace).ConfigureAwait(false);
                traces.Add((rule, trace));
            }
            return Report(settings, path, context, traces);
        }
        finally
        {
            if (spp is not null) await spp.DisposeAsync();
        }
    }

    private int Report(RulesTestSettings settings, string path, EventContext context, List<(Rule Rule, RuleTrace? Trace)> traces)
    {
        var failed = traces.Any(t => t.Trace?.Failures.Count > 0);
        if (settings.Json)
        {
            Output.Json(new JsonObject
            {
                ["rules"] = path,
                ["event"] = new JsonObject { ["id"] = context.Id, ["event"] = context.Name, ["created"] = context.Created },
                ["live"] = settings.Live,
                ["results"] = new JsonArray(traces.Select(t => (JsonNode)RuleJson(t.Rule, t.Trace)).ToArray()),
            });
            return failed ? ExitCodes.Failed : ExitCodes.Ok;
        }

        Output.Line($"Event {context.Name} ({context.Id}) through {path}{(settings.Live ? settings.AllowWrites ? ", live with writes"
            : ", live (read-only steps)" : ", dry run")}:");
        foreach (var (rule, trace) in traces)
        {
            Output.Line("");
            if (trace is null)
            {
                Output.Line($"Rule '{rule.Name}': not matched (on {string.Join(", ", rule.On.Select(p => p.Text))}{(context.IsOwnMessage
                    ? ", or the app's own message" : "")}).");
                continue;
            }
            Output.Line($"Rule '{rule.Name}': {(trace.Matched ? trace.Failures.Count > 0 ? "matched, FAILED" : "matched" : "conditions not met")}");
            foreach (var c in trace.Conditions) Output.Line($"  when {Condition(c)}");
            foreach (var step in trace.Steps)
            {
                var where = step.Item is null ? step.Field : $"{step.Field} [item {step.Item}]";
                var head = $"  {where} {step.Type}{(step.Id is null ? "" : $" (id {step.Id})")}";
                if (step.Skipped)
                {
                    Output.Line($"{head}: skipped");
                }
                else if (step.Action is { } action)
                {
                    Output.Line($"{head}: {action.Describe()} — {step.Note}{(step.Error is null ? "" : $": {step.Error}")}");
                    Output.Line($"      {ActionJson(action).ToJsonString()}");
                    if (step.Output is not null) Output.Line($"      output: {Values.Compact(step.Output)}");
                }
                else
                {
                    Output.Line($"{head}: {step.Note}{(step.Error is null ? "" : $": {step.Error}")}");
                }
                foreach (var c in step.Conditions) Output.Line($"      when {Condition(c)}");
            }
            foreach (var failure in trace.Failures) Output.Line($"  FAILED: {failure}");
        }
        var matched = traces.Count(t => t.Trace?.Matched == true);
        var actions = traces.Sum(t => t.Trace?.Steps.Count(s => s.Action is not null) ?? 0);
        Output.Line("");
        Output.Line($"{traces.Count} rule(s), {matched} matched, {actions} action(s) rendered, {traces.Count(t
            => t.Trace?.Failures.Count > 0)} failed.");
        return failed ? ExitCodes.Failed : ExitCodes.Ok;
    }

    private static string Condition(ConditionResult c) => $"{c.Condition}: {(c.Value ?? "(absent)")} → {(c.Met ? "yes" : "no")}";

    private static JsonObject RuleJson(Rule rule, RuleTrace? trace) => new()
    {
        ["name"] = rule.Name,
        ["matched"] = trace?.Matched ?? false,
        ["reason"] = trace is null ? "on" : trace.Matched ? null : "when",
        ["conditions"] = ConditionsJson(trace?.Conditions),
        ["steps"] = new JsonArray((trace?.Steps ?? new()).Select(s => (JsonNode)new JsonObject
        {
            ["key"] = s.Key, ["field"] = s.Field, ["type"] = s.Type, ["id"] = s.Id, ["item"] = s.Item, ["skipped"] = s.Skipped,
            ["conditions"] = ConditionsJson(s.Conditions),
            ["action"] = s.Action is null ? null : ActionJson(s.Action),
            ["note"] = s.Note, ["status"] = s.Status, ["error"] = s.Error, ["output"] = s.Output?.DeepClone(),
        }).ToArray()),
        ["failures"] = new JsonArray((trace?.Failures ?? new()).Select(f => (JsonNode)f).ToArray()),
    };

    private static JsonArray ConditionsJson(List<ConditionResult>? conditions) => new((conditions ?? new()).Select(c => (JsonNode)new JsonObject
    {
        ["condition"] = c.Condition, ["value"] = c.Value is null ? null : JsonNode.Parse(c.Value.EndsWith('…')
            ? JsonSerializer.Serialize(c.Value) : c.Value), ["met"] = c.Met,
    }).ToArray());

    /// <summary>What would be sent, as JSON.</summary>
    internal static JsonObject ActionJson(PlannedAction action) => action switch
    {
        CreateOrderMessageAction a => new() { ["type"] = a.Type, ["order"] = a.Order, ["message"] = a.Message, ["userId"] = a.UserId,
            ["staffOnly"] = a.StaffOnly },
        DeleteOrderMessageAction a => new() { ["type"] = a.Type, ["messageId"] = a.MessageId },
        ListOrderMessagesAction a => new() { ["type"] = a.Type, ["order"] = a.Order, ["limit"] = a.Limit },
        ApiCallAction a => new()
        {
            ["type"] = a.Type, ["method"] = a.Method.Method, ["path"] = a.Path,
            ["query"] = new JsonArray(a.Query.Select(q => (JsonNode)new JsonArray(q.Key, q.Value)).ToArray()),
            ["headers"] = new JsonObject(a.Headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)h.Value))), ["body"] = a.Body?.DeepClone(),
        },
        // A forward URL is usually a secret (a Slack webhook): show its host only.
        ForwardAction a => new() { ["type"] = a.Type, ["host"] = a.Url.Host, ["body"] = a.Body.DeepClone() },
        _ => new() { ["type"] = action.Type, ["description"] = action.Describe() },
    };

    private EventContext ReadEvent(string value)
    {
        JsonObject envelope;
        var file = Path.GetFullPath(value, Cli.Environment.CurrentDirectory);
        if (File.Exists(file))
        {
            try
            {
                envelope = JsonNode.Parse(File.ReadAllText(file),
                    documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }) as JsonObject
                    ?? throw CliException.Usage($"{value} must hold a JSON object: a webhook body {{event, created, data}}.");
            }
            catch (JsonException ex)
            {
                throw CliException.Usage($"{value} is not JSON: {ex.Message}");
            }
        }
        else if (value.Contains('.', StringComparison.Ordinal) && !value.Contains('/', StringComparison.Ordinal)
            && !value.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            envelope = SampleWebhooks.Envelope(value, token: null);
        }
        else
        {
            throw CliException.Usage($"--event {value}: no such file, and not an event name (e.g. {string.Join(", ",
                SampleWebhooks.EventNames.Take(3))}).");
        }
        envelope.Remove("token");
        var name = envelope["event"] is JsonValue e && e.TryGetValue<string>(out var n) ? n
            : throw CliException.Usage("The event has no \"event\" name.");
        var created = envelope["created"] is JsonValue c && c.TryGetValue<long>(out var t) ? t : SampleWebhooks.Created;
        var id = EventIds.Create(name, envelope["data"]?["id"]?.ToString(), created, envelope.ToJsonString());
        return new EventContext(id, name, SppEventTopics.Classify(name), created, "cli", envelope, isOwnMessage: false);
    }

    /// <summary>Forward actions never run from the CLI: a live forward would post to a third party.</summary>
    private sealed class NoHttp : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new ActionFailedException("forward is not sent by rules test.",
            ActionFailureKind.Permanent);
    }
}

/// <summary>
/// The dry run's executor: renders each action and notes it; with a live SPP client it also runs read-only actions
/// (and, when allowed, writes) directly, without records, so later steps see real outputs.
/// </summary>
internal sealed class DryRunExecutor(ActionExecutor? live, bool allowWrites) : IStepExecutor
{
    public async Task<ActionOutcome> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        PlannedAction action;
        try
        {
            action = run.Plan();
        }
        catch (ActionFailedException ex)
        {
            if (run.Trace is not null) run.Trace.Note = "not rendered";
            return new ActionOutcome(run.Key, ActionStatus.Failed, null, ex.Message, false);
        }
        if (run.Trace is not null) run.Trace.Action = action;
        var readOnly = action is ListOrderMessagesAction || action is ApiCallAction { Method.Method: "GET" };
        if (live is null || !(readOnly || allowWrites) || action is ForwardAction)
        {
            if (run.Trace is not null)
            {
                run.Trace.Note = live is null ? "not sent (dry run)" : action is ForwardAction ? "not sent (forward never runs here)"
                    : "not sent (a write: add --allow-writes)";
            }
            return new ActionOutcome(run.Key, ActionStatus.Succeeded, null, null, false) { Output = new JsonObject() };
        }
        try
        {
            var result = await live.ExecuteAsync(action with { KeepOutput = true }, new ActionRun("sppfn-rules-test", run.Key,
                IsRetry: false), cancellationToken).ConfigureAwait(false);
            if (run.Trace is not null)
            {
                run.Trace.Note = "sent";
                run.Trace.Output = result.Output;
            }
            return new ActionOutcome(run.Key, ActionStatus.Succeeded, result.Result, null, false) { Output = result.Output };
        }
        catch (ActionFailedException ex)
        {
            if (run.Trace is not null) run.Trace.Note = "sent";
            return new ActionOutcome(run.Key, ActionStatus.Failed, null, ex.Message, false);
        }
    }
}
