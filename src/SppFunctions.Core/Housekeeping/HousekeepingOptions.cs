using Microsoft.Extensions.Options;
using NCrontab;

namespace SppFunctions.Housekeeping;

/// <summary>The daily clean-up of old storage rows and blobs (<c>Housekeeping__*</c>).</summary>
public sealed class HousekeepingOptions
{
    public const string SectionName = "Housekeeping";
    public const string DefaultSchedule = "0 30 3 * * *";

    /// <summary>
    /// NCRONTAB schedule (six fields, with seconds) of the timer, e.g. <see cref="DefaultSchedule"/> (03:30 UTC daily).
    /// Required: the timer reads it as <c>%Housekeeping:Schedule%</c>, and the Functions host would disable a timer whose
    /// setting is missing while the app ran on, so the app refuses to start without it.
    /// </summary>
    public string? Schedule { get; set; }

    /// <summary>False: the timer fires but deletes nothing.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long poller run summaries (table SppPollRuns) are kept.</summary>
    public TimeSpan PollRunRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long succeeded events are kept, with their action records and payload blobs.</summary>
    public TimeSpan EventRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long failed events (and any never finished) are kept for replay, with their action records and payloads.</summary>
    public TimeSpan FailedEventRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Most rows or blobs each kind of clean-up deletes in one run; the rest waits for the next run.</summary>
    public int MaxDeletesPerRun { get; set; } = 20_000;

    /// <summary>Longest a run works before it stops (keep it below host.json's functionTimeout).</summary>
    public TimeSpan MaxRunTime { get; set; } = TimeSpan.FromMinutes(5);
}

internal sealed class HousekeepingOptionsValidator : IValidateOptions<HousekeepingOptions>
{
    public ValidateOptionsResult Validate(string? name, HousekeepingOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Schedule))
        {
            failures.Add("Housekeeping__Schedule is required: the timer Housekeeping reads it as %Housekeeping:Schedule% " +
                "and the Functions host disables a timer whose setting is missing. " +
                $"Set it, e.g. to {HousekeepingOptions.DefaultSchedule} (03:30 UTC daily).");
        }
        else if (CrontabSchedule.TryParse(options.Schedule, new CrontabSchedule.ParseOptions { IncludingSeconds = true }) is null)
        {
            failures.Add($"Housekeeping__Schedule must be an NCRONTAB expression with seconds, e.g. {HousekeepingOptions.DefaultSchedule} " +
                $"(got '{options.Schedule}').");
        }
        if (options.PollRunRetention < TimeSpan.FromHours(1))
            failures.Add($"Housekeeping__PollRunRetention must be at least 01:00:00 (got {options.PollRunRetention}).");
        if (options.EventRetention < TimeSpan.FromDays(1))
            failures.Add($"Housekeeping__EventRetention must be at least 1.00:00:00 (got {options.EventRetention}).");
        if (options.FailedEventRetention < options.EventRetention)
        {
            failures.Add($"Housekeeping__FailedEventRetention must be at least Housekeeping__EventRetention ({options.EventRetention}): " +
                $"failed events are kept for replay (got {options.FailedEventRetention}).");
        }
        if (options.MaxDeletesPerRun is < 1 or > 1_000_000)
            failures.Add($"Housekeeping__MaxDeletesPerRun must be between 1 and 1000000 (got {options.MaxDeletesPerRun}).");
        if (options.MaxRunTime < TimeSpan.FromSeconds(10) || options.MaxRunTime > TimeSpan.FromHours(1))
        {
            failures.Add($"Housekeeping__MaxRunTime must be between 00:00:10 and 01:00:00 (got {options.MaxRunTime}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
