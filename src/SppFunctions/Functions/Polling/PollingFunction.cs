using Microsoft.Azure.Functions.Worker;
using SppFunctions.Polling;

namespace SppFunctions.Functions.Polling;

/// <summary>
/// The poller's timer, on <c>Polling__Schedule</c> (NCRONTAB, default every minute). No RunOnStartup; the timer
/// trigger is a singleton and waits for a run to finish, and the poller's own lease covers the rest.
/// </summary>
public sealed class PollingFunction(OrderMessagePoller poller)
{
    [Function("PollOrderMessages")]
    public Task Run(
        [TimerTrigger("%Polling:Schedule%", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        poller.RunAsync(cancellationToken);
}
