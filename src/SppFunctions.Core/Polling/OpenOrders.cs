using System.Runtime.CompilerServices;
using Spp.Client;

namespace SppFunctions.Polling;

/// <summary>What watching one listed order did.</summary>
public enum OpenOrderOutcome
{
    Added,
    AlreadyWatched,
    Closed,
}

/// <summary>Watches every open order SPP lists: the poller's bootstrap and <c>sppfn watch add --open</c>.</summary>
public static class OpenOrders
{
    /// <summary>
    /// Lists SPP's orders (100 per call) and adds each open one to the watch set (a closed status per
    /// <see cref="PollingOptions.IsClosed"/> is skipped); yields the outcomes of each page, one SPP call each.
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<OpenOrderOutcome>> WatchAllAsync(SppClient spp, WatchStore watch,
        PollingOptions options, string source, DateTimeOffset now, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in spp.GetOrdersAsync(new SppListQuery { PageSize = 100 }, cancellationToken)
            .AsPages(cancellationToken).ConfigureAwait(false))
        {
            var outcomes = new List<OpenOrderOutcome>(page.Items.Count);
            foreach (var order in page.Items)
            {
                outcomes.Add(options.IsClosed(order.Status) ? OpenOrderOutcome.Closed
                    : await watch.AddIfNewAsync(order.Id, source, now, cancellationToken).ConfigureAwait(false) ? OpenOrderOutcome.Added
                    : OpenOrderOutcome.AlreadyWatched);
            }
            yield return outcomes;
        }
    }
}
