using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SppFunctions.Processing.Actions;

/// <summary>What happened to an action in this attempt.</summary>
public sealed record ActionOutcome(string Key, string Status, string? Result, string? Error, bool AlreadyDone)
{
    public bool Failed => Status is ActionStatus.Failed or ActionStatus.Unknown;

    /// <summary>The recorded step output (<c>{status, headers, body}</c>) of an action that keeps it; null otherwise.</summary>
    public System.Text.Json.Nodes.JsonObject? Output { get; init; }

    /// <summary>Why a succeeded action that keeps its output has none (e.g. over <c>Processing__MaxStepOutputBytes</c>).</summary>
    public string? OutputError { get; init; }
}

/// <summary>
/// Runs each action of an event (or command) at most once in effect, whatever the queue redelivers, however many
/// instances race, and wherever a process dies. The mechanism, on the action's record (<see cref="ActionRecord"/>: in the
/// event's partition of SppEvents, a command's in SppActions):
///
/// 1. Read the record. Succeeded: skip. Failed/unknown in this replay generation: stay failed.
///    Pending with a live lease: another attempt owns it → <see cref="RetryLaterException"/> (the queue retries later).
///    On a first delivery (<c>likelyNew</c>) the read is skipped: the claim of step 2 is an insert, which fails if any
///    record exists, and only then is the record read and decided on as here. Same outcome, one round trip fewer.
/// 2. Claim it: insert the record, or replace it by ETag, as pending with a lease and MayHaveActed = true. Of two racing
///    attempts only one claim succeeds (409/412); the other retries later and then finds the outcome.
/// 3. If an earlier attempt may have acted (its claim expired with MayHaveActed still set: it died between the call and
///    recording, or the call's outcome was unknown), reconcile before acting again:
///    - create_order_message: look in the order's newest messages for the one it posted (marker or same text);
///      found → record it as done, without posting again;
///    - idempotent calls (GET/PUT/DELETE, handlers): simply run again;
///    - other non-idempotent calls (POST api_call, forward): the outcome cannot be known, so the action is marked
///      "unknown" and failed rather than risk doing it twice; replaying the event runs it again on purpose.
/// 4. Run it and record the outcome by ETag. Failures that certainly did not reach the target (429, no connection)
///    release the claim and retry; ambiguous ones release it with MayHaveActed set (create_order_message, idempotent
///    calls) or end as "unknown" (other non-idempotent calls); permanent ones (4xx, template errors) end as failed.
///
/// On a first delivery (an <see cref="EventWriteBatch"/>) the writes of steps 2 and 4 go in transactions with the event's
/// other writes: the claim with the event row's "processing" or the previous action's outcome, the outcome with the
/// next claim or the row's final state. The order of writes and SPP calls is the same; only the round trips are fewer.
/// </summary>
public class IdempotentActionRunner
{
    private readonly ActionRecordStore _records;
    private readonly SppFunctions.Storage.PayloadStore _payloads;
    private readonly ActionExecutor _executor;
    private readonly IOptions<ProcessingOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<IdempotentActionRunner> _logger;

