using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spp.Client.Serialization;

namespace SppFunctions.Processing.Rules;

/// <summary>What a condition is evaluated against: the scope (<c>data</c>, <c>steps</c>, <c>item</c>, ...) and "now".</summary>
/// <param name="Trace">When set, every field condition adds what it read and decided (the CLI's dry run shows them).</param>
public sealed record ConditionContext(JsonObject Scope, DateTimeOffset Now, List<ConditionResult>? Trace = null)
{
    /// <summary>Told of an exception evaluation met and contained (none is expected; tests assert there is none).</summary>
    public Action<Exception>? OnError { get; init; }
}

/// <summary>One field condition as evaluated: its text, the value it read (compact JSON, null when absent) and the outcome.</summary>
public sealed record ConditionResult(string Condition, string? Value, bool Met);

/// <summary>
/// A <c>when</c> condition. Evaluation never throws, whatever the event holds (huge numbers, NaN strings, deep objects):
/// a value of the wrong type simply does not meet the condition, as in Make's filters.
/// </summary>
public abstract class Condition
{
    public bool IsMet(ConditionContext context)
    {
        try
        {
            return Evaluate(context);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Evaluation is written not to throw; should some value still trip it, the condition is not met.
            context.OnError?.Invoke(ex);
            context.Trace?.Add(new ConditionResult(ToString()!, null, false));
            return false;
        }
    }

    protected abstract bool Evaluate(ConditionContext context);

    /// <summary>True when every condition holds (an empty list holds).</summary>
    public static bool AllMet(IReadOnlyList<Condition> conditions, ConditionContext context)
    {
        foreach (var c in conditions) if (!c.IsMet(context)) return false;
        return true;
    }
}

/// <summary><c>{"any": [...]}</c>: at least one holds.</summary>
public sealed class AnyCondition(IReadOnlyList<Condition> conditions) : Condition
{
    public IReadOnlyList<Condition> Conditions { get; } = conditions;
    protected override bool Evaluate(ConditionContext context) => Conditions.Any(c => c.IsMet(context));
    public override string ToString() => $"any of ({string.Join("; ", Conditions)})";
}

/// <summary><c>{"all": [...]}</c>: every one holds.</summary>
public sealed class AllCondition(IReadOnlyList<Condition> conditions) : Condition
{
    public IReadOnlyList<Condition> Conditions { get; } = conditions;
    protected override bool Evaluate(ConditionContext context) => AllMet(Conditions, context);
    public override string ToString() => $"all of ({string.Join("; ", Conditions)})";
}

/// <summary><c>{"not": {...}}</c>.</summary>
public sealed class NotCondition(Condition inner) : Condition
{
    public Condition Inner { get; } = inner;
    protected override bool Evaluate(ConditionContext context) => !Inner.IsMet(context);
    public override string ToString() => $"not ({Inner})";
}

/// <summary>The operators of a field condition (Make's filter operators).</summary>
public enum ConditionOperator
{
    Equals, NotEquals, OneOf, Contains, NotContains, StartsWith, EndsWith, Matches,
    Gt, Gte, Lt, Lte, Before, After, Exists, Empty, Length,
}

/// <summary>A number comparison (<c>gt</c>, <c>gte</c>, <c>lt</c>, <c>lte</c>, <c>equals</c>) as <c>length</c> takes it.</summary>
public sealed record NumberBound(ConditionOperator Operator, decimal Value);

/// <summary>A date operand: a fixed date, or an offset from the time of evaluation (<c>-2h</c>, <c>+1d</c>, <c>now</c>).</summary>
public sealed record DateOperand(DateTimeOffset? Fixed, TimeSpan Offset)
{
    public DateTimeOffset At(DateTimeOffset now) => Fixed ?? now + Offset;
}

/// <summary>
/// <c>{"field": "data.total", "gt": "100.00"}</c> and the other operators. Text operators compare the value's text
/// (numbers as written), optionally ignoring case; number operators compare decimals, also from strings such as SPP's
/// money (<c>"10.00"</c>); date operators read SPP's date formats and Unix seconds.
/// </summary>
public sealed class FieldCondition : Condition
{
    public required string Field { get; init; }
    public required ConditionOperator Operator { get; init; }
    /// <summary>The operand as written (a value, a list for oneOf, true/false for exists and empty).</summary>
    public JsonNode? Operand { get; init; }
    public bool IgnoreCase { get; init; }
    public Regex? Pattern { get; init; }
    public DateOperand? Date { get; init; }
    public IReadOnlyList<NumberBound> Bounds { get; init; } = Array.Empty<NumberBound>();

