using Microsoft.Azure.Functions.Worker;
using SppFunctions.Housekeeping;

namespace SppFunctions.Functions.Housekeeping;

/// <summary>
/// The daily clean-up's timer, on <c>Housekeeping__Schedule</c> (NCRONTAB, default 03:30 UTC). No RunOnStartup: a
/// restart does not start a clean-up. The run is logged and bounded by the service; a step that failed fails the
/// invocation, so it shows as a failure in monitoring.
/// </summary>
public sealed class HousekeepingFunction(HousekeepingService housekeeping)
{
    [Function("Housekeeping")]
    public async Task Run(
        [TimerTrigger("%Housekeeping:Schedule%", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken)
    {
        var summary = await housekeeping.RunAsync(cancellationToken);
        if (summary.Errors > 0) throw new InvalidOperationException($"Housekeeping failed in {summary.Errors} step(s); last: {summary.LastError}");
    }
}
