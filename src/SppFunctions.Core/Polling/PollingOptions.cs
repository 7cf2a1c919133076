using Microsoft.Extensions.Options;
using NCrontab;

namespace SppFunctions.Polling;

/// <summary>Order-message polling (<c>Polling__*</c>).</summary>
public sealed class PollingOptions
{
    public const string SectionName = "Polling";
    public const string DefaultSchedule = "0 */1 * * * *";
    public static readonly IReadOnlyList<string> DefaultClosedStatuses = new[] { "Complete", "Cancelled" };

    /// <summary>
    /// NCRONTAB schedule of the poller (six fields, with seconds), e.g. <see cref="DefaultSchedule"/>. Required: the timer
    /// trigger reads it as <c>%Polling:Schedule%</c>, and the Functions host would disable a timer whose setting is
    /// missing (with an error in its log) while the app ran on, so the app refuses to start without it.
    /// </summary>
    public string? Schedule { get; set; }

    /// <summary>False: the timer fires but does nothing, and order webhooks do not touch the watch set.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Order status labels that end watching (default Complete and Cancelled; SPP admins can rename statuses).</summary>
    public List<string> ClosedStatuses { get; set; } = new();

    /// <summary>Orders (id or number) always watched, whatever webhooks say.</summary>
    public List<string> WatchOrders { get; set; } = new();

    /// <summary>When an order is first seen, take its current messages as the baseline instead of emitting them.</summary>
    public bool Baseline { get; set; } = true;

    /// <summary>On the first run, list SPP's open orders once and watch them all.</summary>
    public bool Bootstrap { get; set; }

    /// <summary>Do not emit staff-only (internal) messages.</summary>
    public bool SkipStaffOnly { get; set; }

    /// <summary>Do not emit messages this app posted itself (so a rule that answers messages cannot answer itself).</summary>
    public bool SkipOwnMessages { get; set; } = true;

    /// <summary>Orders whose messages are listed at the same time (SPP advises 2-4 calls in flight).</summary>
    public int MaxParallelism { get; set; } = 4;

    /// <summary>Messages per list call.</summary>
    public int PageSize { get; set; } = 50;

    /// <summary>
    /// How often a run also checks every watched order's status and existence (one list call per 100 orders), to stop
    /// watching orders closed or deleted without a new message.
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);

    public IReadOnlyList<string> ClosedStatusesOrDefault() => ClosedStatuses.Count > 0 ? ClosedStatuses : DefaultClosedStatuses;

    /// <summary>True when an order with this status label is closed (not watched): one of <see cref="ClosedStatusesOrDefault"/>.</summary>
    public bool IsClosed(string? status) =>
        status is not null && ClosedStatusesOrDefault().Any(s => s.Equals(status, StringComparison.OrdinalIgnoreCase));
}

internal sealed class PollingOptionsValidator : IValidateOptions<PollingOptions>
{
    public ValidateOptionsResult Validate(string? name, PollingOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Schedule))
        {
            failures.Add($"Polling__Schedule is required: the timer PollOrderMessages reads it as %Polling:Schedule% " +
                $"and the Functions host disables a timer whose setting is missing. " +
                $"Set it, e.g. to {PollingOptions.DefaultSchedule} (every minute).");
        }
        else if (CrontabSchedule.TryParse(options.Schedule, new CrontabSchedule.ParseOptions { IncludingSeconds = true }) is null)
        {
            failures.Add($"Polling__Schedule must be an NCRONTAB expression with seconds, " +
                $"e.g. {PollingOptions.DefaultSchedule} (got '{options.Schedule}').");
        }
        if (options.MaxParallelism is < 1 or > 16) failures.Add("Polling__MaxParallelism must be between 1 and 16.");
        if (options.PageSize is < 1 or > 100) failures.Add("Polling__PageSize must be between 1 and 100.");
        if (options.SweepInterval < TimeSpan.FromMinutes(1)) failures.Add("Polling__SweepInterval must be at least 00:01:00.");
        if (options.WatchOrders.Any(string.IsNullOrWhiteSpace)) failures.Add("Polling__WatchOrders__N must be order ids or numbers.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
