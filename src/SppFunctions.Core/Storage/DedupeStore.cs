using Azure;
using Azure.Data.Tables;

namespace SppFunctions.Storage;

/// <summary>
/// The dedupe records of earlier versions (table <c>SppDedupe</c>), read only: an earlier version wrote an event's row
/// before its message and this record after it, so for its "received" rows the record is the proof the event was
/// queued. The event's own row is the dedupe record now; this table is read for legacy rows and purged by housekeeping
/// as its records expire (docs/UPGRADING.md). Expired records count as absent.
/// </summary>
public class DedupeStore : TableStore
{
    private static readonly string[] PartitionRowColumns = ["PartitionKey", "RowKey"];
    private readonly TimeProvider _time;

    protected DedupeStore() { _time = null!; }

    public DedupeStore(TableServiceClient tables, StorageNames names, TimeProvider time)
        : base(tables, names.DedupeTable)
    {
        _time = time;
    }

    private sealed class DedupeRecord : ITableEntity
    {
        public string PartitionKey { get; set; } = "";
        public string RowKey { get; set; } = "";
        public DateTimeOffset? Timestamp { get; set; }
        public ETag ETag { get; set; }
        public DateTimeOffset ExpiresAt { get; set; }
    }

    /// <summary>The partition an earlier version wrote a record in: the id's last two characters.</summary>
    public static string Partition(string id) => id.Length >= 2 ? id[^2..] : id;

    /// <summary>True when an unexpired record exists for the id.</summary>
    public virtual async Task<bool> SeenAsync(string id, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var existing = await Table.GetEntityIfExistsAsync<DedupeRecord>(Partition(id), id,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return existing.HasValue && existing.Value!.ExpiresAt > _time.GetUtcNow();
    }

    /// <summary>Deletes the records that expired before now; returns how many.</summary>
    public virtual Task<int> PurgeExpiredAsync(CancellationToken cancellationToken) => PurgeExpiredAsync(int.MaxValue, cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="maxRecords"/> records that expired before now, in transactions of up to 100 records
    /// of one partition; returns how many. A record a new delivery took over meanwhile (another ETag) stays.
    /// </summary>
    public virtual async Task<int> PurgeExpiredAsync(int maxRecords, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"ExpiresAt lt {_time.GetUtcNow()}");
        var expired = Table.QueryAsync<TableEntity>(filter, select: PartitionRowColumns, cancellationToken: cancellationToken);
        return await DeleteQueriedAsync(expired, maxRecords, cancellationToken).ConfigureAwait(false);
    }
}
