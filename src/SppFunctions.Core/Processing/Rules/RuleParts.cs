using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SppFunctions.Processing.Rules;

/// <summary>An event-name pattern: <c>order.created</c>, <c>order.*</c>, <c>*</c> (case-insensitive).</summary>
public sealed class EventPattern
{
    private readonly Regex _regex;

    public EventPattern(string pattern)
    {
        Text = pattern;
        _regex = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*") + @"\z", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    public string Text { get; }
    public bool Matches(string eventName) => _regex.IsMatch(eventName);
    public static bool AnyMatches(IEnumerable<EventPattern> patterns, string eventName) => patterns.Any(p => p.Matches(eventName));
}

/// <summary>A <c>when</c> condition on a field of the event scope (<c>data.status</c>, <c>event</c>, <c>data.tags.0</c>).</summary>
public sealed class Condition
{
    public enum Kind { Equals, OneOf, Exists }

    public Condition(string field, Kind op, IReadOnlyList<JsonNode?> values, bool exists = true)
    {
        Field = field;
        Op = op;
        Values = values;
        ShouldExist = exists;
    }

    public string Field { get; }
    public Kind Op { get; }
    public IReadOnlyList<JsonNode?> Values { get; }
    public bool ShouldExist { get; }

    public bool IsMet(JsonObject scope)
    {
        var value = Resolve(scope, Field);
        return Op switch
        {
            Kind.Exists => (value is not null) == ShouldExist,
            Kind.Equals => SameValue(value, Values[0]),
            _ => Values.Any(v => SameValue(value, v)),
        };
    }

    /// <summary>Follows a dot path through objects and arrays; null when any step is missing.</summary>
    public static JsonNode? Resolve(JsonNode? node, string path)
    {
        foreach (var segment in path.Split('.'))
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

    /// <summary>Equality that forgives SPP's loose typing: 5 equals "5", true equals 1 is not assumed.</summary>
    private static bool SameValue(JsonNode? actual, JsonNode? expected)
    {
        if (actual is null || expected is null) return actual is null && expected is null;
        if (actual is JsonValue a && expected is JsonValue e)
        {
            var ak = a.GetValueKind();
            var ek = e.GetValueKind();
            if (ak == JsonValueKind.Number && ek == JsonValueKind.Number) return a.GetValue<decimal>() == e.GetValue<decimal>();
            if (ak is JsonValueKind.String or JsonValueKind.Number && ek is JsonValueKind.String or JsonValueKind.Number)
            {
                return string.Equals(Text(a), Text(e), StringComparison.Ordinal);
            }
        }
        return JsonNode.DeepEquals(actual, expected);
    }

    private static string Text(JsonValue v) => v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
}
