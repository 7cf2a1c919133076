using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SppFunctions.Processing.Rules;

/// <summary>What a condition or template may read at its place in a rule: the steps before it, and <c>item</c> inside a forEach.</summary>
public sealed record ScopeShape(IReadOnlyCollection<string> Steps, bool HasItem)
{
    public static ScopeShape Event { get; } = new(Array.Empty<string>(), false);
}

/// <summary>
/// Reads <c>when</c> conditions from a rules file and checks them as start-up does: every operator known, operands of
/// the right type, regexes that compile, fields that exist at that place (<c>steps.&lt;id&gt;</c> of an earlier step,
/// <c>item</c> only in a forEach) and that can have the type the operator needs.
/// </summary>
public static partial class ConditionParser
{
    /// <summary>How long one regex match may run before it counts as no match.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(200);

    private static readonly (string Name, ConditionOperator Op)[] Operators =
    {
        ("equals", ConditionOperator.Equals), ("oneOf", ConditionOperator.OneOf), ("exists", ConditionOperator.Exists),
        ("notEquals", ConditionOperator.NotEquals), ("contains", ConditionOperator.Contains), ("notContains", ConditionOperator.NotContains),
        ("startsWith", ConditionOperator.StartsWith), ("endsWith", ConditionOperator.EndsWith), ("matches", ConditionOperator.Matches),
        ("gt", ConditionOperator.Gt), ("gte", ConditionOperator.Gte), ("lt", ConditionOperator.Lt), ("lte", ConditionOperator.Lte),
        ("before", ConditionOperator.Before), ("after", ConditionOperator.After), ("empty", ConditionOperator.Empty), ("length",
            ConditionOperator.Length),
    };

    /// <summary>Every operator name, as written in rules files.</summary>
    public static IReadOnlyList<string> OperatorNames { get; } = Operators.Select(o => o.Name).ToArray();

    private static readonly string[] FieldConditionKeys = ["field", "ignoreCase", .. OperatorNames];

    private static readonly HashSet<ConditionOperator> TextOperators = new()
    {
        ConditionOperator.Equals, ConditionOperator.NotEquals, ConditionOperator.OneOf, ConditionOperator.Contains,
        ConditionOperator.NotContains, ConditionOperator.StartsWith, ConditionOperator.EndsWith, ConditionOperator.Matches,
    };

    public static string OperatorName(ConditionOperator op) => Operators.First(o => o.Op == op).Name;

    /// <summary>What a field can hold, as far as the rules file can know before any event.</summary>
    private enum FieldKind { Any, Name, Number, Object }

