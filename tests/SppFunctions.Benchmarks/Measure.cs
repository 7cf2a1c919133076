using System.Diagnostics;

namespace SppFunctions.Benchmarks;

/// <summary>Latencies of one measured series, in milliseconds.</summary>
public sealed class Samples
{
    private readonly List<double> _ms = new();

    public int Count { get { lock (_ms) return _ms.Count; } }

    public void Add(double ms)
    {
        lock (_ms) _ms.Add(ms);
    }

    public void AddRange(Samples other)
    {
        double[] copy;
        lock (other._ms) copy = other._ms.ToArray();
        lock (_ms) _ms.AddRange(copy);
    }

    public double Median => Percentile(50);
    public double P99 => Percentile(99);
    public double Max { get { lock (_ms) return _ms.Count == 0 ? double.NaN : _ms.Max(); } }
    public double Mean { get { lock (_ms) return _ms.Count == 0 ? double.NaN : _ms.Average(); } }

    /// <summary>Nearest-rank percentile.</summary>
    public double Percentile(double p)
    {
        lock (_ms)
        {
            if (_ms.Count == 0) return double.NaN;
            var sorted = _ms.ToArray();
            Array.Sort(sorted);
            var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
            return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
        }
    }
}

/// <summary>Timing helpers: a fixed number of operations at a fixed concurrency, each timed.</summary>
public static class Measure
{
    /// <summary>
    /// Runs <paramref name="count"/> operations on <paramref name="concurrency"/> workers (each worker takes the next
    /// index when its previous operation ends); records each operation's latency; returns the wall time.
    /// </summary>
    public static async Task<TimeSpan> RunAsync(int count, int concurrency, Func<int, Task> operation, Samples? samples)
    {
        var next = -1;
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= count) return;
                var started = Stopwatch.GetTimestamp();
                await operation(i).ConfigureAwait(false);
                samples?.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        return wall.Elapsed;
    }

    public static string Ms(double ms) => double.IsNaN(ms) ? "n/a" : ms >= 100 ? $"{ms:F0}" : ms >= 10 ? $"{ms:F1}" : $"{ms:F2}";

    public static string Ratio(double ratio) => double.IsNaN(ratio) || double.IsInfinity(ratio) ? "n/a" : $"{ratio:F2}×";

    public static string Verdict(bool pass) => pass ? "**PASS**" : "**MISS**";
}
