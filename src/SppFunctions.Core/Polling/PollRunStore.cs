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

public class PollRunStore
{
    private readonly TableClient _table;
    private readonly CreateOnce _create;

    protected PollRunStore() { _table = null!; _create = null!; }

    public PollRunStore(TableServiceClient tables, StorageNames names)
    {
        _table = tables.GetTableClient(names.PollRunsTable);
        _create = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
    }

    public virtual async Task AddAsync(PollRun run, CancellationToken cancellationToken)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        run.RowKey = (DateTimeOffset.MaxValue.UtcTicks - run.StartedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        await _table.AddEntityAsync(run, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest runs first.</summary>
    public virtual async Task<IReadOnlyList<PollRun>> LatestAsync(int count, CancellationToken cancellationToken)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<PollRun>();
        await foreach (var run in _table.QueryAsync<PollRun>(r => r.PartitionKey == "run", maxPerPage: count, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(run);
            if (list.Count >= count) break;
        }
        return list;
    }
}
