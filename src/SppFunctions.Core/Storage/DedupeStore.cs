using Azure;
using Azure.Data.Tables;

namespace SppFunctions.Storage;

/// <summary>
/// Remembers which event ids were accepted, for the dedupe window (table <c>SppDedupe</c>). A record is written only
/// after its event is queued, so there is never a dedupe record without a queued message. Expired records count as
/// absent and are replaced.
/// Each record names its writer (<c>Owner</c>): when storage acted on an insert but its answer was lost, the storage
/// SDK retries it and meets the record with 409; the writer then recognises its own record instead of taking it for
/// a rival's (which made the publisher withdraw its message and answer "duplicate": the event was lost). The owner
/// also lets a publisher that gives up remove exactly the record it may have written.
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
        /// <summary>Who wrote it (one value per publish attempt).</summary>
        public string? Owner { get; set; }
    }

    private static string Partition(string id) => id.Length >= 2 ? id[^2..] : id;

    /// <summary>True when an unexpired record exists for the id.</summary>
    public virtual async Task<bool> SeenAsync(string id, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var existing = await Table.GetEntityIfExistsAsync<DedupeRecord>(Partition(id), id, cancellationToken: cancellationToken).ConfigureAwait(false);
        return existing.HasValue && existing.Value!.ExpiresAt > _time.GetUtcNow();
    }


    /// <summary>Adds a record kept for <paramref name="window"/>, written by <paramref name="owner"/>. False when another writer recorded the id first.</summary>
    public virtual async Task<bool> TryAddAsync(string id, TimeSpan window, string owner, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var record = new DedupeRecord { PartitionKey = Partition(id), RowKey = id, ExpiresAt = _time.GetUtcNow() + window, Owner = owner };
        try
        {
            await Table.AddEntityAsync(record, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await Table.GetEntityIfExistsAsync<DedupeRecord>(record.PartitionKey, id, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (existing.HasValue && existing.Value!.Owner == owner) return true; // our own insert, retried after its answer was lost
            if (existing.HasValue && existing.Value!.ExpiresAt > _time.GetUtcNow()) return false;
            try
            {
                // An expired record: take it over, unless someone else just did.
                if (existing.HasValue) await Table.UpdateEntityAsync(record, existing.Value!.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                else await Table.AddEntityAsync(record, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException again) when (again.Status is 409 or 412)
            {
                return false;
            }
        }
    }

    /// <summary>Deletes the id's record if <paramref name="owner"/> wrote it (undoing a publish that gave up).</summary>
    public virtual async Task RemoveIfOwnedAsync(string id, string owner, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var existing = await Table.GetEntityIfExistsAsync<DedupeRecord>(Partition(id), id, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!existing.HasValue || existing.Value!.Owner != owner) return;
        try
        {
            await Table.DeleteEntityAsync(existing.Value.PartitionKey, id, existing.Value.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Gone already, or replaced by another writer since: theirs stays.
        }
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
