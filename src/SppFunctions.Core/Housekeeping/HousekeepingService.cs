using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SppFunctions.Events;
using SppFunctions.Polling;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;

namespace SppFunctions.Housekeeping;

/// <summary>What one housekeeping run deleted, and what it left for the next run.</summary>
public sealed record HousekeepingSummary
{
    /// <summary>False when <c>Housekeeping__Enabled</c> is false: nothing was looked at.</summary>
    public bool Enabled { get; init; } = true;
    public int DedupeRecords { get; init; }
    public int PollRuns { get; init; }
    public int SucceededEvents { get; init; }
    /// <summary>Failed events, and events that never finished (received or processing), past the failed-event retention.</summary>
    public int FailedEvents { get; init; }
    /// <summary>Action records of events and commands (a command's records include its log-id row).</summary>
    public int ActionRecords { get; init; }
    /// <summary>Entries of the list of messages this app posted.</summary>
    public int OwnMessageRecords { get; init; }
    public int PayloadBlobs { get; init; }
    /// <summary>Steps a limit (<c>Housekeeping__MaxDeletesPerRun</c> or <c>__MaxRunTime</c>) cut short: the rest waits for the next run.</summary>
    public IReadOnlyList<string> Unfinished { get; init; } = [];
    /// <summary>Steps that failed (e.g. storage errors); the other steps still ran.</summary>
    public int Errors { get; init; }
    public string? LastError { get; init; }
    public TimeSpan Duration { get; init; }

    public int Deleted => DedupeRecords + PollRuns + SucceededEvents + FailedEvents + ActionRecords + OwnMessageRecords + PayloadBlobs;
}

/// <summary>
/// Deletes what has outlived its use, once a day (the <c>Housekeeping</c> timer), in bounded steps:
/// <list type="number">
/// <item>expired dedupe records (SppDedupe);</item>
/// <item>poller run summaries older than <c>PollRunRetention</c> (SppPollRuns: one row-key range);</item>
/// <item>event-log rows (SppEvents) of succeeded events older than <c>EventRetention</c>, and of failed or unfinished
///   ones older than <c>FailedEventRetention</c> — found by PartitionKey range (the event's UTC day), "older" meaning
///   created, received and last updated before the cutoff, deleted only if unchanged since read (ETag);</item>
/// <item>then everything that belonged to an event whose row is gone, created before the <c>EventRetention</c> cutoff:
///   its action records (SppActions, partition = event id: one key range), a command's records (partition
///   <c>cmd-{id}</c>, found through its "log" row that names the event), the entries of messages it posted, and its
///   payload blobs (spp-payloads: names begin with the event id, listed in name order = time order).</item>
/// </list>
/// The event row decides: dependents are deleted only once it is gone, so a run cut short (a limit, a crash) leaves
/// orphans that a later run finds by the same rule, and an event that a replay changed meanwhile keeps everything.
/// Rows go in entity-group transactions of up to 100 per partition. Each step deletes at most <c>MaxDeletesPerRun</c>
/// items and the run stops after <c>MaxRunTime</c>; what is left waits for the next run.
/// </summary>
public class HousekeepingService
{
    /// <summary>A blob without an event row is left alone this long after its last write (its intake may still be writing the row).</summary>
    public static readonly TimeSpan InFlightGrace = TimeSpan.FromHours(1);

    private readonly DedupeStore _dedupe;
    private readonly PollRunStore _pollRuns;
    private readonly EventStore _log;
    private readonly ActionRecordStore _actions;
    private readonly PayloadStore _payloads;
    private readonly IOptions<HousekeepingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HousekeepingService> _logger;

