using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;

namespace SppFunctions.Tests.Reliability;

/// <summary>
/// Decides, reproducibly (a hash of seed, action and attempt number, not the order threads run in), which action
/// attempts "crash", and remembers the dead attempts so nothing they still try to write reaches storage.
/// </summary>
public sealed class CrashPlan(int seed, double lostSuccessWrite, double crashAfterClaim)
{
    private readonly ConcurrentDictionary<string, bool> _dead = new();
    private readonly ConcurrentDictionary<string, bool> _claimed = new();
    private int _lostSuccessWrites;
    private int _crashesAfterClaim;

    /// <summary>Turn off to let everything through (e.g. for the replay after the chaos).</summary>
    public bool Enabled { get; set; } = true;
    public int LostSuccessWrites => _lostSuccessWrites;
    public int CrashesAfterClaim => _crashesAfterClaim;

    internal bool IsDead(string? owner) => owner is not null && _dead.ContainsKey(owner);

    /// <summary>True the first time an attempt's (owner's) write reaches storage: that write is its claim.</summary>
    internal bool IsClaim(string? owner) => owner is not null && _claimed.TryAdd(owner, true);

    internal bool ShouldLoseSuccessWrite(ActionRecord record) => Enabled && Roll(record, "success") < lostSuccessWrite;

    internal bool ShouldCrashAfterClaim(ActionRecord record) => Enabled && Roll(record, "claim") < crashAfterClaim;

    internal void Kill(ActionRecord record, bool afterClaim)
    {
        _dead[record.Owner!] = true;
        if (afterClaim) Interlocked.Increment(ref _crashesAfterClaim);
        else Interlocked.Increment(ref _lostSuccessWrites);
    }

    private double Roll(ActionRecord record, string what)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}|{what}|{record.PartitionKey}|{record.RowKey}|{record.Attempts}"));
        return BitConverter.ToUInt32(hash, 0) / (double)uint.MaxValue;
    }
}

/// <summary>The process died; whatever the attempt does after this never reaches storage.</summary>
public sealed class SimulatedCrashException(string message) : Exception(message);

/// <summary>
/// The action record store with crashes injected at the two places that matter for at-most-once:
/// <list type="bullet">
///   <item>between the SPP call and its record: the write recording success is lost, and so is every later write of
///   that attempt, so the record stays claimed (MayHaveActed) until its lease runs out, as after a real crash;</item>
///   <item>right after the claim reached storage, before (or while) calling SPP.</item>
/// </list>
/// Generalises the single CrashingRecordStore of ProcessingTests to many concurrent attempts.
/// </summary>
public sealed class ChaosRecordStore(TableServiceClient tables, StorageNames names, CrashPlan plan) : ActionRecordStore(tables, names)
{
    public override async Task<bool> TryAddAsync(ActionRecord record, CancellationToken cancellationToken)
    {
        var claims = BeforeWrite([record]);
        var added = await base.TryAddAsync(record, cancellationToken);
        if (added) AfterWrite(claims);
        return added;
    }

    public override async Task<bool> TryUpdateAsync(ActionRecord record, CancellationToken cancellationToken)
    {
        var claims = BeforeWrite([record]);
        var updated = await base.TryUpdateAsync(record, cancellationToken);
        if (updated) AfterWrite(claims);
        return updated;
    }

    /// <summary>
    /// A transaction of the event's writes (a claim with the previous action's outcome, or an outcome with the event's
    /// final state).
    /// </summary>
    public override async Task<bool> TryCommitAsync(EventWriteBatch batch, ActionRecord? claim, EventEntry? row, CancellationToken cancellationToken)
    {
        var claims = BeforeWrite(claim is null ? batch.Records.ToArray() : [.. batch.Records, claim]);
        var committed = await base.TryCommitAsync(batch, claim, row, cancellationToken);
        if (committed) AfterWrite(claims);
        return committed;
    }

    /// <summary>
    /// Before records go: a write of a crashed attempt never reaches storage, and a success may be lost (the attempt
    /// dies, with whatever would have gone with it). Returns the pending ones among them (claims or releases).
    /// </summary>
    private List<ActionRecord> BeforeWrite(IReadOnlyList<ActionRecord> records)
    {
        if (records.Any(r => plan.IsDead(r.Owner))) throw new SimulatedCrashException("A write of a crashed attempt.");
        foreach (var record in records.Where(r => r.Status == ActionStatus.Succeeded))
        {
            if (!plan.ShouldLoseSuccessWrite(record)) continue;
            plan.Kill(record, afterClaim: false);
            throw new SimulatedCrashException($"Simulated crash after the SPP call of {record.PartitionKey}/{record.RowKey}, before recording it.");
        }
        return records.Where(r => r.Status == ActionStatus.Pending).ToList();
    }

    /// <summary>
    /// After pending records reached storage: those that are their attempt's first write are its claim, and the attempt
    /// may die right then, before (or while) calling SPP. (A claim whose transaction met a conflict and then went alone
    /// counts when it goes.)
    /// </summary>
    private void AfterWrite(List<ActionRecord> pending)
    {
        foreach (var claim in pending.Where(r => plan.IsClaim(r.Owner)).Where(plan.ShouldCrashAfterClaim))
        {
            plan.Kill(claim, afterClaim: true);
            throw new SimulatedCrashException($"Simulated crash after claiming {claim.PartitionKey}/{claim.RowKey}.");
        }
    }
}