    [GeneratedRegex(@"^(now|([+-])(\d{1,6})\s*(s|m|h|d|w))\z", RegexOptions.IgnoreCase)]
    private static partial Regex Relative();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+|\[\d+\])*\z")]
    private static partial Regex PathShape();

    /// <summary>Reads <c>when</c>: one condition or a list of them (all must hold). Errors go to <paramref name="error"/> as (field,
    /// problem).</summary>
    public static List<Condition> ReadWhen(JsonNode? node, string field, ScopeShape shape, Action<string, string> error)
    {
        var result = new List<Condition>();
        switch (node)
        {
            case null: break;
            case JsonArray list:
                for (var i = 0; i < list.Count; i++) if (Read(list[i], $"{field}[{i}]", shape, error) is { } c) result.Add(c);
                break;
            case JsonObject single:
                if (Read(single, field, shape, error) is { } one) result.Add(one);
                break;
            default:
                error(field, "must be a condition or a list of conditions.");
                break;
        }
        return result;
    }

    public static Condition? Read(JsonNode? node, string field, ScopeShape shape, Action<string, string> error)
    {
        if (node is not JsonObject c)
        {
            error(field, "must be an object {field, equals | oneOf | exists | ...} or {any | all | not}.");
            return null;
        }
        foreach (var combinator in new[] { "any", "all", "not" })
        {
            if (!c.ContainsKey(combinator)) continue;
            Unknown(c, field, error, combinator);
            if (combinator == "not")
            {
                return Read(c["not"], $"{field}.not", shape, error) is { } inner ? new NotCondition(inner) : null;
            }
            if (c[combinator] is not JsonArray list || list.Count == 0)
            {
                error($"{field}.{combinator}", "must be a non-empty list of conditions.");
                return null;
            }
            var parts = new List<Condition>();
            var ok = true;
            for (var i = 0; i < list.Count; i++)
            {
                if (Read(list[i], $"{field}.{combinator}[{i}]", shape, error) is { } part) parts.Add(part);
                else ok = false;
            }
            if (!ok) return null;
            return combinator == "any" ? new AnyCondition(parts) : new AllCondition(parts);
        }
        return ReadField(c, field, shape, error);
    }

    private static FieldCondition? ReadField(JsonObject c, string field, ScopeShape shape, Action<string, string> error)
    {
        Unknown(c, field, error, FieldConditionKeys);
        var before = 0;
        void Error(string f, string p) { before++; error(f, p); }

        var path = c["field"] is JsonValue fv && fv.TryGetValue<string>(out var f) && f.Length > 0 ? f : null;
        if (path is null) Error($"{field}.field", "is required: a dot path such as data.status.");
        var ops = Operators.Where(o => c.ContainsKey(o.Name)).ToList();
        if (ops.Count != 1)
        {
            Error(field, $"needs exactly one of {string.Join(", ", OperatorNames)}.");
            return null;
        }
        var (name, op) = ops[0];
        var operand = c[name];
        var at = $"{field}.{name}";

        var ignoreCase = false;
        if (c["ignoreCase"] is { } ic)
        {
            if (ic is not JsonValue icv || !icv.TryGetValue<bool>(out ignoreCase)) Error($"{field}.ignoreCase", "must be true or false.");
            else if (!TextOperators.Contains(op)) Error($"{field}.ignoreCase", $"applies to text operators only, not {name}.");
        }

        var kind = FieldKind.Any;
        if (path is not null) kind = CheckPath(path, $"{field}.field", shape, Error);
        Regex? pattern = null;
        DateOperand? date = null;
        var bounds = new List<NumberBound>();

        switch (op)
        {
            case ConditionOperator.Exists or ConditionOperator.Empty:
                if (operand is not JsonValue bv || !bv.TryGetValue<bool>(out _)) Error(at, "must be true or false.");
                break;
            case ConditionOperator.OneOf:
                if (operand is not JsonArray list || list.Count == 0) Error(at, "must be a non-empty list of values.");
                break;
            case ConditionOperator.Equals or ConditionOperator.NotEquals:
                break;
            case ConditionOperator.Contains or ConditionOperator.NotContains or ConditionOperator.StartsWith or ConditionOperator.EndsWith:
                if (!IsScalar(operand)) Error(at, "must be a string, number or true/false.");
                else if (kind == FieldKind.Object) Error(at, $"cannot apply to {path}, which is an object.");
                break;
            case ConditionOperator.Matches:
                if (operand is not JsonValue rv || !rv.TryGetValue<string>(out var regex)) Error(at, "must be a regular expression (a string).");
                else if (kind == FieldKind.Object) Error(at, $"cannot apply to {path}, which is an object.");
                else
                {
                    try
                    {
                        pattern = new Regex(regex, RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase
                            : RegexOptions.None), RegexTimeout);
                    }
                    catch (ArgumentException ex)
                    {
                        Error(at, $"is not a valid regular expression: {ex.Message}");
                    }
                }
                break;
            case ConditionOperator.Gt or ConditionOperator.Gte or ConditionOperator.Lt or ConditionOperator.Lte:
                if (Values.Number(operand) is null && Values.Real(operand) is null) Error(at,
                    "must be a number (or a numeric string such as \"10.00\").");
                else if (kind is FieldKind.Name or FieldKind.Object) Error(at, $"cannot apply to {path}, which is never a number.");
                break;
            case ConditionOperator.Before or ConditionOperator.After:
                date = ParseDate(operand);
                if (date is null) Error(at,
                    "must be a date (2026-11-02, 2026-11-02T09:00:00Z, SPP's formats, Unix seconds) or relative to now (now, -2h, +30m, -7d, -1w).");
                else if (kind is FieldKind.Name or FieldKind.Object) Error(at, $"cannot apply to {path}, which is never a date.");
                break;
            case ConditionOperator.Length:
                if (Values.Number(operand) is { } n && operand is JsonValue { } lv && lv.GetValueKind() == JsonValueKind.Number && n >= 0
                    && decimal.Truncate(n) == n)
                {
                    bounds.Add(new NumberBound(ConditionOperator.Equals, n));
                }
                else if (operand is JsonObject lengthOps && lengthOps.Count > 0)
                {
                    foreach (var (k, v) in lengthOps)
                    {
                        var bop = k switch { "equals" => ConditionOperator.Equals, "gt" => ConditionOperator.Gt, "gte"
                            => ConditionOperator.Gte, "lt" => ConditionOperator.Lt, "lte" => ConditionOperator.Lte, _ => (ConditionOperator?)null };
                        if (bop is null) Error($"{at}.{k}", "is not a length comparison (equals, gt, gte, lt, lte).");
                        else if (v is not JsonValue nv || nv.GetValueKind() != JsonValueKind.Number
                            || Values.Number(nv) is not { } bound) Error($"{at}.{k}", "must be a number.");
                        else bounds.Add(new NumberBound(bop.Value, bound));
                    }
                }
                else Error(at, "must be a whole number, or an object such as {\"gt\": 0}.");
                if (kind is FieldKind.Number or FieldKind.Object) Error(at, $"cannot apply to {path}, which is never a list or text.");
                break;
        }
        if (before > 0 || path is null) return null;
        return new FieldCondition
        {
            Field = path, Operator = op, Operand = operand?.DeepClone(), IgnoreCase = ignoreCase, Pattern = pattern, Date = date, Bounds = bounds,
        };
    }

    private static bool IsScalar(JsonNode? node) => node is JsonValue v
        && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False;

    /// <summary>A fixed date or a relative one; null when the operand is neither.</summary>
    public static DateOperand? ParseDate(JsonNode? operand)
    {
        if (operand is not JsonValue v) return null;
        if (v.TryGetValue<string>(out var text))
        {
            var m = Relative().Match(text.Trim());
            if (m.Success)
            {
                if (m.Groups[1].Value.Equals("now", StringComparison.OrdinalIgnoreCase)) return new DateOperand(null, TimeSpan.Zero);
                var amount = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) * (m.Groups[2].Value == "-" ? -1 : 1);
                var offset = char.ToLowerInvariant(m.Groups[4].Value[0]) switch
                {
                    's' => TimeSpan.FromSeconds(amount),
                    'm' => TimeSpan.FromMinutes(amount),
                    'h' => TimeSpan.FromHours(amount),
                    'd' => TimeSpan.FromDays(amount),
                    _ => TimeSpan.FromDays(7L * amount),
                };
                return new DateOperand(null, offset);
            }
        }
        return Values.Date(v) is { } fixedDate ? new DateOperand(fixedDate, TimeSpan.Zero) : null;
    }

    /// <summary>Checks that a field can exist where the condition is, and says what it can hold.</summary>
    private static FieldKind CheckPath(string path, string field, ScopeShape shape, Action<string, string> error)
    {
        if (!PathShape().IsMatch(path))
        {
            error(field, $"'{path}' is not a field path (e.g. data.client.email, data.items[0].id, steps.order.body.total).");
            return FieldKind.Any;
        }
        var segments = Values.Segments(path).ToList();
        switch (segments[0])
        {
            case "id" or "event" or "topic" or "source":
                if (segments.Count > 1) error(field, $"'{path}': {segments[0]} is text and has no fields.");
                return FieldKind.Name;
            case "created":
                if (segments.Count > 1) error(field, $"'{path}': created is a number (Unix seconds) and has no fields.");
                return FieldKind.Number;
            case "data":
                return segments.Count == 1 ? FieldKind.Object : FieldKind.Any;
            case "item":
                if (!shape.HasItem) error(field, $"'{path}': item exists only inside a forEach.");
                return FieldKind.Any;
            case "steps":
                if (segments.Count == 1)
                {
                    error(field, "'steps' needs a step id: steps.<id>.status, steps.<id>.body or steps.<id>.headers.");
                    return FieldKind.Object;
                }
                if (!shape.Steps.Contains(segments[1]))
                {
                    error(field, $"'{path}': no earlier step of this rule has the id '{segments[1]}'" +
                        (shape.Steps.Count == 0 ? "." : $" (earlier steps: {string.Join(", ", shape.Steps)})."));
                    return FieldKind.Any;
                }
                if (segments.Count == 2) return FieldKind.Object;
                switch (segments[2])
                {
                    case "status":
                        if (segments.Count > 3) error(field, $"'{path}': status is a number and has no fields.");
                        return FieldKind.Number;
                    case "headers":
                        return segments.Count == 3 ? FieldKind.Object : FieldKind.Any;
                    case "body":
                        return FieldKind.Any;
                    default:
                        error(field, $"'{path}': a step has status, body and headers, not {segments[2]}.");
                        return FieldKind.Any;
                }
            default:
                error(field, $"'{path}' is not in the event: fields start with data., steps.<id>., item. (in a forEach), " +
                    "or are id, event, topic, created, source.");
                return FieldKind.Any;
        }
    }

    private static void Unknown(JsonObject obj, string field, Action<string, string> error, params string[] known)
    {
        foreach (var key in obj.Select(p => p.Key).Where(k => !known.Contains(k)))
        {
            error($"{field}.{key}", $"is not a known field (expected {string.Join(", ", known)}).");
        }
    }
}
