using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;
using SppFunctions.Events;
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
/// One action of one event or command. An event's records live in the event's partition of table <c>SppEvents</c>
/// (partition = event id, row = <see cref="EventStore.ActionRowPrefix"/> + the action's key), next to the event's row,
/// so that one transaction can write both; a command's in table <c>SppActions</c> (partition <c>cmd-{id}</c>, row = the
/// key), where earlier versions also kept events' records (read until they expire: docs/UPGRADING.md). Updated only
/// with its ETag, so two instances never both own it.
/// </summary>
public sealed class ActionRecord : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    /// <summary>The row key as stored: see <see cref="Key"/> for the action's key.</summary>
    public string RowKey { get; set; } = "";

    /// <summary>The action's key within its event or command (rule name and index, or <c>handler.{name}</c>).</summary>
    [IgnoreDataMember]
    public string Key => InEventPartition ? RowKey[EventStore.ActionRowPrefix.Length..] : RowKey;

    /// <summary>True for a record kept in its event's partition of <c>SppEvents</c>, false for one in <c>SppActions</c>.</summary>
    [IgnoreDataMember]
    public bool InEventPartition => RowKey.StartsWith(EventStore.ActionRowPrefix, StringComparison.Ordinal);

    /// <summary>A new record of action <paramref name="key"/>: in the event's partition for an event, in <c>SppActions</c> for a command.</summary>
    public static ActionRecord New(string scope, string key) =>
        new() { PartitionKey = scope, RowKey = EventIds.IsValid(scope) ? EventStore.ActionRowPrefix + key : key };

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

