using Azure;
using Azure.Data.Tables;
using SppFunctions.Storage;

namespace SppFunctions.Processing.Actions;

/// <summary>States of an action record.</summary>
public static class ActionStatus
{
    /// <summary>Claimed by an attempt (see <see cref="ActionRecord.LeaseUntil"/>), or released after a failure that may be retried.</summary>
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    /// <summary>The target may or may not have acted and there is no way to tell: not repeated automatically.</summary>
    public const string Unknown = "unknown";
}

/// <summary>
/// One action of one event or command (table <c>SppActions</c>): partition = event id (or <c>cmd-{id}</c>),
/// row = the action's key within it. Updated only with its ETag, so two instances never both own it.
/// </summary>
public sealed class ActionRecord : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Type { get; set; } = "";
    public string? Description { get; set; }
    public string Status { get; set; } = ActionStatus.Pending;
    public int Attempts { get; set; }
    /// <summary>The replay generation the record belongs to; a replay with a higher one may retry a failed action.</summary>
    public int Generation { get; set; }
    /// <summary>True from just before the call until its outcome is known: an attempt that finds it set must reconcile first.</summary>
    public bool MayHaveActed { get; set; }
    public string? Owner { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    /// <summary>When the attempt that may have acted started (reconciliation looks for its effect from then on).</summary>
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>What the action produced, e.g. the id of the created message.</summary>
    public string? Result { get; set; }
    /// <summary>A rule step's output (<c>{status, headers, body}</c> as JSON) when it has an id and the output is small.</summary>
    public string? Output { get; set; }
    /// <summary>The payload blob holding a larger step output.</summary>
    public string? OutputBlob { get; set; }
    /// <summary>Why a succeeded step's output was not kept (over <c>Processing__MaxStepOutputBytes</c>).</summary>
    public string? OutputError { get; set; }
    public string? Error { get; set; }
}

/// <summary>Action records and the list of messages this app created (for loop prevention).</summary>
public class ActionRecordStore : TableStore
{
    private static readonly string[] PartitionColumns = ["PartitionKey"];
    private static readonly string[] PartitionRowColumns = ["PartitionKey", "RowKey"];
    private static readonly string[] PartitionEventIdColumns = ["PartitionKey", "EventId"];
    private static readonly string[] PartitionRowScopeColumns = ["PartitionKey", "RowKey", "Scope"];
    /// <summary>The one partition earlier versions kept every own-message entry in (read until housekeeping empties it).</summary>
    internal const string LegacyOwnMessagesPartition = "own-messages";
    /// <summary>Entries are spread over <c>own-00</c> … <c>own-99</c> (SPP's message id modulo 100, ids are sequential).</summary>
    private const string OwnMessagesPrefix = "own-";
    private const int OwnMessagePartitions = 100;
    private const string CommandPrefix = "cmd-";
    private const string CommandLogRow = "log";

    private readonly Once<bool> _legacyOwnMessages;

    protected ActionRecordStore() => _legacyOwnMessages = new(_ => AnyLegacyOwnMessageAsync());

    public ActionRecordStore(TableServiceClient tables, StorageNames names)
        : base(tables, names.ActionsTable) => _legacyOwnMessages = new(_ => AnyLegacyOwnMessageAsync());

