using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spp.Client;
using Spp.Client.Models;
using Spp.Client.Serialization;
using SppFunctions.Events;
using SppFunctions.Intake;
using SppFunctions.Processing.Actions;
using SppFunctions.Queueing;
using SppFunctions.Tracing;

namespace SppFunctions.Polling;

/// <summary>A poll run finished its work, but checking orders has kept failing: the run is reported as failed.</summary>
public sealed class PollingFailedException(string message) : Exception(message);

/// <summary>
/// Turns SPP's order-message lists into a trigger: new messages on watched orders become
/// <c>order_message.created</c> events on the events queue, the same path webhooks take.
///
/// One run:
/// 1. takes the run lease (state row, ETag), so a run that overruns is never overlapped by the next;
/// 2. adds the configured orders (and, once, every open order when bootstrapping);
/// 3. finds the orders whose messages changed with ONE list call: orders sorted by <c>last_message_at</c> desc,
///    filtered to after the watermark, read only until the watermark (plus paging) — cost grows with the changed
///    orders, not the watched ones;
/// 4. for each changed order that is watched (one point read of its entry by id: the watch set is never scanned between
///    sweeps) and each order added since the last run (the small "pending" partition: resolved to its id, and the
///    first sight takes its messages as the baseline), with bounded parallelism, lists its messages newest first,
///    stopping at the cursor, and emits the new ones oldest first. Event ids derive from the message id and the dedupe
///    record stops a second emission, so overlapping runs or a crash mid-run never emit a message twice; the cursor
///    then moves forward by ETag;
/// 5. removes orders that reached a closed status or were deleted (404), moves the watermark, and records a summary.
///    The newest second (SPP's times are whole seconds) is listed once more by the next run that starts a second after
///    it, in case a message was added to it after the list; from then on a quiet workspace costs one list call a run.
/// A failed check of one order is contained (the watermark stays before it, so the next run checks it again); when
/// checks fail in <see cref="FailingRunsLimit"/> runs in a row, the run throws <see cref="PollingFailedException"/>
/// after saving its state and summary, so monitoring shows it failed.
/// Every <see cref="PollingOptions.SweepInterval"/> a run also lists the watched orders by id (100 per call) to drop
/// those closed or deleted without a new message, which the changed-orders call cannot see; it recounts the watched
/// orders, a count the runs in between keep up to date with their own additions and removals.
/// </summary>
public class OrderMessagePoller
{
    private readonly SppClient _spp;
    private readonly WatchStore _watch;
    private readonly PollRunStore _runs;
    private readonly EventPublisher _publisher;
    private readonly ActionRecordStore _records;
    private readonly IOptions<PollingOptions> _options;
    private readonly IOptions<WebhookOptions> _webhooks;
    private readonly TimeProvider _time;
    private readonly ILogger<OrderMessagePoller> _logger;

    public OrderMessagePoller(SppClient spp, WatchStore watch, PollRunStore runs, EventPublisher publisher, ActionRecordStore records,
        IOptions<PollingOptions> options, IOptions<WebhookOptions> webhooks, TimeProvider time, ILogger<OrderMessagePoller> logger)
    {
        _spp = spp;
        _watch = watch;
        _runs = runs;
        _publisher = publisher;
        _records = records;
        _options = options;
        _webhooks = webhooks;
        _time = time;
        _logger = logger;
    }

    /// <summary>How long a run holds the lease; a run that dies frees it when this runs out.</summary>
    public TimeSpan RunLease { get; set; } = TimeSpan.FromMinutes(10);

    private PollingOptions Options => _options.Value;

    /// <summary>An order to check: an entry in hand (pending, or resolved and listed), or the id of a changed order to read.</summary>
    private sealed record CheckItem(WatchedOrder? Entry, string? ChangedId);

