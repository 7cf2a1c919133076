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