    private StringComparison Comparison => IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    protected override bool Evaluate(ConditionContext context)
    {
        var value = Values.Resolve(context.Scope, Field);
        var met = Decide(value, context.Now);
        context.Trace?.Add(new ConditionResult(ToString(), value is null ? null : Values.Compact(value), met));
        return met;
    }

    private bool Decide(JsonNode? value, DateTimeOffset now) => Operator switch
    {
        ConditionOperator.Exists => (value is not null) == Flag,
        ConditionOperator.Empty => Values.IsEmpty(value) == Flag,
        ConditionOperator.Equals => Values.Same(value, Operand, IgnoreCase),
        ConditionOperator.NotEquals => !Values.Same(value, Operand, IgnoreCase),
        ConditionOperator.OneOf => Operand is JsonArray list && list.Any(x => Values.Same(value, x, IgnoreCase)),
        ConditionOperator.Contains => Contains(value),
        ConditionOperator.NotContains => !Contains(value),
        ConditionOperator.StartsWith => Values.Text(value) is { } s && s.StartsWith(Values.Text(Operand) ?? "", Comparison),
        ConditionOperator.EndsWith => Values.Text(value) is { } e && e.EndsWith(Values.Text(Operand) ?? "", Comparison),
        ConditionOperator.Matches => Values.Text(value) is { } m && IsMatch(m),
        ConditionOperator.Gt or ConditionOperator.Gte or ConditionOperator.Lt or ConditionOperator.Lte =>
            Values.Compare(value, Operand) is { } c && Holds(Operator, c),
        ConditionOperator.Before => Values.Date(value) is { } b && Date is not null && b < Date.At(now),
        ConditionOperator.After => Values.Date(value) is { } a && Date is not null && a > Date.At(now),
        ConditionOperator.Length => Values.Length(value) is { } n && Bounds.All(x => Holds(x.Operator, ((decimal)n).CompareTo(x.Value))),
        _ => false,
    };

    private bool Flag => Operand is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private bool Contains(JsonNode? value) => value switch
    {
        JsonArray array => array.Any(x => Values.Same(x, Operand, IgnoreCase)),
        JsonValue => Values.Text(value) is { } s && Values.Text(Operand) is { } wanted && s.Contains(wanted, Comparison),
        _ => false,
    };

    private bool IsMatch(string text)
    {
        try
        {
            return Pattern!.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            // A pattern that backtracks for too long on this value does not match it.
            return false;
        }
    }

    internal static bool Holds(ConditionOperator op, int comparison) => op switch
    {
        ConditionOperator.Gt => comparison > 0,
        ConditionOperator.Gte => comparison >= 0,
        ConditionOperator.Lt => comparison < 0,
        ConditionOperator.Lte => comparison <= 0,
        ConditionOperator.Equals => comparison == 0,
        _ => false,
    };

    public override string ToString()
    {
        var name = ConditionParser.OperatorName(Operator);
        var operand = Operator == ConditionOperator.Length && Bounds.Count > 0 && Operand is not JsonValue
            ? "{" + string.Join(", ", Bounds.Select(b
                => $"{ConditionParser.OperatorName(b.Operator)}: {b.Value.ToString(CultureInfo.InvariantCulture)}")) + "}"
            : Operand is null ? "null" : Values.Compact(Operand);
        return $"{Field} {name} {operand}{(IgnoreCase ? " (ignoring case)" : "")}";
    }
}