    public HousekeepingService(DedupeStore dedupe, PollRunStore pollRuns, EventStore log, ActionRecordStore actions, PayloadStore payloads,
        IOptions<HousekeepingOptions> options, TimeProvider time, ILogger<HousekeepingService> logger)
    {
        _dedupe = dedupe;
        _pollRuns = pollRuns;
        _log = log;
        _actions = actions;
        _payloads = payloads;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public virtual async Task<HousekeepingSummary> RunAsync(CancellationToken cancellationToken)
    {
        var options = _options.Value;
        if (!options.Enabled)
        {
            _logger.LogInformation("Housekeeping is off (Housekeeping__Enabled=false): nothing deleted");
            return new HousekeepingSummary { Enabled = false };
        }

        var started = _time.GetTimestamp();
        using var deadline = new CancellationTokenSource(options.MaxRunTime, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var run = new Run(this, options, _time.GetUtcNow());
        var steps = new (string Name, Func<Run, CancellationToken, Task<bool>> Step)[]
        {
            ("dedupe records", PurgeDedupeAsync),
            ("poll runs", PurgePollRunsAsync),
            ("events", PurgeEventsAsync),
            ("action records", PurgeEventActionRecordsAsync),
            ("command records", PurgeCommandRecordsAsync),
            ("own-message records", PurgeOwnMessagesAsync),
            ("payload blobs", PurgePayloadBlobsAsync),
        };
        foreach (var (name, step) in steps)
        {
            if (deadline.IsCancellationRequested)
            {
                run.Unfinished.Add(name);
                continue;
            }
            try
            {
                if (!await step(run, linked.Token).ConfigureAwait(false)) run.Unfinished.Add(name);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                run.Unfinished.Add(name);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                run.Errors++;
                run.LastError = $"{name}: {ex.GetType().Name}: {ex.Message.Split('\n')[0].Trim()}";
                _logger.LogError(ex, "Housekeeping could not delete {Step}; the other steps go on", name);
            }
        }

        var summary = run.Summary(_time.GetElapsedTime(started));
        _logger.LogInformation(
            "Housekeeping deleted {DedupeRecords} dedupe records, {PollRuns} poll runs, {SucceededEvents} succeeded and {FailedEvents} failed "
                + "events, "
            + "{ActionRecords} action records, {OwnMessageRecords} own-message records and {PayloadBlobs} payload blobs in {DurationMs} ms; "
            + "unfinished: {Unfinished}; errors: {Errors}",
            summary.DedupeRecords, summary.PollRuns, summary.SucceededEvents, summary.FailedEvents, summary.ActionRecords,
            summary.OwnMessageRecords, summary.PayloadBlobs, (long)summary.Duration.TotalMilliseconds,
            summary.Unfinished.Count == 0 ? "none" : string.Join(", ", summary.Unfinished), summary.Errors);
        return summary;
    }

    /// <summary>The state of one run: cutoffs, counts, the events it deleted and what it learnt about event rows.</summary>
    private sealed class Run(HousekeepingService service, HousekeepingOptions options, DateTimeOffset now)
    {
        public HousekeepingOptions Options { get; } = options;
        public DateTimeOffset Now { get; } = now;
        /// <summary>Succeeded events, and every event's dependents, must be older than this.</summary>
        public DateTimeOffset EventCutoff { get; } = now - options.EventRetention;
        public DateTimeOffset FailedEventCutoff { get; } = now - options.FailedEventRetention;
        public int Limit => Options.MaxDeletesPerRun;

        public int DedupeRecords, PollRuns, SucceededEvents, FailedEvents, ActionRecords, OwnMessageRecords, PayloadBlobs, Errors;
        public string? LastError;
        public List<string> Unfinished { get; } = [];

        /// <summary>Command scopes whose log row the command step saw and kept (their own-message entries stay).</summary>
        public HashSet<string> LiveCommandScopes { get; } = new(StringComparer.Ordinal);

        /// <summary>Whether each event id looked up has no log row (deleted by this run, or not found).</summary>
        private readonly Dictionary<string, bool> _gone = new(StringComparer.Ordinal);

        public void Deleted(string eventId) => _gone[eventId] = true;

        public bool DeletedByThisRun(string eventId) => _gone.TryGetValue(eventId, out var gone) && gone;

        public async Task<bool> EventGoneAsync(string eventId, CancellationToken cancellationToken)
        {
            if (_gone.TryGetValue(eventId, out var gone)) return gone;
            gone = await service._log.GetAsync(eventId, cancellationToken).ConfigureAwait(false) is null;
            _gone[eventId] = gone;
            return gone;
        }

        public HousekeepingSummary Summary(TimeSpan duration) => new()
        {
            DedupeRecords = DedupeRecords, PollRuns = PollRuns, SucceededEvents = SucceededEvents, FailedEvents = FailedEvents,
            ActionRecords = ActionRecords, OwnMessageRecords = OwnMessageRecords, PayloadBlobs = PayloadBlobs,
            Unfinished = Unfinished.ToList(), Errors = Errors, LastError = LastError, Duration = duration,
        };
    }

    private async Task<bool> PurgeDedupeAsync(Run run, CancellationToken cancellationToken)
    {
        run.DedupeRecords = await _dedupe.PurgeExpiredAsync(run.Limit, cancellationToken).ConfigureAwait(false);
        return run.DedupeRecords < run.Limit;
    }

    private async Task<bool> PurgePollRunsAsync(Run run, CancellationToken cancellationToken)
    {
        run.PollRuns = await _pollRuns.DeleteStartedBeforeAsync(run.Now - run.Options.PollRunRetention, run.Limit,
            cancellationToken).ConfigureAwait(false);
        return run.PollRuns < run.Limit;
    }

    /// <summary>Event-log rows past their retention, a day partition at a time, in transactions of up to 100 rows.</summary>
    private async Task<bool> PurgeEventsAsync(Run run, CancellationToken cancellationToken)
    {
        var batch = new List<EventEntry>();
        var taken = 0;
        var finished = true;
        await foreach (var entry in _log.QueryRetentionCandidatesAsync(run.EventCutoff, run.FailedEventCutoff,
            cancellationToken).ConfigureAwait(false))
        {
            var cutoff = entry.Status == EventStatus.Succeeded ? run.EventCutoff : run.FailedEventCutoff;
            if (LastActivity(entry) >= cutoff) continue; // e.g. an old event received, replayed or finished lately
            if (taken == run.Limit)
            {
                finished = false;
                break;
            }
            if (batch.Count > 0 && (batch[0].PartitionKey != entry.PartitionKey || batch.Count == TableStore.MaxTransactionSize))
            {
                await DeleteEventsAsync(run, batch, cancellationToken).ConfigureAwait(false);
            }
            batch.Add(entry);
            taken++;
        }
        await DeleteEventsAsync(run, batch, cancellationToken).ConfigureAwait(false);
        return finished;
    }

    private async Task DeleteEventsAsync(Run run, List<EventEntry> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return;
        foreach (var entry in await _log.DeleteUnchangedAsync(batch, cancellationToken).ConfigureAwait(false))
        {
            run.Deleted(entry.RowKey);
            if (entry.Status == EventStatus.Succeeded) run.SucceededEvents++;
            else run.FailedEvents++;
        }
        batch.Clear();
    }

    /// <summary>The latest of the times a row records: created (SPP), received, updated, completed.</summary>
    private static DateTimeOffset LastActivity(EventEntry entry)
    {
        var last = entry.CreatedAt > entry.ReceivedAt ? entry.CreatedAt : entry.ReceivedAt;
        if (entry.UpdatedAt > last) last = entry.UpdatedAt.Value;
        if (entry.CompletedAt > last) last = entry.CompletedAt.Value;
        return last;
    }

    /// <summary>Action records of old events whose log row is gone: one key range over event-id partitions.</summary>
    private async Task<bool> PurgeEventActionRecordsAsync(Run run, CancellationToken cancellationToken)
    {
        var taken = 0;
        string? scope = null;
        var rows = new List<TableEntity>();

        // Deletes the rows of the scope read so far if its event is gone; false when the limit stopped it.
        async Task<bool> FinishScopeAsync()
        {
            if (scope is null || rows.Count == 0 || !EventIds.IsValid(scope) || !await run.EventGoneAsync(scope,
                cancellationToken).ConfigureAwait(false)) return true;
            if (taken == run.Limit) return false;
            var take = rows.Take(run.Limit - taken).ToList();
            taken += take.Count;
            run.ActionRecords += await _actions.DeleteAsync(take, cancellationToken).ConfigureAwait(false);
            return take.Count == rows.Count;
        }

        await foreach (var row in _actions.QueryEventRecordsCreatedBeforeAsync(run.EventCutoff, cancellationToken).ConfigureAwait(false))
        {
            if (row.PartitionKey != scope)
            {
                if (!await FinishScopeAsync().ConfigureAwait(false)) return false;
                scope = row.PartitionKey;
                rows.Clear();
            }
            rows.Add(row);
        }
        return await FinishScopeAsync().ConfigureAwait(false);
    }

    /// <summary>Records of commands whose log row (named by the command's "log" row) is gone and that are old.</summary>
    private async Task<bool> PurgeCommandRecordsAsync(Run run, CancellationToken cancellationToken)
    {
        var taken = 0;
        await foreach (var (scope, eventId) in _actions.QueryCommandLogsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!EventIds.IsValid(eventId) || EventIds.CreatedOf(eventId) >= run.EventCutoff || !await run.EventGoneAsync(eventId,
                cancellationToken).ConfigureAwait(false))
            {
                run.LiveCommandScopes.Add(scope);
                continue;
            }
            if (taken == run.Limit) return false;
            var deleted = await _actions.DeleteScopeAsync(scope, run.Limit - taken, cancellationToken).ConfigureAwait(false);
            taken += deleted;
            run.ActionRecords += deleted;
        }
        return true;
    }

    /// <summary>Entries of messages this app posted, once the event or command that posted them is gone.</summary>
    private async Task<bool> PurgeOwnMessagesAsync(Run run, CancellationToken cancellationToken)
    {
        var batch = new List<TableEntity>();
        var taken = 0;
        var finished = true;
        await foreach (var row in _actions.QueryOwnMessagesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await PostedByGoneScopeAsync(run, row.GetString("Scope"), cancellationToken).ConfigureAwait(false)) continue;
            if (taken == run.Limit)
            {
                finished = false;
                break;
            }
            batch.Add(row);
            taken++;
            if (batch.Count == TableStore.MaxTransactionSize)
            {
                run.OwnMessageRecords += await _actions.DeleteAsync(batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
            }
        }
        if (batch.Count > 0) run.OwnMessageRecords += await _actions.DeleteAsync(batch, cancellationToken).ConfigureAwait(false);
        return finished;
    }

    private async Task<bool> PostedByGoneScopeAsync(Run run, string? scope, CancellationToken cancellationToken)
    {
        if (scope is null) return false;
        if (EventIds.IsValid(scope)) return EventIds.CreatedOf(scope) < run.EventCutoff && await run.EventGoneAsync(scope,
            cancellationToken).ConfigureAwait(false);
        // A command writes its log row before it acts, so an entry whose command has no log row any more is an orphan
        // (looked up unless the command step just saw it: a command may have started since).
        return scope.StartsWith("cmd-", StringComparison.Ordinal)
            && !run.LiveCommandScopes.Contains(scope)
            && await _actions.GetAsync(scope, "log", cancellationToken).ConfigureAwait(false) is null;
    }

    /// <summary>Payload blobs of old events whose log row is gone, in name (= time) order.</summary>
    private async Task<bool> PurgePayloadBlobsAsync(Run run, CancellationToken cancellationToken)
    {
        var taken = 0;
        await foreach (var blob in _payloads.ListCreatedBeforeAsync(run.EventCutoff, cancellationToken).ConfigureAwait(false))
        {
            if (!await run.EventGoneAsync(blob.EventId, cancellationToken).ConfigureAwait(false)) continue;
            // A blob with no row that this run did not delete may belong to an intake still writing its row.
            if (!run.DeletedByThisRun(blob.EventId) && blob.LastModified is { } written && written > run.Now - InFlightGrace) continue;
            if (taken == run.Limit) return false;
            taken++;
            if (await _payloads.DeleteIfExistsAsync(blob.Name, cancellationToken).ConfigureAwait(false)) run.PayloadBlobs++;
        }
        return true;
    }
}