/// <summary>
/// Action records (an event's in its partition of <c>SppEvents</c>, a command's in <c>SppActions</c>), the transactions
/// that write an event's records together with its row (<see cref="EventWriteBatch"/>), and the list of messages this
/// app created (for loop prevention, in <c>SppActions</c>).
/// </summary>
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
    /// <summary>How much later than the newest event with records of the earlier layout an event may have been created and still have some.</summary>
    private static readonly TimeSpan LegacySlack = TimeSpan.FromDays(1);

    private readonly TableClient _events = null!;
    private readonly CreateOnce _createEvents = null!;
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly Once<bool> _legacyOwnMessages;
    /// <summary>How often the newest event with records of the earlier layout is looked up again.</summary>
    private static readonly TimeSpan LegacyRecheck = TimeSpan.FromMinutes(10);
    private (DateTimeOffset At, Task<DateTimeOffset?> Horizon)? _legacyCheck;

    protected ActionRecordStore()
    {
        _legacyOwnMessages = new(_ => AnyLegacyOwnMessageAsync());
    }

    public ActionRecordStore(TableServiceClient tables, StorageNames names)
        : this(tables, names, TimeProvider.System)
    {
    }

    public ActionRecordStore(TableServiceClient tables, StorageNames names, TimeProvider time)
        : base(tables, names.ActionsTable)
    {
        _time = time;
        _events = tables.GetTableClient(names.EventsTable);
        _createEvents = new CreateOnce(ct => _events.CreateIfNotExistsAsync(ct));
        _legacyOwnMessages = new(_ => AnyLegacyOwnMessageAsync());
    }

    /// <summary>The partition of a message's own-message entry: one of 100, so no single partition takes every write.</summary>
    public static string OwnMessagePartition(long messageId) =>
        OwnMessagesPrefix + (Math.Abs(messageId % OwnMessagePartitions)).ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The record of an action, or null: in the event's partition (or, for an event old enough, where an earlier version
    /// kept it), or a command's.
    /// </summary>
    public virtual async Task<ActionRecord?> GetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        var record = ActionRecord.New(scope, key);
        if (record.InEventPartition)
        {
            await _createEvents.EnsureAsync(cancellationToken).ConfigureAwait(false);
            var found = await _events.GetEntityIfExistsAsync<ActionRecord>(scope, record.RowKey,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            if (found.HasValue) return found.Value;
            if (!await MayHaveLegacyRecordsAsync(scope, cancellationToken).ConfigureAwait(false)) return null;
        }
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var response = await Table.GetEntityIfExistsAsync<ActionRecord>(scope, key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>Every action record of an event (both layouts while the earlier one may hold some) or command.</summary>
    public virtual async Task<IReadOnlyList<ActionRecord>> ListAsync(string scope, CancellationToken cancellationToken)
    {
        var list = new List<ActionRecord>();
        if (EventIds.IsValid(scope))
        {
            await _createEvents.EnsureAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var r in _events.QueryAsync<ActionRecord>(ActionRowsOf(scope),
                cancellationToken: cancellationToken).ConfigureAwait(false)) list.Add(r);
            if (!await MayHaveLegacyRecordsAsync(scope, cancellationToken).ConfigureAwait(false)) return list;
        }
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var r in Table.QueryAsync<ActionRecord>(x => x.PartitionKey == scope,
            cancellationToken: cancellationToken).ConfigureAwait(false)) list.Add(r);
        return list;
    }

    /// <summary>The action rows of an event's partition (the event's own row sorts before them).</summary>
    private static string ActionRowsOf(string scope) => TableClient.CreateQueryFilter(
        $"PartitionKey eq {scope} and RowKey ge {EventStore.ActionRowPrefix} and RowKey lt {EventStore.ActionRowEnd}");

    /// <summary>Inserts a new record; false when another attempt inserted it first.</summary>
    public virtual async Task<bool> TryAddAsync(ActionRecord record, CancellationToken cancellationToken)
    {
        if (!record.InEventPartition) return await TryInsertAsync(record, cancellationToken).ConfigureAwait(false);
        await _createEvents.EnsureAsync(cancellationToken).ConfigureAwait(false);
        return await TryInsertAsync(_events, record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replaces a record if unchanged since read; false when another attempt changed it first.</summary>
    public virtual Task<bool> TryUpdateAsync(ActionRecord record, CancellationToken cancellationToken) =>
        TryReplaceAsync(record.InEventPartition ? _events : Table, record, cancellationToken);

    /// <summary>
    /// Writes the batch's pending writes together with <paramref name="claim"/> (inserted when it has no ETag, else
    /// replaced by it) and/or <paramref name="row"/> (the event row's next state, in place of the pending "processing"
    /// one: replaces the row, by its ETag when it has one) in one entity-group transaction; the pending row alone is
    /// merged over the publisher's. True when it went (ETags set, the batch emptied). False when it met a conflict (a
    /// row changed, missing or already there) or the row is outside the event's partition: then nothing of it was
    /// written and the batch still holds its writes, for <see cref="FlushAsync"/>.
    /// </summary>
    public virtual async Task<bool> TryCommitAsync(EventWriteBatch batch, ActionRecord? claim, EventEntry? row, CancellationToken cancellationToken)
    {
        if (claim is not null && !batch.CanHold(claim)) throw new ArgumentException($"Record {claim.RowKey} is not of this event.", nameof(claim));
        // The pending "processing" row is merged over the publisher's (its fields stay); a final state replaces the row.
        var merge = row is null;
        row ??= batch.Row;
        // A row that is not in the event's own partition (an earlier version's day partition) cannot join: write alone.
        if (row is not null && (row.PartitionKey != batch.EventId || row.RowKey != batch.EventId)) return false;
        var entities = new List<ITableEntity>();
        var actions = new List<TableTransactionAction>();
        if (row is not null)
        {
            entities.Add(row);
            actions.Add(new(merge ? TableTransactionActionType.UpdateMerge : TableTransactionActionType.UpdateReplace, row,
                row.ETag == default ? ETag.All : row.ETag));
        }
        foreach (var record in claim is null ? batch.Records : batch.Records.Append(claim))
        {
            entities.Add(record);
            actions.Add(record.ETag == default ? new(TableTransactionActionType.Add, record)
                : new(TableTransactionActionType.UpdateReplace, record, record.ETag));
        }
        if (actions.Count == 0) return true;
        await _createEvents.EnsureAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (actions.Count == 1)
            {
                // One write needs no transaction: the plain request is the same write, without the batch envelope.
                entities[0].ETag = await WriteAsync(actions[0], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var responses = (await _events.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false)).Value;
                for (var i = 0; i < entities.Count; i++) entities[i].ETag = i < responses.Count ? responses[i].Headers.ETag ?? default : default;
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 400 or 404 or 409 or 412)
        {
            return false; // the transaction did nothing (e.g. the row is not there yet, or another attempt wrote first)
        }
        batch.Committed(row);
        return true;
    }

    /// <summary>One write of a transaction as a plain request (typed, so the entity is serialized as what it is).</summary>
    private Task<ETag> WriteAsync(TableTransactionAction action, CancellationToken cancellationToken) => action.Entity switch
    {
        EventEntry row => WriteAsync(row, action, cancellationToken),
        ActionRecord record => WriteAsync(record, action, cancellationToken),
        _ => throw new ArgumentException($"Not a row of an event's partition: {action.Entity.GetType().Name}.", nameof(action)),
    };

    private async Task<ETag> WriteAsync<T>(T entity, TableTransactionAction action, CancellationToken cancellationToken) where T : ITableEntity
    {
        var response = action.ActionType switch
        {
            TableTransactionActionType.Add => await _events.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false),
            TableTransactionActionType.UpdateMerge => await _events.UpdateEntityAsync(entity, action.ETag, TableUpdateMode.Merge,
                cancellationToken).ConfigureAwait(false),
            _ => await _events.UpdateEntityAsync(entity, action.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false),
        };
        return response.Headers.ETag ?? default;
    }

    /// <summary>
    /// Writes the batch's pending writes one by one, as they would have been written without it: the row first, then
    /// each record by its ETag (one that another attempt took over meanwhile stays theirs, as a lone write would).
    /// Returns the records that were not written for that reason.
    /// </summary>
    public virtual async Task<IReadOnlyList<ActionRecord>> FlushAsync(EventWriteBatch? batch, CancellationToken cancellationToken)
    {
        if (batch is null || batch.IsEmpty) return [];
        await batch.WriteRowAloneAsync(cancellationToken).ConfigureAwait(false);
        var takenOver = new List<ActionRecord>();
        foreach (var record in batch.Records.ToArray())
        {
            if (!await TryUpdateAsync(record, cancellationToken).ConfigureAwait(false)) takenOver.Add(record);
            batch.Written(record);
        }
        return takenOver;
    }

    /// <summary>
    /// True when an event may have records where earlier versions kept them (<c>SppActions</c>): it was created no later
    /// than a day after the newest event that has records there. That newest event is looked up again every 10 minutes
    /// (about 33 one-row queries while there are such records, one when there are none), so records an instance of an
    /// earlier version still writes during a rolling deployment are found too.
    /// </summary>
    public virtual async Task<bool> MayHaveLegacyRecordsAsync(string eventId, CancellationToken cancellationToken)
    {
        if (!EventIds.IsValid(eventId)) return false;
        var check = _legacyCheck;
        var now = _time.GetUtcNow();
        if (check is null || now - check.Value.At > LegacyRecheck || check.Value.Horizon.IsFaulted)
        {
            check = (now, FindLegacyHorizonAsync());
            _legacyCheck = check;
        }
        var horizon = await check.Value.Horizon.WaitAsync(cancellationToken).ConfigureAwait(false);
        return horizon is { } h && EventIds.CreatedOf(eventId) < h;
    }

    /// <summary>
    /// The creation time of the newest event with records in <c>SppActions</c>, plus a day, or null when there is none:
    /// a binary search over the ten digits of time event ids begin with (partition keys sort by them).
    /// </summary>
    private async Task<DateTimeOffset?> FindLegacyHorizonAsync()
    {
        await EnsureTableAsync(CancellationToken.None).ConfigureAwait(false);
        if (await FirstLegacyScopeFromAsync(0).ConfigureAwait(false) is not { } first) return null;
        var lo = first; // a time with records at or after it
        var hi = 10_000_000_000L; // past every ten-digit time (not "now": an event's time is SPP's, and clocks differ)
        while (hi - lo > 1)
        {
            var mid = lo + (hi - lo) / 2;
            if (await FirstLegacyScopeFromAsync(mid).ConfigureAwait(false) is { } found) lo = found;
            else hi = mid;
        }
        return DateTimeOffset.FromUnixTimeSeconds(lo) + LegacySlack;
    }

    /// <summary>The time of the first event at or after <paramref name="seconds"/> that has records in <c>SppActions</c>, or null.</summary>
    private async Task<long?> FirstLegacyScopeFromAsync(long seconds)
    {
        // Event ids begin with ten digits; command scopes ("cmd-…") and own-message partitions ("own…") with letters.
        var from = Math.Clamp(seconds, 0, 9_999_999_999).ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {from} and PartitionKey lt {":"}");
        await foreach (var page in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: PartitionColumns,
            cancellationToken: CancellationToken.None).AsPages().ConfigureAwait(false))
        {
            foreach (var row in page.Values)
            {
                return EventIds.IsValid(row.PartitionKey) ? EventIds.CreatedOf(row.PartitionKey).ToUnixTimeSeconds() : null;
            }
            if (page.ContinuationToken is null) break;
        }
        return null;
    }

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

    /// <summary>
    /// Keys of the records of events created before <paramref name="before"/>, partition by partition (one key range):
    /// those of the earlier layout (<c>SppActions</c>) first, then those in the events' partitions of <c>SppEvents</c>.
    /// </summary>
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
        await _createEvents.EnsureAsync(cancellationToken).ConfigureAwait(false);
        filter = TableClient.CreateQueryFilter(
            $"PartitionKey lt {bound} and RowKey ge {EventStore.ActionRowPrefix} and RowKey lt {EventStore.ActionRowEnd}");
        await foreach (var row in _events.QueryAsync<TableEntity>(filter, select: PartitionRowColumns,
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
        var rows = new List<TableEntity>();
        if (EventIds.IsValid(scope))
        {
            await _createEvents.EnsureAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var row in _events.QueryAsync<TableEntity>(ActionRowsOf(scope), select: PartitionRowColumns,
                cancellationToken: cancellationToken).ConfigureAwait(false)) rows.Add(row);
        }
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var row in Table.QueryAsync<TableEntity>(x => x.PartitionKey == scope, select: PartitionRowColumns,
            cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }
        var ordered = rows.OrderBy(r => r.RowKey == CommandLogRow && scope.StartsWith(CommandPrefix,
            StringComparison.Ordinal)).Take(maxRows).ToList();
        return await DeleteAsync(ordered, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the given records (keys as read, of either table: an event's records in <c>SppEvents</c> have the action
    /// row prefix) in transactions of up to 100 rows of one scope; returns how many went.
    /// </summary>
    public virtual async Task<int> DeleteAsync(IEnumerable<TableEntity> rows, CancellationToken cancellationToken)
    {
        var list = rows.ToList();
        var inEvents = list.Where(r => r.RowKey.StartsWith(EventStore.ActionRowPrefix, StringComparison.Ordinal)
            && EventIds.IsValid(r.PartitionKey)).ToList();
        var deleted = 0;
        if (inEvents.Count > 0) deleted += (await DeleteRowsAsync(_events, inEvents, cancellationToken).ConfigureAwait(false)).Count;
        if (inEvents.Count < list.Count) deleted += (await DeleteRowsAsync(list.Except(inEvents), cancellationToken).ConfigureAwait(false)).Count;
        return deleted;
    }

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
