using SppFunctions.Processing.Handlers;

namespace SppFunctions.Processing.Rules;

/// <summary>
/// A rule from the rules file: when an event matches <c>on</c> and every <c>when</c>, run its steps (<c>actions</c>) in
/// order. The conditions are evaluated by <see cref="RuleRunner"/>, which contains whatever they meet in the event.
/// </summary>
public sealed class Rule
{
    public required string Name { get; init; }
    public required IReadOnlyList<EventPattern> On { get; init; }
    public IReadOnlyList<Condition> When { get; init; } = Array.Empty<Condition>();
    public required IReadOnlyList<RuleStep> Actions { get; init; }
    /// <summary>Also run for messages this app posted itself (off by default, so a rule cannot answer itself forever).</summary>
    public bool IncludeOwnMessages { get; init; }
    /// <summary>True when a step has an id or is a forEach: its steps then need a scope of their own per event.</summary>
    public bool UsesSteps => Actions.Any(a => a.Id is not null || a is ForEachStep);

    /// <summary>The event's name matches <c>on</c>, and it is not about the app's own message (unless the rule wants those).</summary>
    public bool Applies(EventContext context) =>
        EventPattern.AnyMatches(On, context.Name) && (IncludeOwnMessages || !context.IsOwnMessage);
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

    /// <summary>The rules that apply to the event by name (their conditions are still to be evaluated).</summary>
    public IEnumerable<Rule> Matching(EventContext context) => Rules.Where(r => r.Applies(context));
}
