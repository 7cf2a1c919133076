using Microsoft.Extensions.Options;

namespace SppFunctions.Processing.Actions;

/// <summary>Processing settings (<c>Processing__ActionLease</c>, <c>Processing__MarkMessages</c>).</summary>
public sealed class ProcessingOptions
{
    public const string SectionName = "Processing";

    /// <summary>
    /// How long an attempt owns an action. Another delivery of the same event waits (retries later) until it runs out;
    /// after that, the attempt is presumed dead and the action is reconciled and taken over. The owning attempt stops
    /// its SPP calls (retries included) at 80% of the lease, so two attempts never call SPP for one action at once.
    /// </summary>
    public TimeSpan ActionLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Append an invisible HTML comment (<c>&lt;!-- sppfn:… --&gt;</c>) to messages the app posts, so a retry after an
    /// unknown outcome can find the message it may already have posted, and the app can recognise its own messages.
    /// </summary>
    public bool MarkMessages { get; set; } = true;

    /// <summary>
    /// The largest output (status, headers and body as JSON, in bytes) a rule step with an <c>id</c> keeps for later
    /// steps. A larger one is not kept: the step still counts as done (it is never repeated) and its rule fails, naming it.
    /// </summary>
    public int MaxStepOutputBytes { get; set; } = 1_048_576;

    /// <summary>The most items one <c>forEach</c> of a rule runs for in one event; a longer list fails the rule before any item runs.</summary>
    public int MaxForEachItems { get; set; } = 100;
}

internal sealed class ProcessingOptionsValidator : IValidateOptions<ProcessingOptions>
{
    public ValidateOptionsResult Validate(string? name, ProcessingOptions options)
    {
        var errors = new List<string>();
        if (options.ActionLease < TimeSpan.FromSeconds(5)
            || options.ActionLease > TimeSpan.FromHours(1)) errors.Add("Processing__ActionLease must be between 00:00:05 and 01:00:00.");
        if (options.MaxStepOutputBytes is < 1024 or > 16_777_216)
        {
            errors.Add("Processing__MaxStepOutputBytes must be between 1024 and 16777216 (16 MiB).");
        }
        if (options.MaxForEachItems is < 1 or > 10_000) errors.Add("Processing__MaxForEachItems must be between 1 and 10000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
