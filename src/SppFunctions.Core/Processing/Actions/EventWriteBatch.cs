using SppFunctions.Storage;

namespace SppFunctions.Processing.Actions;

/// <summary>
/// The writes of one delivery of one event that wait for the delivery's next write to the event's partition and go
/// with it in one entity-group transaction (the event's row and its action records share the partition in table
/// <c>SppEvents</c>): the event row's move to "processing" goes with the first action's claim, an action's record of
/// its outcome with the next action's claim or with the event row's final state. So a one-action event takes two
/// round trips: claim (with "processing"), the SPP call, outcome (with "succeeded").
///
/// Waiting changes no order that matters: a pending write goes in the same transaction as the next write, before any
/// SPP call that follows, or alone (<see cref="ActionRecordStore.FlushAsync"/>) before any other write or read of the
/// delivery, when it retries later and when it fails. A process that dies with writes pending leaves what it would
/// have left dying just before writing them alone: a record claimed with MayHaveActed set, reconciled by the next
/// attempt. Used for the first delivery of a message only, whose row the publisher wrote in the event's partition.
/// </summary>
public sealed class EventWriteBatch
{
    private readonly List<ActionRecord> _records = [];
    private readonly List<Task> _alongside = [];
    private Func<CancellationToken, Task<EventEntry?>>? _writeRowAlone;

    /// <param name="row">The event row moved to "processing", to be merged over the row the publisher wrote (no read, no ETag).</param>
    /// <param name="writeRowAlone">How to write that row on its own when a transaction cannot take it (e.g. the row is not there yet).</param>
    public EventWriteBatch(EventEntry row, Func<CancellationToken, Task<EventEntry?>> writeRowAlone)
    {
        Row = row;
        EventId = row.RowKey;
        _writeRowAlone = writeRowAlone;
    }

    public string EventId { get; }

    /// <summary>The event row waiting to be written ("processing"), or null once written.</summary>
    public EventEntry? Row { get; private set; }

    /// <summary>The event row as last written by this delivery, with its ETag (null while it waits).</summary>
    public EventEntry? WrittenRow { get; private set; }

    /// <summary>Records of claimed actions whose outcome waits to be written (replaced by their ETag).</summary>
    public IReadOnlyList<ActionRecord> Records => _records;

    public bool IsEmpty => Row is null && _records.Count == 0;

    /// <summary>True for a record this batch may carry: one of this event, in the event's partition of <c>SppEvents</c>.</summary>
    public bool CanHold(ActionRecord record) => record.InEventPartition && record.PartitionKey == EventId;

    /// <summary>Keeps a completed record (its claim is this delivery's, so it has an ETag) for the next write.</summary>
    public void Defer(ActionRecord record)
    {
        if (!CanHold(record) || record.ETag == default) throw new InvalidOperationException($"Record {record.RowKey} cannot wait in this batch.");
        _records.Add(record);
    }

    /// <summary>A write of another partition (e.g. the own-message entry) started alongside: awaited by <see cref="SettleAlongsideAsync"/>.</summary>
    public void Alongside(Task write) => _alongside.Add(write);

    /// <summary>Waits for the writes started alongside (they handle their own failures).</summary>
    public async Task SettleAlongsideAsync()
    {
        var writes = _alongside.ToArray();
        _alongside.Clear();
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>After a transaction took every pending write (and, when given, the row's next state).</summary>
    internal void Committed(EventEntry? row)
    {
        if (row is not null) WrittenRow = row;
        Row = null;
        _writeRowAlone = null;
        _records.Clear();
    }

    /// <summary>Writes the pending row on its own (see the constructor); its records are the store's to write.</summary>
    internal async Task WriteRowAloneAsync(CancellationToken cancellationToken)
    {
        if (Row is null || _writeRowAlone is null) return;
        WrittenRow = await _writeRowAlone(cancellationToken).ConfigureAwait(false);
        Row = null;
        _writeRowAlone = null;
    }

    /// <summary>Forgets a record written on its own.</summary>
    internal void Written(ActionRecord record) => _records.Remove(record);
}
