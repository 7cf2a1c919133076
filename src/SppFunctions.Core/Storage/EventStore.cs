using Azure;
using Azure.Data.Tables;
using SppFunctions.Events;

namespace SppFunctions.Storage;

/// <summary>Where an event is in its life.</summary>
public static class EventStatus
{
    public const string Received = "received";
    public const string Processing = "processing";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public static readonly IReadOnlyList<string> All = new[] { Received, Processing, Succeeded, Failed };
}

/// <summary>
/// One row of the event log (table <c>SppEvents</c>): partition = row = the event id (which begins with its SPP time, so
/// time ranges are key ranges and no partition takes every event's writes). Earlier versions used the event's UTC day
/// as the partition (<see cref="EventIds.Partition"/>): such rows are read until they expire (docs/UPGRADING.md).
/// The payload itself is not copied here: it lives in the queue message or the claim-check blob.
/// </summary>
public sealed class EventEntry : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Id => RowKey;
    public string EventName { get; set; } = "";
    public string Topic { get; set; } = "";
    /// <summary>webhook, poller, command or replay.</summary>
    public string Source { get; set; } = "";
    public string Status { get; set; } = EventStatus.Received;
    public DateTimeOffset ReceivedAt { get; set; }
    /// <summary>SPP's <c>created</c> time.</summary>
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary><c>data.id</c> of the payload, when it has one.</summary>
    public string? DataId { get; set; }
    public long Size { get; set; }
    /// <summary>Claim-check blob name when the payload was too large for a queue message.</summary>
    public string? PayloadBlob { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>Times the event was re-enqueued by a replay.</summary>
    public int Replays { get; set; }
    /// <summary>
    /// The queue message id of the delivery that queued the event. The publisher inserts the row only after its message
    /// is queued, and names the message here, so a row that has it is the proof the event was queued. Rows written by
    /// versions before that (the upgrade's "legacy" rows) have none: see <see cref="IsLegacyUnqueued"/>.
    /// </summary>
    public string? QueuedMessage { get; set; }

    /// <summary>
    /// True for a "received" row an earlier version wrote before its message was queued (it kept a dedupe record in
    /// <c>SppDedupe</c> as the proof instead): such a row alone does not say the event was queued.
    /// </summary>
    public bool IsLegacyUnqueued => Status == EventStatus.Received && QueuedMessage is null && Replays == 0;

    /// <summary>
    /// True when the row holds the outcome (succeeded or failed) of replay generation <paramref name="replay"/> or a
    /// later one. Another delivery of that generation (a duplicate message, or one that has to retry later) must not
    /// move it back to processing: it would hide the outcome, and a poison-queue copy would then mark a succeeded event
    /// failed. A delivery that finishes records its own outcome, which can only agree (or turn a given-up event into a
    /// succeeded one).
    /// </summary>
    public bool IsSettled(int replay) => Status is EventStatus.Succeeded or EventStatus.Failed && Replays >= replay;

    /// <summary>A shallow copy (every field is a value or an immutable string), ETag included.</summary>
    public EventEntry Copy() => (EventEntry)MemberwiseClone();
}

/// <summary>The events table: one row per event (its status and where its payload is), read by the CLI, replay and housekeeping.</summary>
public class EventStore : TableStore
{
    /// <summary>
    /// Row keys of the action records kept in an event's partition begin with this (<c>Processing.Actions.ActionRecord</c>).
    /// An event's own row key is its id, which begins with a digit, so it sorts before them and queries of event rows
    /// take the keys below it (<see cref="EventRowsOnly"/>).
    /// </summary>
    public const string ActionRowPrefix = "action:";
    /// <summary>The first key after every action row key (';' follows ':').</summary>
    public const string ActionRowEnd = "action;";
    /// <summary>A filter that keeps the events' own rows of a query over the table (not the action records beside them).</summary>
    private static readonly string EventRowsOnly = TableClient.CreateQueryFilter($"RowKey lt {ActionRowPrefix}");

