using SppFunctions.Processing.Handlers;

namespace SppFunctions.Processing.Rules;

/// <summary>A rule from the rules file: when an event matches <c>on</c> and every <c>when</c>, run <c>actions</c> in order.</summary>
public sealed class Rule
{
    public required string Name { get; init; }
    public required IReadOnlyList<EventPattern> On { get; init; }
    public IReadOnlyList<Condition> When { get; init; } = Array.Empty<Condition>();
    public required IReadOnlyList<ActionTemplate> Actions { get; init; }
    /// <summary>Also run for messages this app posted itself (off by default, so a rule cannot answer itself forever).</summary>
    public bool IncludeOwnMessages { get; init; }

    public bool Matches(EventContext context) =>
        EventPattern.AnyMatches(On, context.Name)
        && (IncludeOwnMessages || !context.IsOwnMessage)
        && When.All(c => c.IsMet(context.Scope));
}

/// <summary>The loaded, validated rules, in file order.</summary>
public sealed class RuleSet
{
    public RuleSet(IReadOnlyList<Rule> rules, string source)
    {
        Rules = rules;
        Source = source;
    }

    public IReadOnlyList<Rule> Rules { get; }
    /// <summary>The file the rules came from.</summary>
    public string Source { get; }

    public IEnumerable<Rule> Matching(EventContext context) => Rules.Where(r => r.Matches(context));
}