    private sealed class RunState(PollRun summary)
    {
        private int _calls, _checked, _emitted, _removed, _errors, _resolvedDelta;
        /// <summary>Resolved entries this run added minus those it removed.</summary>
        public int ResolvedDelta => Volatile.Read(ref _resolvedDelta);
        public void ResolvedAdded() => Interlocked.Increment(ref _resolvedDelta);
        public void ResolvedRemoved() => Interlocked.Decrement(ref _resolvedDelta);
        public PollRun Summary { get; } = summary;
        public void Call() => Interlocked.Increment(ref _calls);
        public void Checked() => Interlocked.Increment(ref _checked);
        public void Emitted() => Interlocked.Increment(ref _emitted);
        public void Removed() => Interlocked.Increment(ref _removed);
        public void Error(string message)
        {
            Interlocked.Increment(ref _errors);
            Summary.LastError = message.Length > 1000 ? message[..1000] : message;
        }
        public PollRun Finish(DateTimeOffset now)
        {
            Summary.ApiCalls += _calls;
            Summary.OrdersChecked = _checked;
            Summary.EventsEmitted = _emitted;
            Summary.OrdersRemoved += _removed;
            Summary.Errors += _errors;
            Summary.DurationMs = (long)(now - Summary.StartedAt).TotalMilliseconds;
            return Summary;
        }
    }

    public virtual async Task<PollRun> RunAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetUtcNow();
        var run = new RunState(new PollRun { StartedAt = started });
        if (!Options.Enabled)
        {
            run.Summary.Outcome = "disabled";
            return await SaveAsync(run, cancellationToken).ConfigureAwait(false);
        }

