using Azure;
using Azure.Data.Tables;
using SppFunctions.Storage;

namespace SppFunctions.Polling;

/// <summary>
/// A watched order and its cursor (table <c>SppWatch</c>, partition "order", row = the order's key as first seen:
/// its id or its number). The cursor is the newest message id (and time) already seen; it is only ever moved forward,
/// by ETag, so two overlapping runs cannot move it back or both emit past it.
/// </summary>
public sealed class WatchedOrder : ITableEntity
{
    public const string Partition = "order";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>SPP's integer id, once known.</summary>
    public string? OrderId { get; set; }
    public string? Number { get; set; }
    public string? Status { get; set; }
    /// <summary>Newest message id already seen (0: none).</summary>
    public long LastMessageId { get; set; }
    public DateTimeOffset? LastMessageAt { get; set; }
    /// <summary>False until the order was first looked at (its baseline taken).</summary>
    public bool Baselined { get; set; }
    /// <summary>webhook, config or bootstrap.</summary>
    public string Source { get; set; } = "";
    public DateTimeOffset AddedAt { get; set; }
    public DateTimeOffset? CheckedAt { get; set; }
}

/// <summary>The poller's own state: the newest <c>last_message_at</c> seen, the run lease, the bootstrap flag.</summary>
public sealed class PollerState : ITableEntity
{
    public string PartitionKey { get; set; } = "poller";
    public string RowKey { get; set; } = "state";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset? Watermark { get; set; }
    public DateTimeOffset? LastSweepAt { get; set; }
    public bool Bootstrapped { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
}

/// <summary>The watch set, the cursors and the poller state.</summary>
public class WatchStore
{
    private readonly TableClient _table;
    private readonly CreateOnce _create;

    protected WatchStore() { _table = null!; _create = null!; }

    public WatchStore(TableServiceClient tables, StorageNames names)
    {
        _table = tables.GetTableClient(names.WatchTable);
        _create = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
    }

    public TableClient Table => _table;

    /// <summary>Normalises an order key: trimmed, numbers upper-cased.</summary>
    public static string Key(string order) => order.Trim().ToUpperInvariant();

    public virtual async Task<IReadOnlyList<WatchedOrder>> ListAsync(CancellationToken cancellationToken)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<WatchedOrder>();
        await foreach (var entry in _table.QueryAsync<WatchedOrder>(e => e.PartitionKey == WatchedOrder.Partition, cancellationToken: cancellationToken).ConfigureAwait(false)) list.Add(entry);
        return list;
    }

    public virtual async Task<WatchedOrder?> GetAsync(string order, CancellationToken cancellationToken)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await _table.GetEntityIfExistsAsync<WatchedOrder>(WatchedOrder.Partition, Key(order), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>Starts watching an order (keeps the cursor of one already watched). True when it was not watched before.</summary>
    public virtual async Task<bool> AddAsync(string order, string source, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _table.AddEntityAsync(new WatchedOrder { RowKey = Key(order), Source = source, AddedAt = now }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Stops watching an order. True when it was watched.</summary>
    public virtual async Task<bool> RemoveAsync(string order, CancellationToken cancellationToken)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The SDK answers a delete of a missing entity with its 404 response instead of throwing.
            var response = await _table.DeleteEntityAsync(WatchedOrder.Partition, Key(order), ETag.All, cancellationToken).ConfigureAwait(false);
            return response.Status != 404;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    /// <summary>Replaces an entry by ETag; false when another run changed (or removed) it first.</summary>
    public virtual async Task<bool> TryUpdateAsync(WatchedOrder entry, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _table.UpdateEntityAsync(entry, entry.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            entry.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    public virtual async Task<PollerState> GetStateAsync(CancellationToken cancellationToken)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await _table.GetEntityIfExistsAsync<PollerState>("poller", "state", cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value! : new PollerState();
    }

    /// <summary>Writes the state by ETag (inserting it the first time); false when another run wrote it first.</summary>
    public virtual async Task<bool> TrySaveStateAsync(PollerState state, CancellationToken cancellationToken)
    {
        try
        {
            var response = state.ETag == default
                ? await _table.AddEntityAsync(state, cancellationToken).ConfigureAwait(false)
                : await _table.UpdateEntityAsync(state, state.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            state.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }
}
