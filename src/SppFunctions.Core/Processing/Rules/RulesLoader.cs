using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spp.Client;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Templates;

namespace SppFunctions.Processing.Rules;

/// <summary>The outcome of loading a rules file: the rules, or every error found (each naming the rule and field).</summary>
public sealed record RulesLoadResult(RuleSet? RuleSet, IReadOnlyList<string> Errors);

/// <summary>
/// Reads and validates a rules file: a JSON array (comments and trailing commas allowed) of
/// <c>{name, on, when?, includeOwnMessages?, enabled?, description?, actions}</c>. Unknown fields are errors, so a
/// typo never silently disables part of a rule.
/// </summary>
public static partial class RulesLoader
{
    private static readonly JsonDocumentOptions Json = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly Uri CheckRoot = new("https://workspace.invalid/api/");
    private static readonly string[] Methods = { "GET", "POST", "PUT", "PATCH", "DELETE" };

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,64}\z")]
    private static partial Regex NameShape();

    [GeneratedRegex(@"^[A-Za-z0-9_.*\-]{1,100}\z")]
    private static partial Regex PatternShape();

    public static RulesLoadResult LoadFile(string path, TemplateEngine engine, ForwardOptions forward)
    {
        if (!File.Exists(path))
        {
            return new RulesLoadResult(null, new[] { $"Rules file {path} does not exist (set Rules__Path, or ship rules.json beside host.json; [] means no rules)." });
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
        if (root is not JsonArray array)
        {
            return new RulesLoadResult(null, new[] { $"{source}: the file must be a JSON array of rules ([] for none)." });
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

        var when = new List<Condition>();
        switch (obj["when"])
        {
            case null: break;
            case JsonArray conditions:
                for (var i = 0; i < conditions.Count; i++) if (ReadCondition(conditions[i], $"when[{i}]", errors) is { } c) when.Add(c);
                break;
            case JsonObject single:
                if (ReadCondition(single, "when", errors) is { } one) when.Add(one);
                break;
            default:
                errors.Add("when", "must be a condition or a list of conditions.");
                break;
        }

        var includeOwn = ReadBool(obj, "includeOwnMessages", errors) ?? false;
        var enabled = ReadBool(obj, "enabled", errors) ?? true;

        var actions = new List<ActionTemplate>();
        if (obj["actions"] is not JsonArray actionArray || actionArray.Count == 0)
        {
            errors.Add("actions", "is required: a non-empty list of actions.");
        }
        else
        {
            for (var i = 0; i < actionArray.Count; i++)
            {
                if (ReadAction(actionArray[i], i, $"actions[{i}]", errors, engine, forward) is { } action) actions.Add(action);
            }
        }

        if (!enabled || name is null) return null;
        return new Rule { Name = name, On = on, When = when, Actions = actions, IncludeOwnMessages = includeOwn };
    }

    private static Condition? ReadCondition(JsonNode? node, string field, Errors errors)
    {
        if (node is not JsonObject c)
        {
            errors.Add(field, "must be an object {field, equals | oneOf | exists}.");
            return null;
        }
        Unknown(c, errors, field + ".", "field", "equals", "oneOf", "exists");
        var path = c["field"] is JsonValue fv && fv.TryGetValue<string>(out var f) && f.Length > 0 ? f : null;
        if (path is null) errors.Add($"{field}.field", "is required: a dot path such as data.status.");
        var ops = new[] { "equals", "oneOf", "exists" }.Where(c.ContainsKey).ToList();
        if (ops.Count != 1)
        {
            errors.Add(field, "needs exactly one of equals, oneOf, exists.");
            return null;
        }
        switch (ops[0])
        {
            case "equals":
                return path is null ? null : new Condition(path, Condition.Kind.Equals, new[] { c["equals"]?.DeepClone() });
            case "oneOf":
                if (c["oneOf"] is not JsonArray list || list.Count == 0)
                {
                    errors.Add($"{field}.oneOf", "must be a non-empty list of values.");
                    return null;
                }
                return path is null ? null : new Condition(path, Condition.Kind.OneOf, list.Select(x => x?.DeepClone()).ToList());
            default:
                if (c["exists"] is not JsonValue ev || !ev.TryGetValue<bool>(out var exists))
                {
                    errors.Add($"{field}.exists", "must be true or false.");
                    return null;
                }
                return path is null ? null : new Condition(path, Condition.Kind.Exists, Array.Empty<JsonNode?>(), exists);
        }
    }

    private static ActionTemplate? ReadAction(JsonNode? node, int index, string field, Errors errors, TemplateEngine engine, ForwardOptions forward)
    {
        if (node is not JsonObject a)
        {
            errors.Add(field, "must be an object with a type.");
            return null;
        }
        var type = a["type"] is JsonValue tv && tv.TryGetValue<string>(out var t) ? t : null;
        var before = errors.List.Count;
        switch (type)
        {
            case CreateOrderMessageAction.TypeName:
            {
                Unknown(a, errors, field + ".", "type", "order", "message", "userId", "staffOnly", "description");
                var order = Text(a, "order", field, errors, engine, required: true);
                var message = Text(a, "message", field, errors, engine, required: true);
                var userId = Text(a, "userId", field, errors, engine, required: false, allowNumber: true);
                var staffOnly = Text(a, "staffOnly", field, errors, engine, required: false, allowBool: true);
                return errors.List.Count > before ? null : new CreateOrderMessageTemplate { Index = index, Order = order!, Message = message!, UserId = userId, StaffOnly = staffOnly };
            }
            case DeleteOrderMessageAction.TypeName:
            {
                Unknown(a, errors, field + ".", "type", "messageId", "description");
                var id = Text(a, "messageId", field, errors, engine, required: true, allowNumber: true);
                return errors.List.Count > before ? null : new DeleteOrderMessageTemplate { Index = index, MessageId = id! };
            }
            case ApiCallAction.TypeName:
            {
                Unknown(a, errors, field + ".", "type", "method", "path", "query", "headers", "body", "description");
                var method = a["method"] is JsonValue mv && mv.TryGetValue<string>(out var m) ? m.ToUpperInvariant() : null;
                if (method is null || !Methods.Contains(method)) errors.Add($"{field}.method", $"must be one of {string.Join(", ", Methods)}.");
                var path = Text(a, "path", field, errors, engine, required: true);
                if (path is { IsLiteral: true })
                {
                    try { SppPathGuard.Resolve(CheckRoot, path.Source); }
                    catch (ArgumentException ex) { errors.Add($"{field}.path", ex.Message); }
                }
                var query = Map(a, "query", field, errors, engine);
                var headers = Map(a, "headers", field, errors, engine);
                foreach (var h in headers.Where(h => h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)))
                {
                    errors.Add($"{field}.headers.{h.Key}", "is set by the SPP client and cannot be overridden.");
                }
                var body = Body(a, field, errors, engine);
                return errors.List.Count > before ? null : new ApiCallTemplate { Index = index, Method = new HttpMethod(method!), Path = path!, Query = query, Headers = headers, Body = body };
            }
            case ForwardAction.TypeName:
            {
                Unknown(a, errors, field + ".", "type", "url", "body", "headers", "description");
                var url = Text(a, "url", field, errors, engine, required: true);
                if (url is { IsLiteral: true })
                {
                    if (!Uri.TryCreate(url.Source, UriKind.Absolute, out var uri)) errors.Add($"{field}.url", "must be an absolute https URL.");
                    else if (forward.Refusal(uri) is { } why) errors.Add($"{field}.url", $"is refused: {why}.");
                }
                var headers = Map(a, "headers", field, errors, engine);
                var body = Body(a, field, errors, engine);
                return errors.List.Count > before ? null : new ForwardTemplate { Index = index, Url = url!, Body = body, Headers = headers, Options = forward };
            }
            case null:
                errors.Add($"{field}.type", "is required: create_order_message, delete_order_message, api_call or forward.");
                return null;
            default:
                errors.Add($"{field}.type", $"'{type}' is not an action type (create_order_message, delete_order_message, api_call, forward).");
                return null;
        }
    }

    private static CompiledTemplate? Text(JsonObject a, string key, string field, Errors errors, TemplateEngine engine, bool required, bool allowNumber = false, bool allowBool = false)
    {
        var node = a[key];
        string? text = node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when allowNumber && v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
            JsonValue v when allowBool && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
            _ => null,
        };
        if (node is null)
        {
            if (required) errors.Add($"{field}.{key}", "is required.");
            return null;
        }
        if (text is null)
        {
            errors.Add($"{field}.{key}", allowNumber ? "must be a number or a template string." : allowBool ? "must be true, false or a template string." : "must be a string.");
            return null;
        }
        if (required && string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{field}.{key}", "must not be empty.");
            return null;
        }
        if (!engine.TryParse(text, out var template, out var error))
        {
            errors.Add($"{field}.{key}", $"template error: {error}");
            return null;
        }
        return template;
    }

    private static IReadOnlyList<KeyValuePair<string, CompiledTemplate>> Map(JsonObject a, string key, string field, Errors errors, TemplateEngine engine)
    {
        var result = new List<KeyValuePair<string, CompiledTemplate>>();
        switch (a[key])
        {
            case null: break;
            case JsonObject map:
                foreach (var (k, v) in map)
                {
                    var text = v is JsonValue jv && jv.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
                        ? (jv.TryGetValue<string>(out var s) ? s : jv.ToJsonString()) : null;
                    if (text is null) errors.Add($"{field}.{key}.{k}", "must be a string.");
                    else if (!engine.TryParse(text, out var template, out var error)) errors.Add($"{field}.{key}.{k}", $"template error: {error}");
                    else result.Add(KeyValuePair.Create(k, template));
                }
                break;
            default:
                errors.Add($"{field}.{key}", "must be an object of names to values.");
                break;
        }
        return result;
    }

    private static JsonTemplate? Body(JsonObject a, string field, Errors errors, TemplateEngine engine)
    {
        if (!a.ContainsKey("body")) return null;
        var template = JsonTemplate.Compile(a["body"], engine, out var error);
        if (error is not null) errors.Add($"{field}.body", $"template error at {error}");
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