    /// <summary>
    /// Legacy day partitions are eight digits from 19700101 on; new partitions (event ids) begin with ten digits of
    /// Unix time, below "1970…" until 2032, so the two kinds are separate key ranges.
    /// </summary>
    private const string LegacyFirst = "19700101";
    private static readonly string[] PartitionColumns = ["PartitionKey"];
    private const string LegacyEnd = "30000000";
    /// <summary>How much later than the newest legacy day an event may have been created and still have a legacy row.</summary>
    private static readonly TimeSpan LegacySlack = TimeSpan.FromDays(1);

    private readonly TimeProvider _time;
    private readonly Once<DateTimeOffset?> _legacyHorizon;

    /// <summary>For mocking.</summary>
    protected EventStore()
    {
        _time = TimeProvider.System;
        _legacyHorizon = new(_ => FindLegacyHorizonAsync());
    }

    public EventStore(TableServiceClient tables, StorageNames names)
        : this(tables, names, TimeProvider.System)
    {
    }

    public EventStore(TableServiceClient tables, StorageNames names, TimeProvider time)
        : base(tables, names.EventsTable)
    {
        _time = time;
        _legacyHorizon = new(_ => FindLegacyHorizonAsync());
    }

    /// <summary>The partition of an event's row: its id.</summary>
    public static string PartitionOf(string id) => id;

    /// <summary>Inserts the row of a newly received event; returns its ETag, or null when the event has a row already.</summary>
    public virtual async Task<ETag?> TryAddReceivedAsync(EventEntry entry, CancellationToken cancellationToken)
    {
        entry.PartitionKey = PartitionOf(entry.RowKey);
        return await TryInsertAsync(entry, cancellationToken).ConfigureAwait(false) ? entry.ETag : null;
    }

