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
}

internal sealed class ProcessingOptionsValidator : IValidateOptions<ProcessingOptions>
{
    public ValidateOptionsResult Validate(string? name, ProcessingOptions options) =>
        options.ActionLease < TimeSpan.FromSeconds(5) || options.ActionLease > TimeSpan.FromHours(1)
            ? ValidateOptionsResult.Fail("Processing__ActionLease must be between 00:00:05 and 01:00:00.")
            : ValidateOptionsResult.Success;
}
