using Microsoft.Extensions.Options;

namespace SppFunctions.Queueing;

/// <summary>
/// How long transient failures (SPP down, 429, timeouts, an open circuit) are retried (<c>Retries__*</c>). Each retry
/// is a new queue message that becomes visible after a delay: 30 s, 1 min, 2 min, 5 min, 10 min, 30 min, 1 h, then
/// doubling, each at most <see cref="MaxDelay"/> (so hourly by default), or later when SPP asks for it (Retry-After).
/// After <see cref="GiveUpAfter"/> of failures the event is marked failed (replayable).
/// </summary>
public sealed class RetryOptions
{
    public const string SectionName = "Retries";

    /// <summary>The longest wait between two attempts (the schedule's cap).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long after its first transient failure an event is still retried before it is marked failed.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(1);
}

internal sealed class RetryOptionsValidator : IValidateOptions<RetryOptions>
{
    public ValidateOptionsResult Validate(string? name, RetryOptions options)
    {
        var failures = new List<string>();
        // A queue message can stay invisible for at most 7 days.
        if (options.MaxDelay < TimeSpan.FromSeconds(1) || options.MaxDelay > TimeSpan.FromDays(7))
        {
            failures.Add($"Retries__MaxDelay must be between 00:00:01 and 7.00:00:00 (got {options.MaxDelay}).");
        }
        if (options.GiveUpAfter < TimeSpan.FromMinutes(1) || options.GiveUpAfter > TimeSpan.FromDays(30))
        {
            failures.Add($"Retries__GiveUpAfter must be between 00:01:00 and 30.00:00:00 (got {options.GiveUpAfter}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