    /// <summary>The partition of a message's own-message entry: one of 100, so no single partition takes every write.</summary>
    public static string OwnMessagePartition(long messageId) =>
        OwnMessagesPrefix + (Math.Abs(messageId % OwnMessagePartitions)).ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    public virtual async Task<ActionRecord?> GetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var response = await Table.GetEntityIfExistsAsync<ActionRecord>(scope, key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>Every action record of an event or command.</summary>
    public virtual async Task<IReadOnlyList<ActionRecord>> ListAsync(string scope, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<ActionRecord>();
        await foreach (var r in Table.QueryAsync<ActionRecord>(x => x.PartitionKey == scope,
            cancellationToken: cancellationToken).ConfigureAwait(false)) list.Add(r);
        return list;
    }

    /// <summary>Inserts a new record; false when another attempt inserted it first.</summary>
    public virtual Task<bool> TryAddAsync(ActionRecord record, CancellationToken cancellationToken) => TryInsertAsync(record, cancellationToken);

    /// <summary>Replaces a record if unchanged since read; false when another attempt changed it first.</summary>
    public virtual Task<bool> TryUpdateAsync(ActionRecord record, CancellationToken cancellationToken) => TryReplaceAsync(record, cancellationToken);

    /// <summary>
    /// The event-log id of a command: the one recorded when the command was first seen, so every later delivery, its
    /// poison-queue copy and its replay share one log row.
    /// </summary>
    public virtual async Task<string> GetOrAddCommandLogIdAsync(string commandId, string candidate, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var key = $"cmd-{commandId}";
        var existing = await Table.GetEntityIfExistsAsync<TableEntity>(key, "log", cancellationToken: cancellationToken).ConfigureAwait(false);
        if (existing.HasValue) return existing.Value!.GetString("EventId");
        try
        {
            await Table.AddEntityAsync(new TableEntity(key, "log") { ["EventId"] = candidate }, cancellationToken).ConfigureAwait(false);
            return candidate;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return (await Table.GetEntityAsync<TableEntity>(key, "log",
                cancellationToken: cancellationToken).ConfigureAwait(false)).Value.GetString("EventId");
        }
    }

    /// <summary>Remembers a message this app created.</summary>
    public virtual async Task AddOwnMessageAsync(long messageId, string scope, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var entity = new TableEntity(OwnMessagePartition(messageId),
            messageId.ToString(System.Globalization.CultureInfo.InvariantCulture)) { ["Scope"] = scope };
        await Table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// True when this app created the message: one point read, and a second one at the same time in the partition of
    /// earlier versions while that still has entries (checked once per process; no version writes there any more).
    /// </summary>
    public virtual async Task<bool> IsOwnMessageAsync(string messageId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        if (!long.TryParse(messageId, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var id))
        {
            return false; // SPP's message ids are numbers, and only those are recorded
        }
        var spread = ExistsAsync(OwnMessagePartition(id), messageId, cancellationToken);
        var legacy = await HasLegacyOwnMessagesAsync(cancellationToken).ConfigureAwait(false)
            ? ExistsAsync(LegacyOwnMessagesPartition, messageId, cancellationToken)
            : Task.FromResult(false);
        return await spread.ConfigureAwait(false) | await legacy.ConfigureAwait(false);
    }

    private async Task<bool> ExistsAsync(string partition, string row, CancellationToken cancellationToken)
    {
        var response = await Table.GetEntityIfExistsAsync<TableEntity>(partition, row, select: PartitionColumns, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return response.HasValue;
    }

    private Task<bool> HasLegacyOwnMessagesAsync(CancellationToken cancellationToken) => _legacyOwnMessages.GetAsync(cancellationToken);

    private async Task<bool> AnyLegacyOwnMessageAsync()
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LegacyOwnMessagesPartition}");
        await foreach (var _ in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: PartitionColumns,
            cancellationToken: CancellationToken.None).ConfigureAwait(false)) return true;
        return false;
    }

    // ─── Housekeeping ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
    // Event scopes are event ids, which begin with the event's created time (10 digits), so one PartitionKey range
    // finds the records of old events; command scopes ("cmd-…") and the own-message partitions ("own-…") sort after every digit.

    /// <summary>Keys of the records of events created before <paramref name="before"/>, partition by partition (one key range).</summary>
    public virtual async IAsyncEnumerable<TableEntity> QueryEventRecordsCreatedBeforeAsync(
        DateTimeOffset before, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var bound = Math.Clamp(before.ToUnixTimeSeconds(), 0, 9_999_999_999).ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey lt {bound}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: PartitionRowColumns,
            cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    /// <summary>Every command's bookkeeping row: its scope (<c>cmd-{id}</c>) and the event-log id of the command.</summary>
    public virtual async IAsyncEnumerable<(string Scope, string EventId)> QueryCommandLogsAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        // "cmd." is the first key after every "cmd-…" ('.' follows '-').
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {CommandPrefix} and PartitionKey lt {"cmd."} and RowKey eq {CommandLogRow}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: PartitionEventIdColumns,
            cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return (row.PartitionKey, row.GetString("EventId") ?? "");
        }
    }

    /// <summary>
    /// Deletes every record of a scope (event or command), up to <paramref name="maxRows"/>; a command's log row goes
    /// last, so a scope cut short is found again by <see cref="QueryCommandLogsAsync"/>. Returns how many rows went.
    /// </summary>
    public virtual async Task<int> DeleteScopeAsync(string scope, int maxRows, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<TableEntity>();
        await foreach (var row in Table.QueryAsync<TableEntity>(x => x.PartitionKey == scope, select: PartitionRowColumns,
            cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }
        var ordered = rows.OrderBy(r => r.RowKey == CommandLogRow && scope.StartsWith(CommandPrefix,
            StringComparison.Ordinal)).Take(maxRows).ToList();
        return (await DeleteRowsAsync(ordered, cancellationToken).ConfigureAwait(false)).Count;
    }

    /// <summary>Deletes the given records (keys as read) in transactions of up to 100 rows of one scope; returns how many went.</summary>
    public virtual async Task<int> DeleteAsync(IEnumerable<TableEntity> rows, CancellationToken cancellationToken) =>
        (await DeleteRowsAsync(rows, cancellationToken).ConfigureAwait(false)).Count;

    /// <summary>The list of messages this app created: message id (row) and the scope that created it, from every own-message partition (one key
    /// range, the earlier versions' one included).</summary>
    public virtual async IAsyncEnumerable<TableEntity> QueryOwnMessagesAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var row in Table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey ge {OwnMessagesPrefix} and PartitionKey lt {"own."}"), // '.' follows '-'
            select: PartitionRowScopeColumns, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }
}
