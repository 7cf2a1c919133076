using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace SppFunctions.Benchmarks;

/// <summary>
/// One headline figure: what was measured, its goal, the ratio to its floor, whether it meets the goal, and why it may
/// not (what the figure is made of, in a few words).
/// </summary>
public sealed record Headline(string Figure, string Goal, string Measured, bool? Pass, string? Why = null);

/// <summary>Collects the sections and headline figures of a run and writes docs/BENCHMARKS.md.</summary>
public sealed class Report
{
    private readonly List<(string Title, string Body)> _sections = new();
    public List<Headline> Headlines { get; } = new();

    public void Section(string title, string body)
    {
        _sections.Add((title, body));
        Console.WriteLine($"\n## {title}\n{body}");
    }

    public void Headline(Headline headline)
    {
        Headlines.Add(headline);
        Console.WriteLine(
            $"  => {headline.Figure}: {headline.Measured} (goal {headline.Goal}) {(headline.Pass is { } p ? (p ? "PASS" : "MISS") : "")}");
    }

    /// <summary>
    /// The run's last line: which goals are met and which are not, and why, so a reader of a run with misses does not
    /// take it for a failure (a figure that is wrong, rather than slow, throws and ends the run).
    /// </summary>
    public static string Verdict(IReadOnlyList<Headline> headlines)
    {
        var goals = headlines.Where(h => h.Pass is not null).ToList();
        if (goals.Count == 0) return "Goals: none measured in this run (informational figures only).";
        var met = goals.Where(h => h.Pass == true).Select(h => h.Figure).ToList();
        var missed = goals.Where(h => h.Pass == false).ToList();
        if (missed.Count == 0) return $"Goals: all {goals.Count} met ({string.Join("; ", met)}).";
        return $"Goals: {met.Count} of {goals.Count} met{(met.Count > 0 ? $" ({string.Join("; ", met)})" : "")}; not met: " +
            string.Join("; ", missed.Select(h => $"{h.Figure} (goal {h.Goal}{(h.Why is null ? "" : $"; why: {h.Why}")})")) +
            ". Not met is a finding about speed, not a failure: every correctness check of the run passed " +
            "(docs/benchmarks-notes.md, \"Goals that are not met, and why\").";
    }

    public string ToMarkdown(TimeSpan duration, string? notes, string loadAtStart)
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine("Written by `./scripts/bench.sh` (tests/SppFunctions.Benchmarks) from a real run; do not edit by hand, re-run it.");
        md.AppendLine("Everything runs on loopback: Azurite (started by the script on free ports, throw-away account) and the fake SPP");
        md.AppendLine("server (src/SppFunctions.Sandbox, request recording off except where calls are counted). Every figure is a");
        md.AppendLine("ratio against a floor measured in the same run, on the same machine, at the same concurrency.");
        md.AppendLine();
        md.AppendLine("## Machine");
        md.AppendLine();
        foreach (var (k, v) in MachineInfo())
        {
            if (k.StartsWith("Load average", StringComparison.Ordinal)) md.AppendLine($"- **Load average (1/5/15 min) at the start**: {loadAtStart}");
            md.AppendLine($"- **{k}**: {v}");
        }
        md.AppendLine($"- **Run took**: {duration.TotalMinutes:F1} min");
        md.AppendLine();
        md.AppendLine("## Summary");
        md.AppendLine();
        md.AppendLine("| Figure | Goal | Measured | Verdict |");
        md.AppendLine("|---|---|---|---|");
        foreach (var h in Headlines) md.AppendLine($"| {h.Figure} | {h.Goal} | {h.Measured} | {(h.Pass is { } p ? Measure.Verdict(p) : "info")} |");
        md.AppendLine();
        if (!string.IsNullOrWhiteSpace(notes))
        {
            md.AppendLine(notes.TrimEnd());
            md.AppendLine();
        }
        foreach (var (title, body) in _sections)
        {
            md.AppendLine($"## {title}");
            md.AppendLine();
            md.AppendLine(body.TrimEnd());
            md.AppendLine();
        }
        return md.ToString();
    }

    public static IEnumerable<(string, string)> MachineInfo()
    {
        yield return ("Date", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'"));
        yield return ("CPU", CpuModel());
        yield return ("Cores (logical)", Environment.ProcessorCount.ToString());
        yield return ("RAM", MemTotal());
        yield return ("OS", RuntimeInformation.OSDescription);
        yield return (".NET", $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture}), " +
            $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, Release build");
        yield return ("Azurite", Environment.GetEnvironmentVariable("SPP_BENCH_AZURITE_VERSION") ?? "unknown");
        yield return ("Node.js", Environment.GetEnvironmentVariable("SPP_BENCH_NODE_VERSION") ?? "unknown");
        yield return ("Load average (1/5/15 min) at the end", LoadAverage());
    }

    /// <summary>/proc/loadavg: other work on the machine during the run shows here (the ratios are robust to it, absolute times are not).</summary>
    public static string LoadAverage()
    {
        try { return string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string MemTotal()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb))
                return $"{kb / 1024.0 / 1024.0:F1} GiB";
        }
        catch (IOException) { }
        return $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024:F1} GiB (as seen by the GC)";
    }

    public static string Git(string args)
    {
        try
        {
            var psi = new ProcessStartInfo("git", args) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return text;
        }
        catch (Exception)
        {
            return "";
        }
    }
}
