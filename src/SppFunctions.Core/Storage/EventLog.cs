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
/// One row of the event log (table <c>SppEvents</c>): partition = the event's day (from its id), row = the event id.
/// The payload itself is not copied here: it lives in the queue message or the claim-check blob.
/// </summary>
public sealed class EventLogEntry : ITableEntity
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
    /// True when the row holds the outcome (succeeded or failed) of replay generation <paramref name="replay"/> or a
    /// later one. Another delivery of that generation (a duplicate message, or one that has to retry later) must not
    /// move it back to processing: it would hide the outcome, and a poison-queue copy would then mark a succeeded event
    /// failed. A delivery that finishes records its own outcome, which can only agree (or turn a given-up event into a
    /// succeeded one).
    /// </summary>
    public bool IsSettled(int replay) => Status is EventStatus.Succeeded or EventStatus.Failed && Replays >= replay;
}

/// <summary>The event log store.</summary>
public class EventLog : TableStore
{

    /// <summary>For mocking.</summary>
    protected EventLog() { }

    public EventLog(TableServiceClient tables, StorageNames names)
        : base(tables, names.EventsTable)
    {
    }

    /// <summary>Writes (or overwrites) the row of a newly received event; returns its ETag.</summary>
    public virtual async Task<ETag> AddReceivedAsync(EventLogEntry entry, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        entry.PartitionKey = EventIds.Partition(entry.RowKey);
        var response = await Table.UpsertEntityAsync(entry, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        return response.Headers.ETag ?? default;
    }

    /// <summary>Inserts the row of a newly received event; returns its ETag, or null when the event has a row already.</summary>
    public virtual async Task<ETag?> TryAddReceivedAsync(EventLogEntry entry, CancellationToken cancellationToken)
    {
        entry.PartitionKey = EventIds.Partition(entry.RowKey);
        return await TryInsertAsync(entry, cancellationToken).ConfigureAwait(false) ? entry.ETag : null;
    }

    /// <summary>Replaces a row if unchanged since read (its ETag); false when another writer changed or removed it.</summary>
    public virtual Task<bool> TryUpdateAsync(EventLogEntry entry, CancellationToken cancellationToken) => TryReplaceAsync(entry, cancellationToken);

    /// <summary>The row of an event, or null.</summary>
    public virtual async Task<EventLogEntry?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!EventIds.IsValid(id)) return null;
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var response = await Table.GetEntityIfExistsAsync<EventLogEntry>(EventIds.Partition(id), id, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>Replaces a row if it has not changed since it was read (ETag); throws 412 otherwise.</summary>
    public virtual async Task<ETag> UpdateAsync(EventLogEntry entry, CancellationToken cancellationToken)
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
    public virtual async Task<EventLogEntry?> TransitionAsync(string id, Func<EventLogEntry?, EventLogEntry?> change, CancellationToken cancellationToken, EventLogEntry? known = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = attempt == 0 && known is { } k && k.ETag != default ? k : await GetAsync(id, cancellationToken).ConfigureAwait(false);
            var next = change(current);
            if (next is null) return current;
            next.RowKey = id;
            next.PartitionKey = EventIds.Partition(id);
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
            catch (RequestFailedException ex) when ((ex.Status is 409 or 412 || ex.Status == 404 && attempt == 0 && known is not null) && attempt < 10)
            {
                // Someone else wrote (or removed) the row since we read it: read again and reapply.
            }
        }
    }

    /// <summary>Deletes a row only if it is unchanged (used to roll back an intake that could not finish).</summary>
    public virtual async Task DeleteIfUnchangedAsync(string id, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(EventIds.Partition(id), id, etag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Gone already, or processing moved it on: keep what is there.
        }
    }

    /// <summary>Events by status and/or name whose SPP time falls in [from, until), oldest day first.</summary>
    public virtual async IAsyncEnumerable<EventLogEntry> QueryAsync(
        string? status = null, string? eventName = null, DateTimeOffset? from = null, DateTimeOffset? until = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var filters = new List<string>();
        if (from is { } f) filters.Add(TableClient.CreateQueryFilter($"PartitionKey ge {EventIds.PartitionOf(f)} and CreatedAt ge {f}"));
        if (until is { } t) filters.Add(TableClient.CreateQueryFilter($"PartitionKey le {EventIds.PartitionOf(t)} and CreatedAt lt {t}"));
        if (status is not null) filters.Add(TableClient.CreateQueryFilter($"Status eq {status}"));
        if (eventName is not null) filters.Add(TableClient.CreateQueryFilter($"EventName eq {eventName}"));
        var filter = filters.Count == 0 ? null : string.Join(" and ", filters.Select(x => $"({x})"));
        await foreach (var entry in Table.QueryAsync<EventLogEntry>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    /// <summary>
    /// Rows that may have outlived their retention, oldest day first, found by PartitionKey range (the event's UTC day):
    /// succeeded events of the days before <paramref name="succeededBefore"/>'s day, and events of any status of the days
    /// before <paramref name="anyBefore"/>'s day. Only the keys, status and times are read.
    /// </summary>
    public virtual async IAsyncEnumerable<EventLogEntry> QueryRetentionCandidatesAsync(
        DateTimeOffset succeededBefore, DateTimeOffset anyBefore,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter(
            $"(PartitionKey lt {EventIds.PartitionOf(succeededBefore)} and Status eq {EventStatus.Succeeded}) or PartitionKey lt {EventIds.PartitionOf(anyBefore)}");
        var select = new[]
        {
            "PartitionKey", "RowKey", nameof(EventLogEntry.Status), nameof(EventLogEntry.Source), nameof(EventLogEntry.CreatedAt),
            nameof(EventLogEntry.ReceivedAt), nameof(EventLogEntry.UpdatedAt), nameof(EventLogEntry.CompletedAt),
        };
        await foreach (var entry in Table.QueryAsync<EventLogEntry>(filter, select: select, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    /// <summary>
    /// Deletes rows that are unchanged since they were read (their ETag), in transactions of up to 100 rows of one day;
    /// returns the rows deleted. A row another writer changed meanwhile (e.g. a replay) stays.
    /// </summary>
    public virtual Task<IReadOnlyList<EventLogEntry>> DeleteUnchangedAsync(IEnumerable<EventLogEntry> entries, CancellationToken cancellationToken) =>
        DeleteRowsAsync(entries, cancellationToken);
}