/// <summary>How conditions read and compare JSON values, forgiving SPP's loose typing and never throwing.</summary>
public static partial class Values
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Follows a path through objects and arrays: <c>data.client.email</c>, <c>data.items.0.id</c> or
    /// <c>data.items[0].id</c>. Null when any step is missing or the value is JSON null.
    /// </summary>
    public static JsonNode? Resolve(JsonNode? node, string path)
    {
        foreach (var segment in Segments(path))
        {
            node = node switch
            {
                JsonObject o => o.TryGetPropertyValue(segment, out var child) ? child : null,
                JsonArray a when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
            if (node is null) return null;
        }
        return node;
    }

    /// <summary>The segments of a path: dots separate them, <c>[n]</c> is an index.</summary>
    public static IEnumerable<string> Segments(string path)
    {
        foreach (var part in path.Split('.'))
        {
            var open = part.IndexOf('[', StringComparison.Ordinal);
            if (open < 0)
            {
                yield return part;
                continue;
            }
            if (open > 0) yield return part[..open];
            foreach (Match m in Index().Matches(part[open..])) yield return m.Groups[1].Value;
        }
    }

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex Index();

    /// <summary>Compact JSON of a value for traces and errors (strings shortened).</summary>
    public static string Compact(JsonNode node)
    {
        var text = node.ToJsonString(Relaxed);
        return text.Length > 200 ? text[..199] + "…" : text;
    }

    /// <summary>The text of a scalar: a string as is, a number as written, true/false; null for anything else.</summary>
    public static string? Text(JsonNode? node) => node is JsonValue v ? v.GetValueKind() switch
    {
        JsonValueKind.String => v.GetValue<string>(),
        JsonValueKind.Number => v.ToJsonString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    } : null;

    /// <summary>
    /// Equality as a Make user expects: numbers by value (also a number against a numeric string, <c>5</c> equals
    /// <c>"5.00"</c>), other text exactly (or ignoring case), objects and arrays structurally; absent equals only null.
    /// </summary>
    public static bool Same(JsonNode? actual, JsonNode? expected, bool ignoreCase = false)
    {
        if (actual is null || expected is null) return actual is null && IsNull(expected) || expected is null && IsNull(actual);
        if (actual is JsonValue a && expected is JsonValue e)
        {
            var ak = a.GetValueKind();
            var ek = e.GetValueKind();
            if (ak is JsonValueKind.True or JsonValueKind.False || ek is JsonValueKind.True or JsonValueKind.False)
            {
                return ak == ek;
            }
            if (ak is JsonValueKind.Number || ek is JsonValueKind.Number)
            {
                if (Number(a) is { } x && Number(e) is { } y) return x == y;
                if (Real(a) is { } p && Real(e) is { } q) return p.Equals(q);
            }
            return Text(a) is { } s && Text(e) is { } t && string.Equals(s, t, ignoreCase ? StringComparison.OrdinalIgnoreCase
                : StringComparison.Ordinal);
        }
        return JsonNode.DeepEquals(actual, expected);
    }

    private static bool IsNull(JsonNode? node) => node is null || node is JsonValue v && v.GetValueKind() == JsonValueKind.Null;

    /// <summary>A decimal from a JSON number or a numeric string (<c>"10.00"</c>, <c>" 7 "</c>); null when out of range or not a number.</summary>
    public static decimal? Number(JsonNode? node)
    {
        var text = node is JsonValue v && v.GetValueKind() is JsonValueKind.Number or JsonValueKind.String ? Text(v) : null;
        return text is not null && decimal.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
    }

    /// <summary>A finite double, for numbers beyond decimal's range (1e30); null otherwise (NaN and Infinity included).</summary>
    public static double? Real(JsonNode? node)
    {
        var text = node is JsonValue v && v.GetValueKind() is JsonValueKind.Number or JsonValueKind.String ? Text(v) : null;
        return text is not null && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            && double.IsFinite(d) ? d : null;
    }

    /// <summary>Compares two numeric values (decimals, else finite doubles); null when either is not a number.</summary>
    public static int? Compare(JsonNode? actual, JsonNode? expected)
    {
        if (Number(actual) is { } x && Number(expected) is { } y) return x.CompareTo(y);
        if (Real(actual) is { } p && Real(expected) is { } q) return p.CompareTo(q);
        return null;
    }

    /// <summary>A date from any of SPP's formats or Unix seconds; null when the value is not one.</summary>
    public static DateTimeOffset? Date(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        try
        {
            switch (v.GetValueKind())
            {
                case JsonValueKind.Number:
                    return long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var unix)
                        && unix is >= -62135596800 and <= 253402300799
                        ? DateTimeOffset.FromUnixTimeSeconds(unix) : null;
                case JsonValueKind.String:
                    var text = v.GetValue<string>();
                    return text.Length is > 0 and < 100 && LenientDateTimeOffsetConverter.TryParse(text, out var d) ? d : null;
                default:
                    return null;
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Missing, null, "", [] and {} are empty.</summary>
    public static bool IsEmpty(JsonNode? node) => node switch
    {
        null => true,
        JsonArray a => a.Count == 0,
        JsonObject o => o.Count == 0,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.Null => true,
            JsonValueKind.String => v.GetValue<string>().Length == 0,
            _ => false,
        },
        _ => false,
    };

    /// <summary>The length of an array or a string; null for anything else.</summary>
    public static int? Length(JsonNode? node) => node switch
    {
        JsonArray a => a.Count,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Length,
        _ => null,
    };
}
