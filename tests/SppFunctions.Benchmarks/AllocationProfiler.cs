using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace SppFunctions.Benchmarks;

/// <summary>
/// A sampling allocation profile from inside the process: the runtime's AllocationTick events (one per ~100 KB
/// allocated, naming the type that crossed the mark), summed per type. Used by --profile to see where the bytes go.
/// </summary>
public sealed class AllocationProfiler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private volatile bool _on;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
    }

    public void Start() => _on = true;
    public void Stop() => _on = false;

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        var e = eventData;
        if (!_on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var index = e.PayloadNames!.IndexOf("TypeName");
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        if (index >= 0) _bytes.AddOrUpdate((string)e.Payload[index]!, amount, (_, v) => v + amount);
    }

    public string Top(int count, int operations)
    {
        var total = _bytes.Values.Sum();
        return string.Join('\n', _bytes.OrderByDescending(kv => kv.Value).Take(count)
            .Select(kv => $"  {kv.Value * 100.0 / total,5:F1}%  {kv.Value / 1024.0 / operations,7:F1} KB/op  {kv.Key}"));
    }
}
