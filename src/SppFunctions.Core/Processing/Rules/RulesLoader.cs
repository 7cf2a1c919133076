using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spp.Client;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Model;
using SppFunctions.Processing.Templates;

namespace SppFunctions.Processing.Rules;

/// <summary>The outcome of loading a rules file: the rules, or every error found (each naming the rule and field).</summary>
public sealed record RulesLoadResult(RuleSet? RuleSet, IReadOnlyList<string> Errors);

/// <summary>
/// Reads and validates a rules file: a JSON array (comments and trailing commas allowed) of
/// <c>{name, on, when?, includeOwnMessages?, enabled?, description?, actions}</c> (or <c>{"$schema", "rules": [...]}</c>).
/// Actions are read with the typed model of <see cref="ActionDefinition"/>. Unknown fields are errors, so a typo never
/// silently disables part of a rule.
/// </summary>
public static partial class RulesLoader
{
    private static readonly JsonDocumentOptions Json = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly Uri CheckRoot = new("https://workspace.invalid/api/");

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,64}\z")]
    private static partial Regex NameShape();

    [GeneratedRegex(@"^[A-Za-z0-9_.*\-]{1,100}\z")]
    private static partial Regex PatternShape();

    public static RulesLoadResult LoadFile(string path, TemplateEngine engine, ForwardOptions forward)
    {
        if (!File.Exists(path))
        {
            return new RulesLoadResult(null, new[]
            {
                $"Rules file {path} does not exist (set Rules__Path, or ship rules.json beside host.json; [] means no rules).",
            });
        }
        return Load(File.ReadAllText(path), path, engine, forward);
    }

    public static RulesLoadResult Load(string json, string source, TemplateEngine engine, ForwardOptions forward)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: Json);
        }
        catch (JsonException ex)
        {
            return new RulesLoadResult(null, new[] { $"{source}: not valid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}." });
        }
        // A file is a list of rules, or {"$schema": ..., "rules": [...]} so editors find the schema.
        var array = root as JsonArray;
        if (root is JsonObject wrapper)
        {
            var extra = wrapper.Select(p => p.Key).Where(k => k is not ("$schema" or "rules")).ToList();
            array = wrapper["rules"] as JsonArray;
            if (array is null || extra.Count > 0)
            {
                return new RulesLoadResult(null,
                    new[] { $"{source}: the file must be a JSON array of rules ([] for none), or an object {{\"$schema\": ..., \"rules\": [...]}}" +
                    (extra.Count > 0 ? $"; {string.Join(", ", extra)} is not a known field." : "; rules is missing or not a list.") });
            }
        }
        if (array is null)
        {
            return new RulesLoadResult(null,
                new[] { $"{source}: the file must be a JSON array of rules ([] for none), or an object {{\"$schema\": ..., \"rules\": [...]}}." });
        }

        var errors = new List<string>();
        var rules = new List<Rule>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < array.Count; i++)
        {
            var ruleErrors = new Errors($"{source}: rules[{i}]");
            var rule = ReadRule(array[i], ruleErrors, engine, forward, names);
            errors.AddRange(ruleErrors.List);
            if (rule is not null && ruleErrors.List.Count == 0) rules.Add(rule);
        }
        return new RulesLoadResult(errors.Count == 0 ? new RuleSet(rules.Where(r => r is not null).ToList(), source) : null, errors);
    }

    private sealed class Errors(string prefix)
    {
        public string Prefix { get; set; } = prefix;
        public List<string> List { get; } = new();
        public void Add(string field, string problem) => List.Add($"{Prefix}: {field}: {problem}");
    }

    private static Rule? ReadRule(JsonNode? node, Errors errors, TemplateEngine engine, ForwardOptions forward, HashSet<string> names)
    {
        if (node is not JsonObject obj)
        {
            errors.Add("rule", "must be an object {name, on, actions}.");
            return null;
        }
        var name = obj["name"] is JsonValue nv && nv.TryGetValue<string>(out var n) ? n : null;
        if (name is not null) errors.Prefix += $" '{name}'";
        Unknown(obj, errors, "", "name", "on", "when", "actions", "includeOwnMessages", "enabled", "description");
        if (name is null) errors.Add("name", "is required (a string).");
        else if (!NameShape().IsMatch(name)) errors.Add("name", "must be 1-64 letters, digits, '_', '-' or '.'.");
        else if (!names.Add(name)) errors.Add("name", $"'{name}' is used by another rule; names must be unique.");

        var on = new List<EventPattern>();
        var onNode = obj["on"];
        var onTexts = onNode switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => new List<string?> { s },
            JsonArray a => a.Select(x => x is JsonValue xv && xv.TryGetValue<string>(out var s) ? s : null).ToList(),
            _ => null,
        };
        if (onTexts is null || onTexts.Count == 0) errors.Add("on", "is required: an event-name pattern or a list of them, e.g. \"order.*\".");
        else
        {
            for (var i = 0; i < onTexts.Count; i++)
            {
                if (onTexts[i] is { } p && PatternShape().IsMatch(p)) on.Add(new EventPattern(p));
                else errors.Add(onNode is JsonArray ? $"on[{i}]" : "on", "must be an event-name pattern such as order.created, order.* or *.");
            }
        }

        var when = ConditionParser.ReadWhen(obj["when"], "when", ScopeShape.Event, errors.Add);

        var includeOwn = ReadBool(obj, "includeOwnMessages", errors) ?? false;
        var enabled = ReadBool(obj, "enabled", errors) ?? true;

        var actions = new List<RuleStep>();
        if (obj["actions"] is not JsonArray actionArray || actionArray.Count == 0)
        {
            errors.Add("actions", "is required: a non-empty list of actions.");
        }
        else
        {
            var steps = new List<string>();
            for (var i = 0; i < actionArray.Count; i++)
            {
                if (ReadStep(actionArray[i], i, $"actions[{i}]", errors, engine, forward, steps, inForEach: false) is { } step) actions.Add(step);
            }
        }

        if (!enabled || name is null) return null;
        return new Rule { Name = name, On = on, When = when, Actions = actions, IncludeOwnMessages = includeOwn };
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,63}\z")]
    private static partial Regex StepIdShape();

    private const string TypeHint = "create_order_message, delete_order_message, list_order_messages, api_call, forward or forEach";

    /// <summary>
    /// Reads one step. <paramref name="steps"/> holds the ids of the rule's steps so far: conditions and templates may
    /// read those (and only those) as <c>steps.&lt;id&gt;</c>; a step with an id adds it.
    /// </summary>
    private static RuleStep? ReadStep(JsonNode? node, int index, string field, Errors errors, TemplateEngine engine,
        ForwardOptions forward, List<string> steps, bool inForEach)
    {
        if (node is not JsonObject a)
        {
            errors.Add(field, "must be an object with a type.");
            return null;
        }
        var before = errors.List.Count;
        var actionErrors = new ActionErrors((f, p) => errors.Add($"{field}.{f}", p)) { Templates = true };
        var definition = ActionDefinition.Read(a, ActionDefinition.RuleTypes, actionErrors, TypeHint);
        if (definition is null) return null;

        var shape = new ScopeShape(steps.ToArray(), inForEach);
        var when = ConditionParser.ReadWhen(definition.When, $"{field}.when", shape, errors.Add);
        var id = definition.Id;
        if (id is not null)
        {
            if (!StepIdShape().IsMatch(id)) errors.Add($"{field}.id",
                "must be 1-64 letters, digits or '_', starting with a letter or '_' (it is read as steps.<id>).");
            else if (steps.Contains(id)) errors.Add($"{field}.id",
                $"'{id}' is used by another step of this rule; step ids must be unique in a rule.");
        }

        RuleStep? step = definition switch
        {
            ForEachDefinition each => ReadForEach(each, index, field, errors, engine, forward, steps, inForEach, shape, when),
            _ => CompileAction(definition, index, field, errors, engine, forward, shape, when),
        };
        if (id is not null && StepIdShape().IsMatch(id) && !steps.Contains(id)) steps.Add(id);
        return errors.List.Count > before ? null : step;
    }

    private static ForEachStep? ReadForEach(ForEachDefinition each, int index, string field, Errors errors, TemplateEngine engine,
        ForwardOptions forward,
        List<string> steps, bool inForEach, ScopeShape shape, List<Condition> when)
    {
        if (inForEach)
        {
            errors.Add(field, "a forEach cannot be nested in another forEach.");
            return null;
        }
        if (each.Id is not null) errors.Add($"{field}.id", "a forEach has no output of its own: give ids to its actions instead.");
        var path = each.ItemsPath;
        if (path is not null)
        {
            // The list is read like a condition's field: it must exist at this place in the rule.
            ConditionParser.Read(new JsonObject { ["field"] = path, ["exists"] = true }, $"{field}.forEach", shape, (f, p)
                => errors.Add($"{field}.forEach", p));
        }
        var nested = new List<ActionTemplate>();
        // The ids of an item's steps are visible to the item's later steps only.
        var inner = new List<string>(steps);
        for (var i = 0; i < (each.Actions?.Count ?? 0); i++)
        {
            var step = ReadStep(each.Actions![i], i, $"{field}.actions[{i}]", errors, engine, forward, inner, inForEach: true);
            if (step is ActionTemplate action) nested.Add(action);
        }
        return path is null ? null : new ForEachStep { Index = index, Field = field, Id = null, When = when, ItemsPath = path, Steps = nested };
    }

    private static ActionTemplate? CompileAction(ActionDefinition definition, int index, string field, Errors errors,
        TemplateEngine engine, ForwardOptions forward,
        ScopeShape shape, List<Condition> when)
    {
        var before = errors.List.Count;
        ActionTemplate? Done(ActionTemplate template) => errors.List.Count > before ? null : template;
        CompiledTemplate? T(string key, string? text, bool allowNumber = false) => Compile(text, $"{field}.{key}", errors, engine, shape);
        CompiledTemplate? N(string key, JsonNode? node) => node is null ? null : Compile(ActionDefinition.Scalar(node), $"{field}.{key}",
            errors, engine, shape);

        switch (definition)
        {
            case CreateOrderMessageDefinition d:
            {
                var order = N("order", d.Order);
                var message = T("message", d.Message);
                var userId = N("userId", d.UserId);
                var staffOnly = N("staffOnly", d.StaffOnly);
                if (order is null || message is null) return null;
                return Done(new CreateOrderMessageTemplate { Index = index, Field = field, Id = d.Id, When = when, Order = order,
                    Message = message, UserId = userId, StaffOnly = staffOnly });
            }
            case DeleteOrderMessageDefinition d:
            {
                var id = N("messageId", d.MessageId);
                return id is null ? null : Done(new DeleteOrderMessageTemplate { Index = index, Field = field, Id = d.Id, When = when,
                    MessageId = id });
            }
            case ListOrderMessagesDefinition d:
            {
                var order = N("order", d.Order);
                var limit = N("limit", d.Limit);
                return order is null ? null : Done(new ListOrderMessagesTemplate { Index = index, Field = field, Id = d.Id, When = when,
                    Order = order, Limit = limit });
            }
            case ApiCallDefinition d:
            {
                var path = T("path", d.Path);
                if (path is { IsLiteral: true })
                {
                    try { SppPathGuard.Resolve(CheckRoot, path.Source); }
                    catch (ArgumentException ex) { errors.Add($"{field}.path", ex.Message); }
                }
                var query = Map(d.Query, "query", field, errors, engine, shape);
                var headers = Map(d.Headers, "headers", field, errors, engine, shape);
                foreach (var h in headers.Where(h => h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase)
                    || h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)))
                {
                    errors.Add($"{field}.headers.{h.Key}", "is set by the SPP client and cannot be overridden.");
                }
                var body = Body(d.Body, field, errors, engine, shape);
                if (path is null || d.Method is null) return null;
                return Done(new ApiCallTemplate { Index = index, Field = field, Id = d.Id, When = when,
                    Method = new HttpMethod(d.Method.ToUpperInvariant()), Path = path, Query = query, Headers = headers, Body = body });
            }
            case ForwardDefinition d:
            {
                var url = T("url", d.Url);
                if (url is { IsLiteral: true })
                {
                    if (!Uri.TryCreate(url.Source, UriKind.Absolute, out var uri)) errors.Add($"{field}.url", "must be an absolute https URL.");
                    else if (forward.Refusal(uri) is { } why) errors.Add($"{field}.url", $"is refused: {why}.");
                }
                var headers = Map(d.Headers, "headers", field, errors, engine, shape);
                var body = Body(d.Body, field, errors, engine, shape);
                return url is null ? null : Done(new ForwardTemplate { Index = index, Field = field, Id = d.Id, When = when, Url = url,
                    Body = body, Headers = headers, Options = forward });
            }
            default:
                errors.Add($"{field}.type", $"'{definition.Kind}' is not an action type ({TypeHint}).");
                return null;
        }
    }

    /// <summary>Parses a template and checks the <c>steps.</c> and <c>item.</c> values it reads exist at its place in the rule.</summary>
    private static CompiledTemplate? Compile(string? text, string field, Errors errors, TemplateEngine engine, ScopeShape shape)
    {
        if (text is null) return null;
        if (!engine.TryParse(text, out var template, out var error))
        {
            errors.Add(field, $"template error: {error}");
            return null;
        }
        CheckReferences(text, field, errors, shape);
        return template;
    }

    [GeneratedRegex(@"\b(steps\.([A-Za-z0-9_]+)|item)\b(?![A-Za-z0-9_(])")]
    private static partial Regex ScopeReference();

    [GeneratedRegex(@"\{\{.*?\}\}|\{%.*?%\}", RegexOptions.Singleline)]
    private static partial Regex LiquidTag();

    [GeneratedRegex(@"\{%-?\s*(for|assign|capture)\s+item\b")]
    private static partial Regex DeclaresItem();

    private static void CheckReferences(string text, string field, Errors errors, ScopeShape shape)
    {
        // A template may name its own variable item ({% for item in data.items %}): then item is not the forEach's.
        if (!shape.HasItem && DeclaresItem().IsMatch(text)) shape = shape with { HasItem = true };
        foreach (Match tag in LiquidTag().Matches(text))
        {
            foreach (Match m in ScopeReference().Matches(tag.Value))
            {
                if (m.Groups[2].Success && !shape.Steps.Contains(m.Groups[2].Value))
                {
                    errors.Add(field, $"reads steps.{m.Groups[2].Value}, but no earlier step of this rule has the id '{m.Groups[2].Value}'.");
                }
                else if (!m.Groups[2].Success && !shape.HasItem && IsItemReference(tag.Value, m.Index))
                {
                    errors.Add(field, "reads item, which exists only inside a forEach.");
                }
            }
        }
    }

    /// <summary>True when <c>item</c> at <paramref name="at"/> is a variable (not part of a longer name like data.item).</summary>
    private static bool IsItemReference(string text, int at) => at == 0 || text[at - 1] is not ('.' or '_' or '-' or '\'' or '"')
        && !char.IsLetterOrDigit(text[at - 1]);

    private static List<KeyValuePair<string, CompiledTemplate>> Map(Dictionary<string, JsonNode?>? map, string key, string field,
        Errors errors, TemplateEngine engine, ScopeShape shape)
    {
        var result = new List<KeyValuePair<string, CompiledTemplate>>();
        foreach (var (k, v) in map ?? new())
        {
            if (ActionDefinition.Scalar(v) is not { } text) continue; // reported by the model's checks
            if (Compile(text, $"{field}.{key}.{k}", errors, engine, shape) is { } template) result.Add(KeyValuePair.Create(k, template));
        }
        return result;
    }

    private static JsonTemplate? Body(JsonNode? body, string field, Errors errors, TemplateEngine engine, ScopeShape shape)
    {
        if (body is null) return null;
        var template = JsonTemplate.Compile(body, engine, out var error);
        if (error is not null) errors.Add($"{field}.body", $"template error at {error}");
        else CheckReferences(body.ToJsonString(), $"{field}.body", errors, shape);
        return template;
    }

    private static bool? ReadBool(JsonObject obj, string key, Errors errors)
    {
        if (obj[key] is null) return null;
        if (obj[key] is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        errors.Add(key, "must be true or false.");
        return null;
    }

    private static void Unknown(JsonObject obj, Errors errors, string prefix, params string[] known)
    {
        foreach (var key in obj.Select(p => p.Key).Where(k => !known.Contains(k)))
        {
            errors.Add(prefix + key, $"is not a known field (expected {string.Join(", ", known)}).");
        }
    }
}