    public IdempotentActionRunner(ActionRecordStore records, SppFunctions.Storage.PayloadStore payloads, ActionExecutor executor,
        IOptions<ProcessingOptions> options, TimeProvider time, ILogger<IdempotentActionRunner> logger)
    {
        _records = records;
        _payloads = payloads;
        _executor = executor;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <param name="scope">Event id, or <c>cmd-{id}</c> for a command.</param>
    /// <param name="key">The action's key within the scope (rule name and index).</param>
    /// <param name="generation">0, or the replay generation of the message.</param>
    /// <param name="plan">Resolves the action (renders templates, no side effects); called when the action is to run, or up front with <paramref
    /// name="likelyNew"/>.</param>
    /// <param name="likelyNew">
    /// True on a first delivery, when no record is expected: claim by insert without reading first (a record that does
    /// exist makes the insert fail, and is then read and decided on as usual).
    /// </param>
    /// <param name="batch">
    /// The event's pending writes (its first delivery, see <see cref="EventWriteBatch"/>): the claim goes in one
    /// transaction with them, and the record of the outcome waits in it for the next write. Null: every write alone.
    /// </param>
    /// <exception cref="RetryLaterException">A transient failure, or another attempt owns the action.</exception>
    public virtual async Task<ActionOutcome> RunAsync(string scope, string key, int generation, Func<PlannedAction> plan,
        CancellationToken cancellationToken, bool likelyNew = false, EventWriteBatch? batch = null)
    {
        var now = _time.GetUtcNow();
        // Where an earlier version may have kept this event's records (an upgrade's first days), look before claiming.
        if (likelyNew && await _records.MayHaveLegacyRecordsAsync(scope, cancellationToken).ConfigureAwait(false)) likelyNew = false;
        if (likelyNew)
        {
            PlannedAction? planned = null;
            try
            {
                planned = plan();
            }
            catch (ActionFailedException ex) when (ex.Kind == ActionFailureKind.Permanent)
            {
                var failed = ActionRecord.New(scope, key);
                failed.Type = "unresolved";
                Complete(failed, ActionStatus.Failed, null, ex.Message, generation);
                if (await TryAddAsync(failed, batch, cancellationToken).ConfigureAwait(false)) return Completed(failed);
            }
            if (planned is not null)
            {
                var fresh = Claim(ActionRecord.New(scope, key), planned, generation, now, mayHaveActed: false);
                if (await TryAddAsync(fresh, batch, cancellationToken).ConfigureAwait(false))
                {
                    return await ActAsync(fresh, planned, mayHaveActed: false, replayingUnknown: false, generation, now, batch,
                        cancellationToken).ConfigureAwait(false);
                }
            }
            // A record exists after all (a redelivered or racing copy): decide by it, as below.
        }

        // Everything below reads and writes alone: the pending writes go first.
        await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
        var record = await _records.GetAsync(scope, key, cancellationToken).ConfigureAwait(false);
        switch (record)
        {
            case { Status: ActionStatus.Succeeded }:
                return await WithRecordedOutputAsync(new ActionOutcome(key, ActionStatus.Succeeded, record.Result, null,
                    AlreadyDone: true), record, cancellationToken).ConfigureAwait(false);
            case { Status: ActionStatus.Failed or ActionStatus.Unknown } when record.Generation >= generation:
                return new ActionOutcome(key, record.Status, record.Result, record.Error, AlreadyDone: true);
            case { Status: ActionStatus.Pending } when record.LeaseUntil > now:
                throw new RetryLaterException($"Action {key} of {scope} is held by another attempt until {record.LeaseUntil:O}.",
                    retryAfter: record.LeaseUntil - now);
        }

        PlannedAction action;
        try
        {
            action = plan();
        }
        catch (ActionFailedException ex) when (ex.Kind == ActionFailureKind.Permanent)
        {
            var failed = record ?? ActionRecord.New(scope, key);
            if (record is null) failed.Type = "unresolved";
            return await FinishAsync(failed, record is null, ActionStatus.Failed, null, ex.Message, generation, null,
                cancellationToken).ConfigureAwait(false);
        }

        // A record still "unknown" here is being replayed on purpose: check for a posted message, but otherwise run it.
        var replayingUnknown = record?.Status == ActionStatus.Unknown;
        var mayHaveActed = record is { MayHaveActed: true } || replayingUnknown;
        var isNew = record is null;
        var claim = Claim(record ?? ActionRecord.New(scope, key), action, generation, now, mayHaveActed);
        var claimed = isNew ? await _records.TryAddAsync(claim, cancellationToken).ConfigureAwait(false) : await _records.TryUpdateAsync(claim,
            cancellationToken).ConfigureAwait(false);
        if (!claimed) throw new RetryLaterException($"Action {key} of {scope} was claimed by another attempt.");
        return await ActAsync(claim, action, mayHaveActed, replayingUnknown, generation, now, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Inserts a new record: with the batch's pending writes in one transaction when there are any, else alone. When
    /// the transaction meets a conflict, the pending writes go alone first and then the record, so a record that
    /// exists makes this false as a lone insert would.
    /// </summary>
    private async Task<bool> TryAddAsync(ActionRecord record, EventWriteBatch? batch, CancellationToken cancellationToken)
    {
        if (batch is not null && !batch.IsEmpty)
        {
            if (batch.CanHold(record) && await _records.TryCommitAsync(batch, record, null, cancellationToken).ConfigureAwait(false)) return true;
            await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        return await _records.TryAddAsync(record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes what waits in the batch alone (see <see cref="ActionRecordStore.FlushAsync"/>), saying so for an outcome
    /// another attempt had taken over meanwhile (its lease ran out: that attempt reconciles and records the outcome).
    /// </summary>
    public virtual async Task FlushAsync(EventWriteBatch? batch, CancellationToken cancellationToken)
    {
        foreach (var record in await _records.FlushAsync(batch, cancellationToken).ConfigureAwait(false))
        {
            _logger.LogWarning("Action {Key} of {Scope} finished as {Status} but another attempt had taken it over", record.Key,
                record.PartitionKey, record.Status);
        }
    }

    /// <summary>Step 2's claim: pending, leased to this attempt, MayHaveActed set before the call.</summary>
    private ActionRecord Claim(ActionRecord claim, PlannedAction action, int generation, DateTimeOffset now, bool mayHaveActed)
    {
        claim.Type = action.Type;
        claim.Description = action.Describe();
        claim.Status = ActionStatus.Pending;
        claim.Attempts++;
        claim.Generation = Math.Max(generation, claim.Generation);
        claim.Owner = Guid.NewGuid().ToString("N");
        claim.LeaseUntil = now + _options.Value.ActionLease;
        claim.StartedAt = mayHaveActed ? claim.StartedAt ?? now : now;
        claim.MayHaveActed = true;
        claim.Error = null;
        return claim;
    }

    /// <summary>
    /// Steps 3 and 4, once the claim is ours. The work runs under a deadline inside the lease (80% of it), so this
    /// attempt has stopped calling SPP before the lease runs out and another attempt may take the action over.
    /// </summary>
    private async Task<ActionOutcome> ActAsync(ActionRecord claim, PlannedAction action, bool mayHaveActed, bool replayingUnknown, int generation,
        DateTimeOffset now, EventWriteBatch? batch, CancellationToken cancellationToken)
    {
        var scope = claim.PartitionKey;
        var key = claim.Key;
        var run = new ActionRun(scope, key, IsRetry: claim.Attempts > 1);
        using var deadline = new CancellationTokenSource(_options.Value.ActionLease * 0.8, _time);
        using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            ActionResult? result = null;
            if (mayHaveActed)
            {
                if (action is CreateOrderMessageAction create)
                {
                    var found = await _executor.FindPostedMessageAsync(create, run, claim.StartedAt ?? now, work.Token).ConfigureAwait(false);
                    if (found is not null) result = new ActionResult(found, StepOutput.Of(201, null,
                        new System.Text.Json.Nodes.JsonObject { ["id"] = long.Parse(found, System.Globalization.CultureInfo.InvariantCulture) }));
                    if (found is not null)
                    {
                        _logger.LogInformation("Action {Key} of {Scope}: found message {MessageId} posted by an interrupted attempt; not posting "
                            + "again",
                            key, scope, found);
                    }
                }
                else if (!action.IsIdempotent && !replayingUnknown)
                {
                    return await FinishAsync(claim, false, ActionStatus.Unknown, null,
                        "An earlier attempt may have run this action and its outcome is unknown, so it was not repeated automatically. Replay the "
                            + "event to run it again.",
                        generation, batch, cancellationToken).ConfigureAwait(false);
                }
            }

            result ??= await _executor.ExecuteAsync(action, run, work.Token).ConfigureAwait(false);
            // The own-message row (another partition) is written alongside the record, best effort: the marker in
            // the message identifies it as ours as well, and a failure here must never undo the recorded success.
            var ownMessage = action is CreateOrderMessageAction && long.TryParse(result.Result, out var messageId)
                ? RecordOwnMessageAsync(messageId, scope, cancellationToken)
                : Task.CompletedTask;
            var output = action.KeepOutput ? await KeepOutputAsync(claim, result.Output, cancellationToken).ConfigureAwait(false) : null;
            var outcome = await FinishAsync(claim, false, ActionStatus.Succeeded, result.Result, null, generation, batch,
                cancellationToken).ConfigureAwait(false);
            if (batch is not null) batch.Alongside(ownMessage);
            else await ownMessage.ConfigureAwait(false);
            return outcome with { Output = output, OutputError = claim.OutputError };
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Out of lease: whatever the call did is unknown, so the next attempt reconciles before acting again.
            await ReleaseAsync(claim, true, "The action ran out of its lease.", batch, cancellationToken).ConfigureAwait(false);
            throw new RetryLaterException($"Action {key} of {scope} ran out of its lease ({_options.Value.ActionLease}) and will be retried after "
                + $"checking its effect.", ex);
        }
        catch (ActionFailedException ex)
        {
            switch (ex.Kind)
            {
                case ActionFailureKind.Permanent:
                    return await FinishAsync(claim, false, ActionStatus.Failed, null, ex.Message, generation, batch,
                        cancellationToken).ConfigureAwait(false);
                case ActionFailureKind.NotActed:
                    await ReleaseAsync(claim, mayHaveActed, ex.Message, batch, cancellationToken).ConfigureAwait(false);
                    throw new RetryLaterException($"Action {key} of {scope} will be retried: {ex.Message}", ex, ex.RetryAfter);
                default:
                    if (action.IsIdempotent || action is CreateOrderMessageAction)
                    {
                        await ReleaseAsync(claim, true, ex.Message, batch, cancellationToken).ConfigureAwait(false);
                        throw new RetryLaterException($"Action {key} of {scope} will be retried (after checking its effect): {ex.Message}", ex,
                            ex.RetryAfter);
                    }
                    return await FinishAsync(claim, false, ActionStatus.Unknown, null,
                        $"{ex.Message} The target may have acted, so the action was not repeated automatically. Replay the event to run it again.",
                        generation, batch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException && ex is not RetryLaterException)
        {
            // Unexpected (e.g. a custom handler's exception, or storage failing to record the outcome): release and
            // let the queue retry; MayHaveActed stays set, so the next attempt checks before acting again.
            await ReleaseAsync(claim, true, ex.Message, batch, cancellationToken).ConfigureAwait(false);
            throw new RetryLaterException($"Action {key} of {scope} failed and will be retried: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Puts a step's output on its record before the record is completed: inline when small, else in the payload
    /// container (named after the event, so housekeeping removes it with the event). Over the cap it is not kept, and
    /// the record says why: the action still succeeded and is never repeated, but steps that read it fail.
    /// </summary>
    private async Task<System.Text.Json.Nodes.JsonObject?> KeepOutputAsync(ActionRecord claim, System.Text.Json.Nodes.JsonObject? output,
        CancellationToken cancellationToken)
    {
        claim.Output = null;
        claim.OutputBlob = null;
        claim.OutputError = null;
        output ??= StepOutput.Of(200, null, null);
        var json = output.ToJsonString();
        var bytes = System.Text.Encoding.UTF8.GetByteCount(json);
        var max = _options.Value.MaxStepOutputBytes;
        if (bytes > max)
        {
            claim.OutputError = $"its output is {bytes} bytes, more than Processing__MaxStepOutputBytes ({max}), so it was not kept.";
            return null;
        }
        if (json.Length <= InlineOutputChars)
        {
            claim.Output = json;
        }
        else
        {
            claim.OutputBlob = await _payloads.SaveAsync($"{claim.PartitionKey}/step-{claim.Key}", BinaryData.FromString(json),
                cancellationToken).ConfigureAwait(false);
        }
        return output;
    }

    /// <summary>Table properties hold up to 32K characters; larger outputs go to a blob.</summary>
    private const int InlineOutputChars = 16_000;

    private async Task<ActionOutcome> WithRecordedOutputAsync(ActionOutcome outcome, ActionRecord record, CancellationToken cancellationToken)
    {
        if (record.OutputError is { } error) return outcome with { OutputError = error };
        string? json = record.Output;
        if (json is null && record.OutputBlob is { } blob)
        {
            try
            {
                json = (await _payloads.ReadAsync(blob, cancellationToken).ConfigureAwait(false)).ToString();
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 404)
            {
                return outcome with { OutputError = $"its recorded output ({blob}) is gone." };
            }
        }
        return json is null ? outcome : outcome with { Output = System.Text.Json.Nodes.JsonNode.Parse(json) as System.Text.Json.Nodes.JsonObject };
    }

    private async Task RecordOwnMessageAsync(long messageId, string scope, CancellationToken cancellationToken)
    {
        try
        {
            await _records.AddOwnMessageAsync(messageId, scope, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning("Could not record message {MessageId} as the app's own (its marker still identifies it): {Reason}", messageId,
                ex.Message);
        }
    }

    /// <summary>
    /// Records an action's outcome: a record this attempt claimed waits in the batch (if any) for the next write,
    /// which is the next claim or the event row's final state, while at least half of its lease is left (the wait is
    /// short, but the outcome must be written before another attempt may take the action over); otherwise it is written now.
    /// </summary>
    private async Task<ActionOutcome> FinishAsync(ActionRecord record, bool isNew, string status, string? result, string? error, int generation,
        EventWriteBatch? batch, CancellationToken cancellationToken)
    {
        var leaseLeft = record.LeaseUntil is { } until ? until - _time.GetUtcNow() : TimeSpan.Zero;
        Complete(record, status, result, error, generation);
        if (!isNew && batch is not null && batch.CanHold(record) && record.ETag != default && leaseLeft >= _options.Value.ActionLease / 2)
        {
            batch.Defer(record);
            return Completed(record);
        }
        await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
        var written = isNew ? await _records.TryAddAsync(record, cancellationToken).ConfigureAwait(false) : await _records.TryUpdateAsync(record,
            cancellationToken).ConfigureAwait(false);
        if (!written)
        {
            // Our lease ran out and another attempt took the action over; it reconciles and records the outcome.
            _logger.LogWarning("Action {Key} of {Scope} finished as {Status} but another attempt had taken it over", record.Key,
                record.PartitionKey, status);
        }
        return Completed(record);
    }

    private void Complete(ActionRecord record, string status, string? result, string? error, int generation)
    {
        record.Status = status;
        record.Result = result;
        record.Error = error is null ? null : error.Length > 4000 ? error[..4000] : error;
        record.MayHaveActed = false;
        record.LeaseUntil = null;
        record.CompletedAt = _time.GetUtcNow();
        record.Generation = Math.Max(generation, record.Generation);
    }

    private ActionOutcome Completed(ActionRecord record)
    {
        if (record.Status != ActionStatus.Succeeded) _logger.LogWarning("Action {Key} of {Scope} {Status}: {Error}", record.Key,
            record.PartitionKey, record.Status, record.Error);
        return new ActionOutcome(record.Key, record.Status, record.Result, record.Error, AlreadyDone: false);
    }

    private async Task ReleaseAsync(ActionRecord record, bool mayHaveActed, string error, EventWriteBatch? batch, CancellationToken cancellationToken)
    {
        await FlushAsync(batch, cancellationToken).ConfigureAwait(false);
        record.Status = ActionStatus.Pending;
        record.MayHaveActed = mayHaveActed;
        record.LeaseUntil = _time.GetUtcNow();
        record.Error = error.Length > 4000 ? error[..4000] : error;
        await _records.TryUpdateAsync(record, cancellationToken).ConfigureAwait(false);
    }
}
