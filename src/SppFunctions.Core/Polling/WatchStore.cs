using Azure;
using Azure.Data.Tables;
using SppFunctions.Storage;

namespace SppFunctions.Polling;

/// <summary>
/// A watched order and its cursor (table <c>SppWatch</c>). Resolved orders are in partition "order" with SPP's integer
/// order id as the row key, so a run reads only the orders that changed, by id. Orders added by a key not yet looked
/// at (a webhook's, a configured or bootstrapped id or number) wait in partitions "pending-00" … "pending-15" (by a hash
/// of the key, as every order webhook writes there; earlier versions used one partition "pending", still read), keyed
/// by that key, until a run resolves and baselines them. A number (or any key other than the id) that resolved is
/// remembered in partition "alias" (row = the key, <see cref="OrderId"/> = the id). The cursor is the newest message id (and time) already
/// seen; it is only ever moved forward, by ETag, so two overlapping runs cannot move it back or both emit past it.
/// </summary>
public sealed class WatchedOrder : ITableEntity
{
    public const string Partition = "order";
    /// <summary>The partition earlier versions kept every pending entry in (still read, and emptied by the runs that resolve them).</summary>
    public const string PendingPartition = "pending";
    private const int PendingPartitions = 16;
    public const string AliasPartition = "alias";

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

    /// <summary>True for an entry not resolved yet (a "pending" partition).</summary>
    public bool IsPending => PartitionKey.StartsWith(PendingPartition, StringComparison.Ordinal);

    /// <summary>
    /// The pending partition of an order key: one of 16 (FNV-1a of the key), so no single partition takes every order
    /// webhook's write. The range "pending" … "pending." holds them all, and the earlier versions' one.
    /// </summary>
    public static string PendingPartitionOf(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key) hash = (hash ^ c) * 16777619u;
        return $"{PendingPartition}-{hash % PendingPartitions:D2}";
    }
}

/// <summary>The poller's own state: the newest <c>last_message_at</c> seen, the run lease, the bootstrap flag.</summary>
public sealed class PollerState : ITableEntity
{
    public string PartitionKey { get; set; } = "poller";
    public string RowKey { get; set; } = "state";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset? Watermark { get; set; }
    /// <summary>When (this app's clock) the list call that first saw <see cref="Watermark"/> had its answer.</summary>
    public DateTimeOffset? WatermarkSeenAt { get; set; }
    /// <summary>
    /// True once a list call that started at least a second after <see cref="WatermarkSeenAt"/> re-checked the watermark's
    /// second: no message can be added to that second any more, so later runs list only orders changed after it.
    /// </summary>
    public bool WatermarkSettled { get; set; }
    /// <summary>Runs in a row in which checking some order failed (a run fails once this reaches the limit).</summary>
    public int FailingRuns { get; set; }
    public DateTimeOffset? LastSweepAt { get; set; }
    public bool Bootstrapped { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    /// <summary>The <c>Polling__WatchOrders</c> list last applied (normalised keys), so configured orders are added once per change.</summary>
    public string? ConfiguredOrders { get; set; }
    /// <summary>Resolved orders watched: counted at each sweep, kept up to date by the runs' own additions and removals.</summary>
    public int? WatchedCount { get; set; }
}

/// <summary>The watch set, the cursors and the poller state.</summary>
public class WatchStore : TableStore
{
    private static readonly string[] RowKeyOnly = ["RowKey"];

    protected WatchStore() { }

    public WatchStore(TableServiceClient tables, StorageNames names)
        : base(tables, names.WatchTable)
    {
    }

    /// <summary>Normalises an order key: trimmed, numbers upper-cased.</summary>
    public static string Key(string order) => order.Trim().ToUpperInvariant();

    private static bool IsId(string key) => key.Length is > 0 and <= 19 && key.All(char.IsAsciiDigit);

    /// <summary>Every watched order, resolved and pending (a scan: for sweeps, first runs and tests).</summary>
    public virtual async Task<IReadOnlyList<WatchedOrder>> ListAsync(CancellationToken cancellationToken)
    {
        var list = new List<WatchedOrder>(await ListResolvedAsync(cancellationToken).ConfigureAwait(false));
        list.AddRange(await ListPendingAsync(cancellationToken).ConfigureAwait(false));
        return list;
    }

    /// <summary>The resolved orders (partition "order"): a scan of the whole watch set.</summary>
    public virtual Task<List<WatchedOrder>> ListResolvedAsync(CancellationToken cancellationToken) =>
        ListPartitionAsync(WatchedOrder.Partition, cancellationToken);