    /// <summary>
    /// Writes the fields of <paramref name="entry"/> over the event's existing row whatever its ETag (a merge: fields it
    /// does not set stay). Returns the new ETag, or null when the event has no row (yet).
    /// </summary>
    public virtual async Task<ETag?> TryMergeExistingAsync(EventEntry entry, CancellationToken cancellationToken)
    {
        entry.PartitionKey = PartitionOf(entry.RowKey);
        try
        {
            var response = await Table.UpdateEntityAsync(entry, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            entry.ETag = response.Headers.ETag ?? default;
            return entry.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Deletes the event's row if the delivery that queued <paramref name="messageId"/> wrote it (and it is unchanged since).</summary>
    public virtual async Task DeleteIfQueuedByAsync(string id, string messageId, CancellationToken cancellationToken)
    {
        var existing = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (existing?.QueuedMessage != messageId) return;
        await DeleteIfUnchangedAsync(existing, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replaces a row if unchanged since read (its ETag); false when another writer changed or removed it.</summary>
    public virtual Task<bool> TryUpdateAsync(EventEntry entry, CancellationToken cancellationToken) => TryReplaceAsync(entry, cancellationToken);

    /// <summary>The row of an event, or null: its own partition, else (for an event old enough) the legacy day partition.</summary>
    public virtual async Task<EventEntry?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!EventIds.IsValid(id)) return null;
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var response = await Table.GetEntityIfExistsAsync<EventEntry>(PartitionOf(id), id,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.HasValue) return response.Value;
        return await GetLegacyAsync(id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The row an earlier version wrote for the event (legacy day partition), or null; no read when it cannot have one.</summary>
    public virtual async Task<EventEntry?> GetLegacyAsync(string id, CancellationToken cancellationToken)
    {
        if (!EventIds.IsValid(id) || !await MayHaveLegacyRowAsync(id, cancellationToken).ConfigureAwait(false)) return null;
        var response = await Table.GetEntityIfExistsAsync<EventEntry>(EventIds.Partition(id), id,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>
    /// True when the event may have a row of the earlier layout: the table had legacy rows when this process first
    /// looked, and the event was created no later than a day after the newest of them.
    /// </summary>
    public virtual async Task<bool> MayHaveLegacyRowAsync(string id, CancellationToken cancellationToken) =>
        await _legacyHorizon.GetAsync(cancellationToken).ConfigureAwait(false) is { } h && EventIds.CreatedOf(id) < h;

    /// <summary>
    /// The end of the newest legacy day partition plus a slack, or null when there is none: a binary search over days
    /// with one-row range queries (about 16 of them, once per process, none at all without legacy rows).
    /// </summary>
    private async Task<DateTimeOffset?> FindLegacyHorizonAsync()
    {
        await EnsureTableAsync(CancellationToken.None).ConfigureAwait(false);
        var first = await FirstLegacyDayAtOrAfterAsync(LegacyFirst).ConfigureAwait(false);
        if (first is null) return null;
        var lo = first.Value; // a day with a row
        var hi = _time.GetUtcNow().UtcDateTime.Date.AddDays(2); // no day from here on has one (written before now)
        while ((hi - lo).TotalDays > 1)
        {
            var mid = lo.AddDays(Math.Floor((hi - lo).TotalDays / 2));
            if (await FirstLegacyDayAtOrAfterAsync(EventIds.PartitionOf(mid)).ConfigureAwait(false) is { } found) lo = found;
            else hi = mid;
        }
        return new DateTimeOffset(lo.AddDays(1), TimeSpan.Zero) + LegacySlack;
    }

    private async Task<DateTime?> FirstLegacyDayAtOrAfterAsync(string day)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {day} and PartitionKey lt {LegacyEnd}");
        await foreach (var page in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: PartitionColumns,
            cancellationToken: CancellationToken.None).AsPages().ConfigureAwait(false))
        {
            foreach (var row in page.Values)
            {
                // From mid-2032 on, event ids (ten digits of Unix time) sort into this range too: a key that is not a day
                // is not a legacy row, and by then none is left.
                return DateTime.TryParseExact(row.PartitionKey, "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var legacyDay)
                    ? legacyDay
                    : null;
            }
            if (page.ContinuationToken is null) break;
        }
        return null;
    }

    /// <summary>Replaces a row if it has not changed since it was read (ETag); throws 412 otherwise.</summary>
    public virtual async Task<ETag> UpdateAsync(EventEntry entry, CancellationToken cancellationToken)
    {
        var response = await Table.UpdateEntityAsync(entry, entry.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        entry.ETag = response.Headers.ETag ?? default;
        return entry.ETag;
    }

    /// <summary>
    /// Read-modify-write of an event's row with ETag concurrency (retried when another instance wrote in between).
    /// <paramref name="change"/> gets the current row (null when there is none) and returns the row to write, or null
    /// to leave it as it is. With <paramref name="known"/> (the whole row as last written, with its ETag) the first
    /// attempt skips the read; if the row changed since, the ETag check fails and the row is read and changed again.
    /// </summary>
    public virtual async Task<EventEntry?> TransitionAsync(string id, Func<EventEntry?, EventEntry?> change, CancellationToken cancellationToken,
        EventEntry? known = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = attempt == 0 && known is { } k && k.ETag != default ? k : await GetAsync(id, cancellationToken).ConfigureAwait(false);
            var next = change(current);
            if (next is null) return current;
            next.RowKey = id;
            next.PartitionKey = current?.PartitionKey ?? PartitionOf(id); // a legacy row stays where it is
            try
            {
                if (current is null)
                {
                    var added = await Table.AddEntityAsync(next, cancellationToken).ConfigureAwait(false);
                    next.ETag = added.Headers.ETag ?? default;
                }
                else
                {
                    next.ETag = current.ETag;
                    await UpdateAsync(next, cancellationToken).ConfigureAwait(false);
                }
                return next;
            }
            catch (RequestFailedException ex) when ((ex.Status is 409 or 412 || ex.Status == 404 && attempt == 0 && known is not null)
                && attempt < 10)
            {
                // Someone else wrote (or removed) the row since we read it: read again and reapply.
            }
        }
    }

    /// <summary>Deletes a row only if it is unchanged (used to roll back an intake that could not finish).</summary>
    public virtual async Task DeleteIfUnchangedAsync(EventEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(entry.PartitionKey, entry.RowKey, entry.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Gone already, or processing moved it on: keep what is there.
        }
    }

    /// <summary>Rows of events created before <paramref name="time"/>: ids below its bound, legacy days before its day.</summary>
    private static string CreatedBefore(DateTimeOffset time) => TableClient.CreateQueryFilter(
        $"PartitionKey lt {IdBound(time)} or (PartitionKey ge {LegacyFirst} and PartitionKey lt {EventIds.PartitionOf(time)})");

    /// <summary>The smallest id of an event created at <paramref name="time"/> (ids begin with ten digits of Unix time).</summary>
    private static string IdBound(DateTimeOffset time) =>
        Math.Clamp(time.ToUnixTimeSeconds(), 0, 9_999_999_999).ToString("D10", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Events by status and/or name whose SPP time falls in [from, until), oldest first (legacy rows after the others).</summary>
    public virtual async IAsyncEnumerable<EventEntry> QueryAsync(
        string? status = null, string? eventName = null, DateTimeOffset? from = null, DateTimeOffset? until = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var filters = new List<string>();
        // Key ranges of both layouts (ids begin with the time, legacy partitions are days); CreatedAt decides exactly.
        if (from is { } f)
        {
            filters.Add(TableClient.CreateQueryFilter(
                $"(PartitionKey ge {IdBound(f)} or PartitionKey ge {EventIds.PartitionOf(f)}) and CreatedAt ge {f}"));
        }
        if (until is { } t)
        {
            var legacyDay = EventIds.PartitionOf(t);
            filters.Add(TableClient.CreateQueryFilter(
                $"(PartitionKey lt {IdBound(t)} or (PartitionKey ge {LegacyFirst} and PartitionKey le {legacyDay})) and CreatedAt lt {t}"));
        }
        if (status is not null) filters.Add(TableClient.CreateQueryFilter($"Status eq {status}"));
        if (eventName is not null) filters.Add(TableClient.CreateQueryFilter($"EventName eq {eventName}"));
        filters.Add(EventRowsOnly);
        var filter = string.Join(" and ", filters.Select(x => $"({x})"));
        await foreach (var entry in Table.QueryAsync<EventEntry>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    /// <summary>
    /// Rows that may have outlived their retention, found by PartitionKey ranges (event ids begin with the time; legacy
    /// rows are in day partitions): succeeded events created before <paramref name="succeededBefore"/>, and events of any
    /// status created before <paramref name="anyBefore"/> (legacy rows: the days before those times' days). Only the keys, status and times are read.
    /// </summary>
    public virtual async IAsyncEnumerable<EventEntry> QueryRetentionCandidatesAsync(
        DateTimeOffset succeededBefore, DateTimeOffset anyBefore,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var filter = $"(({TableClient.CreateQueryFilter($"Status eq {EventStatus.Succeeded}")} and ({CreatedBefore(succeededBefore)}))"
            + $" or {CreatedBefore(anyBefore)}) and {EventRowsOnly}";
        var select = new[]
        {
            "PartitionKey", "RowKey", nameof(EventEntry.Status), nameof(EventEntry.Source), nameof(EventEntry.CreatedAt),
            nameof(EventEntry.ReceivedAt), nameof(EventEntry.UpdatedAt), nameof(EventEntry.CompletedAt),
        };
        await foreach (var entry in Table.QueryAsync<EventEntry>(filter, select: select, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    /// <summary>
    /// Deletes rows that are unchanged since they were read (their ETag), each its own partition (a legacy day's rows in transactions of up to 100);
    /// returns the rows deleted. A row another writer changed meanwhile (e.g. a replay) stays.
    /// </summary>
    public virtual Task<IReadOnlyList<EventEntry>> DeleteUnchangedAsync(IEnumerable<EventEntry> entries, CancellationToken cancellationToken) =>
        DeleteRowsAsync(entries, cancellationToken);
}