        var owner = Guid.NewGuid().ToString("N");
        var state = await _watch.GetStateAsync(cancellationToken).ConfigureAwait(false);
        if (state.LeaseUntil > started && state.LeaseOwner is not null)
        {
            run.Summary.Outcome = "skipped";
            _logger.LogInformation("Poll run skipped: the previous run still holds the lease until {LeaseUntil:O}", state.LeaseUntil);
            return await SaveAsync(run, cancellationToken).ConfigureAwait(false);
        }
        state.LeaseOwner = owner;
        state.LeaseUntil = started + RunLease;
        if (!await _watch.TrySaveStateAsync(state, cancellationToken).ConfigureAwait(false))
        {
            run.Summary.Outcome = "skipped";
            return await SaveAsync(run, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            // Configured orders are added when the setting changes, not every run: one that was closed and dropped
            // stays dropped instead of costing an SPP call each run to be found closed again.
            var configured = string.Join(",", Options.WatchOrders.Select(WatchStore.Key).Order(StringComparer.Ordinal));
            if (configured != (state.ConfiguredOrders ?? ""))
            {
                foreach (var order in Options.WatchOrders)
                {
                    if (await _watch.AddIfNewAsync(order, "config", started, cancellationToken).ConfigureAwait(false)) run.Summary.OrdersAdded++;
                }
                state.ConfiguredOrders = configured;
            }
            if (Options.Bootstrap && !state.Bootstrapped)
            {
                run.Summary.OrdersAdded += await BootstrapAsync(run, started, cancellationToken).ConfigureAwait(false);
                state.Bootstrapped = true;
            }
            // Orders added since the last run wait in their own small partition; the resolved ones are read only when
            // they changed (point reads by id), or all of them at a sweep or before the first watermark.
            var pending = await _watch.ListPendingAsync(cancellationToken).ConfigureAwait(false);
            List<WatchedOrder>? resolved = null;
            if (state.LastSweepAt is null || started - state.LastSweepAt >= Options.SweepInterval)
            {
                resolved = await SweepAsync(await _watch.ListResolvedAsync(cancellationToken).ConfigureAwait(false), run, cancellationToken)
                    .ConfigureAwait(false);
                state.LastSweepAt = started;
                state.WatchedCount = resolved.Count;
            }
            state.WatchedCount ??= await _watch.CountResolvedAsync(cancellationToken).ConfigureAwait(false);
            var countedDelta = run.ResolvedDelta; // removals by the sweep are in the count already

            var listStarted = _time.GetUtcNow();
            var (changed, newest) = await FindChangedOrdersAsync(state.Watermark, state.WatermarkSettled, run, cancellationToken)
                .ConfigureAwait(false);
            var listAnswered = _time.GetUtcNow();
            var work = pending.Select(p => new CheckItem(p, null)).ToList();
            if (changed is null)
            {
                resolved ??= await _watch.ListResolvedAsync(cancellationToken).ConfigureAwait(false);
                work.AddRange(resolved.Select(e => new CheckItem(e, null)));
            }
            else if (resolved is not null)
            {
                var byId = resolved.ToDictionary(e => e.RowKey, StringComparer.Ordinal);
                work.AddRange(changed.Keys.Where(byId.ContainsKey).Select(id => new CheckItem(byId[id], null)));
            }
            else
            {
                work.AddRange(changed.Keys.Select(id => new CheckItem(null, id)));
            }

            var failedAt = new List<DateTimeOffset?>();
            await Parallel.ForEachAsync(work,
                new ParallelOptions { MaxDegreeOfParallelism = Options.MaxParallelism, CancellationToken = cancellationToken }, async (item, ct) =>
            {
                var key = item.Entry?.OrderId ?? item.Entry?.RowKey ?? item.ChangedId!;
                var listed = changed?.TryGetValue(key, out var o) == true ? o : null;
                try
                {
                    // A changed order is watched when its id has a resolved entry: one point read.
                    var entry = item.Entry ?? await _watch.GetResolvedAsync(item.ChangedId!, ct).ConfigureAwait(false);
                    if (entry is not null) await CheckOrderAsync(entry, listed, run, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    run.Error($"order {key}: {ex.Message}");
                    _logger.LogWarning(ex, "Polling order {Order} failed", key);
                    lock (failedAt) failedAt.Add(listed?.LastMessageAt);
                }
            }).ConfigureAwait(false);
            state.WatchedCount = Math.Max(0, state.WatchedCount.Value + run.ResolvedDelta - countedDelta);
            run.Summary.OrdersWatched = state.WatchedCount.Value;

            // Move the watermark forward, but not past an order whose check failed: it must show up as changed again.
            // With no watermark yet and no message anywhere, start from now (minus a margin for clock skew).
            var previous = state.Watermark;
            DateTimeOffset? watermark = newest is { } n && (previous is null || n > previous) ? n : previous ?? started.AddMinutes(-5);
            if (failedAt.Any(f => f is null))
            {
                watermark = previous; // a failure we cannot place in time: keep the old watermark
            }
            else if (failedAt.Count > 0 && failedAt.Min()!.Value.AddSeconds(-1) is var earliest && earliest < watermark)
            {
                watermark = earliest;
            }
            if (watermark != previous || failedAt.Count > 0)
            {
                // A new newest second: messages may still be added to it, so the next run re-checks it once.
                state.Watermark = watermark;
                state.WatermarkSeenAt = listAnswered;
                state.WatermarkSettled = false;
            }
            else if (!state.WatermarkSettled && state.WatermarkSeenAt is { } seen && listStarted >= seen + TimeSpan.FromSeconds(1))
            {
                // This run's list began at least a second after the one that saw the watermark got its answer, so SPP's
                // clock had left the watermark's second by then (whatever the skew): it was re-checked, once, for good.
                state.WatermarkSettled = true;
            }
            state.FailingRuns = failedAt.Count > 0 ? state.FailingRuns + 1 : 0;
        }
        finally
        {
            state.LeaseOwner = null;
            state.LeaseUntil = null;
            if (!await _watch.TrySaveStateAsync(state, CancellationToken.None).ConfigureAwait(false))
            {
                _logger.LogWarning("Poll run could not save its state: another run changed it");
            }
        }

        var summary = await SaveAsync(run, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Poll run: {Watched} watched, {Checked} checked, {Calls} SPP calls, {Emitted} events, {Added} added, " +
            "{Removed} removed, {Errors} errors in {Duration} ms",
            summary.OrdersWatched, summary.OrdersChecked, summary.ApiCalls, summary.EventsEmitted, summary.OrdersAdded, summary.OrdersRemoved,
            summary.Errors, summary.DurationMs);
        if (state.FailingRuns >= FailingRunsLimit)
        {
            // One failed check is retried by the next run; failures run after run are a problem someone must see.
            throw new PollingFailedException(
                $"Checking orders failed in {state.FailingRuns} poll runs in a row ({summary.Errors} error(s) in this one); " +
                $"last error: {summary.LastError}");
        }
        return summary;
    }

    /// <summary>Runs in a row with failed order checks after which a run fails (shows as failed in monitoring).</summary>
    public const int FailingRunsLimit = 3;

    /// <summary>
    /// The orders whose messages changed since the watermark, by integer id, and the newest <c>last_message_at</c>.
    /// Null "changed" means every watched order must be checked (no watermark yet).
    /// </summary>
    /// <param name="settled">
    /// True when the watermark's second was re-checked after it ended: only orders changed after it are listed. Until
    /// then the list starts a second earlier, because SPP's times are whole seconds and a message may have been added
    /// to the watermark's second after the run that saw it.
    /// </param>
    private async Task<(Dictionary<string, SppOrder>? Changed, DateTimeOffset? Newest)> FindChangedOrdersAsync(
        DateTimeOffset? watermark, bool settled, RunState run, CancellationToken cancellationToken)
    {
        var query = new SppListQuery { PageSize = watermark is null ? 1 : 100 }.OrderBy("last_message_at", descending: true);
        var after = watermark is { } w0 ? settled ? w0 : w0.AddSeconds(-1) : (DateTimeOffset?)null;
        if (after is { } since) query.WhereAfter("last_message_at", since);
        var changed = new Dictionary<string, SppOrder>();
        DateTimeOffset? newest = null;
        await foreach (var page in _spp.GetOrdersAsync(query, cancellationToken).AsPages(cancellationToken).ConfigureAwait(false))
        {
            run.Call();
            var reachedWatermark = false;
            foreach (var order in page.Items)
            {
                if (order.LastMessageAt is not { } at) { reachedWatermark = true; break; }
                newest = newest is null || at > newest ? at : newest;
                if (after is { } a && at <= a) { reachedWatermark = true; break; } // the filter was not applied: stop at the watermark
                changed[order.Id] = order;
            }
            if (watermark is null || reachedWatermark) break;
        }
        return (watermark is null ? null : changed, newest);
    }

    private async Task CheckOrderAsync(WatchedOrder entry, SppOrder? listed, RunState run, CancellationToken cancellationToken)
    {
        run.Checked();
        var now = _time.GetUtcNow();
        SppOrder? detail = null;
        DateTimeOffset? baselineUntil = null;
        if (entry.IsPending && await _watch.FindResolvedAsync(entry.RowKey, cancellationToken).ConfigureAwait(false) is not null)
        {
            // Added again (e.g. by another order webhook) while watched already: nothing to look up, and the key is
            // known (it is the id, or its alias led here).
            await _watch.DropPendingAsync(entry, null, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (entry.IsPending || entry.OrderId is null || !entry.Baselined)
        {
            try
            {
                run.Call();
                detail = await _spp.GetOrderAsync(entry.OrderId ?? entry.RowKey, cancellationToken).ConfigureAwait(false);
            }
            catch (SppRequestFailedException ex) when (ex.Status == 404)
            {
                await RemoveAsync(entry, "it no longer exists in SPP", run, cancellationToken).ConfigureAwait(false);
                return;
            }
            if (entry.IsPending && detail.Id != entry.RowKey
                && await _watch.GetResolvedAsync(detail.Id, cancellationToken).ConfigureAwait(false) is not null)
            {
                // Watched already under its id (added by another key): keep that entry and its cursor, remember this key.
                await _watch.DropPendingAsync(entry, detail.Id, cancellationToken).ConfigureAwait(false);
                return;
            }
            entry.OrderId = detail.Id;
            entry.Number ??= detail.Number ?? (entry.RowKey.All(char.IsAsciiDigit) ? null : entry.RowKey);
            entry.Status = detail.Status;
            if (IsClosed(detail.Status))
            {
                await RemoveAsync(entry, $"its status is {detail.Status}", run, cancellationToken).ConfigureAwait(false);
                return;
            }
            if (!entry.Baselined)
            {
                entry.Baselined = true;
                if (Options.Baseline)
                {
                    // The baseline is what the order had when it was added: messages posted since (say between an
                    // order.created webhook and this run) are new and emitted. The order's own newest messages often
                    // settle it without a list call.
                    baselineUntil = entry.AddedAt;
                    var newest = detail.Messages?.MaxBy(m => m.Id);
                    if (detail.Messages is not null && (newest is null || newest.CreatedAt <= baselineUntil))
                    {
                        entry.LastMessageId = newest?.Id ?? 0;
                        entry.LastMessageAt = newest?.CreatedAt;
                        entry.CheckedAt = now;
                        await SaveEntryAsync(entry, run, cancellationToken).ConfigureAwait(false);
                        return;
                    }
                }
            }
        }

        var fresh = new List<SppMessage>();
        var newestSeen = entry.LastMessageId;
        try
        {
            await foreach (var page in _spp.GetOrderMessagesAsync(entry.OrderId!, pageSize: Options.PageSize, cancellationToken: cancellationToken)
                .AsPages(cancellationToken).ConfigureAwait(false))
            {
                run.Call();
                var reached = false;
                foreach (var message in page.Items)
                {
                    newestSeen = Math.Max(newestSeen, message.Id);
                    // Message ids only grow: stop at the first one not newer than the cursor, even if the cursor's own message was deleted.
                    if (message.Id <= entry.LastMessageId) { reached = true; break; }
                    // First sight: stop at the baseline (messages from before the order was added).
                    if (baselineUntil is { } until && (message.CreatedAt is not { } at || at <= until)) { reached = true; break; }
                    fresh.Add(message);
                }
                if (reached) break;
            }
        }
        catch (SppRequestFailedException ex) when (ex.Status == 404)
        {
            await RemoveAsync(entry, "it no longer exists in SPP", run, cancellationToken).ConfigureAwait(false);
            return;
        }

        var status = listed?.Status ?? detail?.Status ?? entry.Status;
        var orderUserId = listed?.UserId ?? detail?.UserId;
        foreach (var message in fresh.OrderBy(m => m.Id))
        {
            if (await ShouldSkipAsync(message, cancellationToken).ConfigureAwait(false)) continue;
            var evt = Build(message, entry, status, orderUserId);
            using var scope = EventTracing.BeginScope(_logger, evt.Id, evt.Name);
            var result = await _publisher.PublishAsync(evt, cancellationToken).ConfigureAwait(false);
            if (result.Duplicate)
            {
                _logger.LogDebug("Message {MessageId} of order {Order} was emitted before as event {EventId}", message.Id, entry.RowKey, evt.Id);
                continue;
            }
            run.Emitted();
            _logger.LogInformation("Emitted message {MessageId} of order {Order} as event {EventId}", message.Id, entry.RowKey, evt.Id);
        }

        if (newestSeen > entry.LastMessageId)
        {
            entry.LastMessageId = newestSeen;
            entry.LastMessageAt = fresh.MaxBy(m => m.Id)?.CreatedAt ?? entry.LastMessageAt;
        }
        entry.Status = status;
        entry.CheckedAt = now;
        if (IsClosed(status))
        {
            await RemoveAsync(entry, $"its status is {status}", run, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!await SaveEntryAsync(entry, run, cancellationToken).ConfigureAwait(false))
        {
            _logger.LogInformation("Cursor of order {Order} was moved by another run; keeping its value", entry.RowKey);
        }
    }

    /// <summary>Writes the cursor by ETag; a pending entry moves to the resolved partition under its id.</summary>
    private async Task<bool> SaveEntryAsync(WatchedOrder entry, RunState run, CancellationToken cancellationToken)
    {
        if (!entry.IsPending) return await _watch.TryUpdateAsync(entry, cancellationToken).ConfigureAwait(false);
        if (!await _watch.ResolveAsync(entry, cancellationToken).ConfigureAwait(false)) return false;
        run.ResolvedAdded();
        return true;
    }

    private async Task<bool> ShouldSkipAsync(SppMessage message, CancellationToken cancellationToken)
    {
        if (Options.SkipStaffOnly && message.StaffOnly) return true;
        if (!Options.SkipOwnMessages) return false;
        return ActionExecutor.HasMarker(message.Message)
            || await _records.IsOwnMessageAsync(message.Id.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
    }

    private static NewEvent Build(SppMessage message, WatchedOrder entry, string? status, long? orderUserId)
    {
        // SPP's time of the message keeps the id stable across runs (never the clock: a re-emission must dedupe).
        var created = message.CreatedAt?.ToUnixTimeSeconds() ?? 0;
        var data = JsonSerializer.SerializeToNode(message, SppJson.Options)!.AsObject();
        data["order_id"] = long.TryParse(entry.OrderId, out var orderId) ? orderId : entry.OrderId;
        data["order"] = new JsonObject
        {
            ["id"] = data["order_id"]?.DeepClone(), ["number"] = entry.Number, ["status"] = status, ["user_id"] = orderUserId,
        };
        data["from_client"] = orderUserId is not null && message.UserId == orderUserId;
        var payload = new JsonObject { ["event"] = EventCatalog.OrderMessageCreated, ["created"] = created, ["data"] = data };
        var messageId = message.Id.ToString(CultureInfo.InvariantCulture);
        var id = EventIds.Create(EventCatalog.OrderMessageCreated, messageId, created, $"order-message:{entry.OrderId}:{messageId}");
        return new NewEvent(id, EventCatalog.OrderMessageCreated, SppEventTopics.Messages, created, EventSources.Poller, payload, messageId);
    }

    private bool IsClosed(string? status) => Options.IsClosed(status);

    private async Task RemoveAsync(WatchedOrder entry, string why, RunState run, CancellationToken cancellationToken)
    {
        if (await _watch.RemoveEntryAsync(entry, cancellationToken).ConfigureAwait(false))
        {
            run.Removed();
            if (!entry.IsPending) run.ResolvedRemoved();
            _logger.LogInformation("Stopped watching order {Order}: {Reason}", entry.RowKey, why);
        }
    }

    /// <summary>Drops watched orders that are closed or gone, checking 100 per list call (<c>filters[id][$in][]</c>).</summary>
    private async Task<List<WatchedOrder>> SweepAsync(List<WatchedOrder> entries, RunState run, CancellationToken cancellationToken)
    {
        var kept = new List<WatchedOrder>(entries.Where(e => e.OrderId is null));
        foreach (var chunk in entries.Where(e => e.OrderId is not null).Chunk(100))
        {
            var ids = chunk.Select(e => e.OrderId!).ToHashSet();
            run.Call();
            var page = await _spp.GetOrdersAsync(new SppListQuery { PageSize = 100 }.WhereIn("id", ids), cancellationToken)
                .AsPages(cancellationToken).FirstAsync(cancellationToken).ConfigureAwait(false);
            var found = page.Items.ToDictionary(o => o.Id);
            // If SPP ignored the filter, absence proves nothing: only trust it when every answer is one we asked for.
            var filterHonoured = found.Keys.All(ids.Contains) && !page.HasNext;
            foreach (var entry in chunk)
            {
                if (found.TryGetValue(entry.OrderId!, out var order))
                {
                    if (IsClosed(order.Status))
                        await RemoveAsync(entry, $"its status is {order.Status}", run, cancellationToken).ConfigureAwait(false);
                    else kept.Add(entry);
                }
                else if (filterHonoured) await RemoveAsync(entry, "it no longer exists in SPP", run, cancellationToken).ConfigureAwait(false);
                else kept.Add(entry);
            }
        }
        return kept;
    }

    private async Task<int> BootstrapAsync(RunState run, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var added = 0;
        await foreach (var page in OpenOrders.WatchAllAsync(_spp, _watch, Options, "bootstrap", now, cancellationToken)
            .ConfigureAwait(false))
        {
            run.Call();
            added += page.Count(o => o == OpenOrderOutcome.Added);
        }
        _logger.LogInformation("Bootstrap: watching {Count} open orders", added);
        return added;
    }

    private async Task<PollRun> SaveAsync(RunState run, CancellationToken cancellationToken)
    {
        var summary = run.Finish(_time.GetUtcNow());
        await _runs.AddAsync(summary, cancellationToken).ConfigureAwait(false);
        return summary;
    }
}
