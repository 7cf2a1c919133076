using System.Diagnostics;
using SppFunctions.Benchmarks;

// Usage: SppFunctions.Benchmarks [--only intake,processing,polling,memory] [--quick] [--out docs/BENCHMARKS.md] [--notes file.md]
// scripts/bench.sh starts Azurite, sets SPP_BENCH_STORAGE and runs everything.
if (args.Length > 0 && args[0] == "memory-child") return await MemoryBench.ChildAsync(args);

var options = Options.Parse(args);
var report = new Report();
var clock = Stopwatch.StartNew();
var loadAtStart = Report.LoadAverage();
Console.WriteLine($"SppFunctions benchmarks ({options.Describe()}); load average {Report.LoadAverage()}");
foreach (var (name, run) in new (string, Func<Report, Options, Task>)[]
{
    ("intake", IntakeBench.RunAsync),
    ("processing", ProcessingBench.RunAsync),
    ("polling", PollingBench.RunAsync),
    ("memory", MemoryBench.RunAsync),
})
{
    if (options.Only is { } only && !only.Contains(name)) continue;
    var started = Stopwatch.StartNew();
    Console.WriteLine($"\n>>> {name}");
    await run(report, options);
    Console.WriteLine($"<<< {name}: {started.Elapsed.TotalSeconds:F0} s; load average {Report.LoadAverage()}");
}

var notes = options.NotesFile is { } nf && File.Exists(nf) ? await File.ReadAllTextAsync(nf) : null;
var markdown = report.ToMarkdown(clock.Elapsed, notes, loadAtStart);
if (options.Out is { } path)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    await File.WriteAllTextAsync(path, markdown);
    Console.WriteLine($"\nWrote {path}");
}
Console.WriteLine($"\nSummary ({clock.Elapsed.TotalMinutes:F1} min):");
foreach (var h in report.Headlines) Console.WriteLine($"  {(h.Pass is { } p ? (p ? "PASS" : "MISS") : "info")}  {h.Figure}: {h.Measured}");
Console.WriteLine();
Console.WriteLine(Report.Verdict(report.Headlines));
return 0;

namespace SppFunctions.Benchmarks
{
    public sealed class Options
    {
        public HashSet<string>? Only { get; private init; }
        public bool Quick { get; private init; }
        /// <summary>--profile: print an allocation profile of the hot path instead of measuring (processing).</summary>
        public bool Profile { get; private init; }
        public string? Out { get; private init; }
        public string? NotesFile { get; private init; }

        /// <summary>Iteration counts: full, or a fifth with --quick (for trying a change; not for the report).</summary>
        public int Scale(int full) => Quick ? Math.Max(10, full / 5) : full;

        public string Describe() => Quick ? "Quick run (--quick: a fifth of the iterations)." : "Full run.";

        public static Options Parse(string[] args)
        {
            HashSet<string>? only = null;
            string? output = null, notes = null;
            var quick = false;
            var profile = false;
            for (var i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--only":
                        only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                            .ToHashSet(StringComparer.OrdinalIgnoreCase);
                        break;
                    case "--quick": quick = true; break;
                    case "--profile": profile = true; break;
                    case "--out": output = args[++i]; break;
                    case "--notes": notes = args[++i]; break;
                    default:
                        throw new ArgumentException(
                            $"Unknown argument {args[i]}. Use --only intake,processing,polling,memory, --quick, --out FILE, --notes FILE.");
                }
            }
            return new Options { Only = only, Quick = quick, Out = output, NotesFile = notes, Profile = profile };
        }
    }
}