    /// <summary>The orders added but not resolved yet (the "pending" partitions, one key range): few, read every run.</summary>
    public virtual async Task<List<WatchedOrder>> ListPendingAsync(CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<WatchedOrder>();
        // '.' follows '-': the range holds "pending" (earlier versions) and every "pending-NN".
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {WatchedOrder.PendingPartition} and PartitionKey lt {"pending."}");
        await foreach (var entry in Table.QueryAsync<WatchedOrder>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(entry);
        }
        return list;
    }

    private async Task<List<WatchedOrder>> ListPartitionAsync(string partition, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<WatchedOrder>();
        await foreach (var entry in Table.QueryAsync<WatchedOrder>(e => e.PartitionKey == partition, cancellationToken: cancellationToken)
            .ConfigureAwait(false)) list.Add(entry);
        return list;
    }

    /// <summary>How many resolved orders are watched (a scan of their keys only).</summary>
    public virtual async Task<int> CountResolvedAsync(CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var count = 0;
        await foreach (var _ in Table.QueryAsync<TableEntity>(
            $"PartitionKey eq '{WatchedOrder.Partition}'", select: RowKeyOnly, cancellationToken: cancellationToken).ConfigureAwait(false)) count++;
        return count;
    }

    /// <summary>The resolved entry of an order by SPP's integer id (one point read), or null when it is not watched.</summary>
    public virtual async Task<WatchedOrder?> GetResolvedAsync(string orderId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var response = await Table.GetEntityIfExistsAsync<WatchedOrder>(WatchedOrder.Partition, orderId, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>The resolved entry an order key (id or number) stands for, or null when none is.</summary>
    public virtual async Task<WatchedOrder?> FindResolvedAsync(string order, CancellationToken cancellationToken)
    {
        var key = Key(order);
        if (IsId(key) && await GetResolvedAsync(key, cancellationToken).ConfigureAwait(false) is { } byId) return byId;
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var alias = await Table.GetEntityIfExistsAsync<TableEntity>(WatchedOrder.AliasPartition, key, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return alias.HasValue && alias.Value!.GetString("OrderId") is { } id
            ? await GetResolvedAsync(id, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>An order's entry by id or number: pending, or resolved; null when it is not watched.</summary>
    public virtual async Task<WatchedOrder?> GetAsync(string order, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var key = Key(order);
        // Its pending partition and the earlier versions' one, at the same time.
        var reads = new[] { WatchedOrder.PendingPartitionOf(key), WatchedOrder.PendingPartition }
            .Select(p => Table.GetEntityIfExistsAsync<WatchedOrder>(p, key, cancellationToken: cancellationToken)).ToArray();
        foreach (var pending in await Task.WhenAll(reads).ConfigureAwait(false))
        {
            if (pending.HasValue) return pending.Value;
        }
        return await FindResolvedAsync(order, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts watching an order: one insert into its pending partition, which the next run resolves (an order watched
    /// already under this key or another one costs that run a point read or two, and no SPP call once its key is known).
    /// True when the key was not pending already.
    /// </summary>
    public virtual Task<bool> AddAsync(string order, string source, DateTimeOffset now, CancellationToken cancellationToken) =>
        TryInsertAsync(new WatchedOrder { PartitionKey = WatchedOrder.PendingPartitionOf(Key(order)), RowKey = Key(order), Source = source,
            AddedAt = now }, cancellationToken);

    /// <summary>Starts watching an order unless it is watched already (pending or resolved). True when it was not.</summary>
    public virtual async Task<bool> AddIfNewAsync(string order, string source, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await FindResolvedAsync(order, cancellationToken).ConfigureAwait(false) is not null) return false;
        return await AddAsync(order, source, now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops watching an order given by id or number (its pending and resolved entries). True when it was watched.</summary>
    public virtual async Task<bool> RemoveAsync(string order, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var key = Key(order);
        var spread = DeleteAsync(WatchedOrder.PendingPartitionOf(key), key, cancellationToken);
        var legacy = DeleteAsync(WatchedOrder.PendingPartition, key, cancellationToken);
        var removed = await spread.ConfigureAwait(false) | await legacy.ConfigureAwait(false);
        var alias = await Table.GetEntityIfExistsAsync<TableEntity>(WatchedOrder.AliasPartition, key, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (alias.HasValue && alias.Value!.GetString("OrderId") is { } id)
        {
            removed |= await DeleteAsync(WatchedOrder.Partition, id, cancellationToken).ConfigureAwait(false);
            await DeleteAsync(WatchedOrder.AliasPartition, key, cancellationToken).ConfigureAwait(false);
        }
        else if (IsId(key))
        {
            removed |= await DeleteAsync(WatchedOrder.Partition, key, cancellationToken).ConfigureAwait(false);
        }
        return removed;
    }

    /// <summary>Stops watching the order of an entry this run holds (and forgets its number). True when it was there.</summary>
    public virtual async Task<bool> RemoveEntryAsync(WatchedOrder entry, CancellationToken cancellationToken)
    {
        var removed = await DeleteAsync(entry.PartitionKey, entry.RowKey, cancellationToken).ConfigureAwait(false);
        if (!entry.IsPending && entry.Number is { } number && Key(number) != entry.RowKey)
        {
            await DeleteAsync(WatchedOrder.AliasPartition, Key(number), cancellationToken).ConfigureAwait(false);
        }
        return removed;
    }

    /// <summary>
    /// Moves a pending entry, now resolved (<see cref="WatchedOrder.OrderId"/> set, baselined), to the resolved partition
    /// under its id, remembers its key when that is not the id, and drops the pending row. True when the resolved row is
    /// new; false when the order was resolved already (under another key, or by an overlapping run): that row is kept.
    /// </summary>
    public virtual async Task<bool> ResolveAsync(WatchedOrder pending, CancellationToken cancellationToken)
    {
        var key = pending.RowKey;
        var id = pending.OrderId ?? throw new InvalidOperationException("Resolve an entry only once its order id is known.");
        var resolved = Copy(pending, WatchedOrder.Partition, id);
        bool added;
        try
        {
            var response = await Table.AddEntityAsync(resolved, cancellationToken).ConfigureAwait(false);
            resolved.ETag = response.Headers.ETag ?? default;
            added = true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            added = false;
        }
        if (key != id) await AddAliasAsync(key, id, cancellationToken).ConfigureAwait(false);
        if (pending.Number is { } number && Key(number) != id && Key(number) != key)
            await AddAliasAsync(Key(number), id, cancellationToken).ConfigureAwait(false);
        await DeleteAsync(pending.PartitionKey, key, cancellationToken).ConfigureAwait(false);
        pending.PartitionKey = WatchedOrder.Partition;
        pending.RowKey = id;
        pending.ETag = resolved.ETag;
        return added;
    }

    /// <summary>Drops a pending entry whose order is resolved already under <paramref name="orderId"/>, remembering its key.</summary>
    public virtual async Task DropPendingAsync(WatchedOrder pending, string? orderId, CancellationToken cancellationToken)
    {
        if (orderId is not null && pending.RowKey != orderId) await AddAliasAsync(pending.RowKey, orderId, cancellationToken).ConfigureAwait(false);
        await DeleteAsync(pending.PartitionKey, pending.RowKey, cancellationToken).ConfigureAwait(false);
    }

    private async Task AddAliasAsync(string key, string orderId, CancellationToken cancellationToken) =>
        await Table.UpsertEntityAsync(
            new TableEntity(WatchedOrder.AliasPartition, key) { ["OrderId"] = orderId }, TableUpdateMode.Replace, cancellationToken)
            .ConfigureAwait(false);

    private async Task<bool> DeleteAsync(string partition, string row, CancellationToken cancellationToken)
    {
        try
        {
            // The SDK answers a delete of a missing entity with its 404 response instead of throwing.
            var response = await Table.DeleteEntityAsync(partition, row, ETag.All, cancellationToken).ConfigureAwait(false);
            return response.Status != 404;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    private static WatchedOrder Copy(WatchedOrder e, string partition, string row) => new()
    {
        PartitionKey = partition, RowKey = row, OrderId = e.OrderId, Number = e.Number, Status = e.Status, LastMessageId = e.LastMessageId,
        LastMessageAt = e.LastMessageAt, Baselined = e.Baselined, Source = e.Source, AddedAt = e.AddedAt, CheckedAt = e.CheckedAt,
    };

    /// <summary>Replaces an entry by ETag; false when another run changed (or removed) it first.</summary>
    public virtual Task<bool> TryUpdateAsync(WatchedOrder entry, CancellationToken cancellationToken) => TryReplaceAsync(entry, cancellationToken);

    public virtual async Task<PollerState> GetStateAsync(CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var response = await Table.GetEntityIfExistsAsync<PollerState>("poller", "state", cancellationToken: cancellationToken).ConfigureAwait(false);
        // No state yet: layout 0, so the first run also migrates entries an older version may have added.
        return response.HasValue ? response.Value! : new PollerState();
    }

    /// <summary>Writes the state by ETag (inserting it the first time); false when another run wrote it first.</summary>
    public virtual Task<bool> TrySaveStateAsync(PollerState state, CancellationToken cancellationToken) =>
        state.ETag == default ? TryInsertAsync(state, cancellationToken) : TryReplaceAsync(state, cancellationToken);
}
