using System.Globalization;
using Azure;
using Azure.Data.Tables;
using SppFunctions.Storage;

namespace SppFunctions.Polling;

/// <summary>A poller run's summary (table <c>SppPollRuns</c>, newest first), so users can see the poller is alive.</summary>
public sealed class PollRun : ITableEntity
{
    public string PartitionKey { get; set; } = "run";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset StartedAt { get; set; }
    public long DurationMs { get; set; }
    /// <summary>completed, skipped (another run held the lease) or disabled.</summary>
    public string Outcome { get; set; } = "completed";
    public int OrdersWatched { get; set; }
    public int OrdersChecked { get; set; }
    public int ApiCalls { get; set; }
    public int EventsEmitted { get; set; }
    public int OrdersAdded { get; set; }
    public int OrdersRemoved { get; set; }
    public int Errors { get; set; }
    public string? LastError { get; set; }
}

public class PollRunStore : TableStore
{
    private static readonly string[] KeysOnly = ["PartitionKey", "RowKey"];

    protected PollRunStore() { }

    public PollRunStore(TableServiceClient tables, StorageNames names)
        : base(tables, names.PollRunsTable)
    {
    }

    public virtual async Task AddAsync(PollRun run, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        run.RowKey = InvertedTicks(run.StartedAt) + "-" + Guid.NewGuid().ToString("N")[..6];
        await Table.AddEntityAsync(run, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest runs first.</summary>
    public virtual async Task<IReadOnlyList<PollRun>> LatestAsync(int count, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<PollRun>();
        await foreach (var run in Table.QueryAsync<PollRun>(r => r.PartitionKey == "run", maxPerPage: count, cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            list.Add(run);
            if (list.Count >= count) break;
        }
        return list;
    }

    /// <summary>
    /// Deletes up to <paramref name="maxRuns"/> runs that started before <paramref name="before"/>: one row-key range
    /// (keys are inverted start times, so older runs have greater keys), in transactions of up to 100 rows.
    /// </summary>
    public virtual async Task<int> DeleteStartedBeforeAsync(DateTimeOffset before, int maxRuns, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        // A key at or above the inverted time of the tick before `before` started earlier than `before`.
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {"run"} and RowKey ge {InvertedTicks(before.AddTicks(-1))}");
        var old = Table.QueryAsync<TableEntity>(filter, select: KeysOnly, cancellationToken: cancellationToken);
        return await DeleteQueriedAsync(old, maxRuns, cancellationToken).ConfigureAwait(false);
    }

    private static string InvertedTicks(DateTimeOffset time) =>
        (DateTimeOffset.MaxValue.UtcTicks - time.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
}
