using SppFunctions.Benchmarks;

namespace SppFunctions.Tests.Scripts;

/// <summary>scripts/bench.sh's arguments (checked before it starts anything) and the line a benchmark run ends with.</summary>
public class BenchScriptTests
{
    private static async Task<(int ExitCode, ScriptSandbox Copy)> RunAsync(params string[] args)
    {
        // No sources in the copy: a script that went on to build would fail differently.
        var copy = ScriptSandbox.Create(withSources: false);
        // Its own temporary directory: a run would make its work folder (Azurite's data) there.
        copy.Environment["TMPDIR"] = Directory.CreateDirectory(Path.Combine(copy.Root, "..", "tmp")).FullName;
        using var process = copy.Start("scripts/bench.sh", args);
        Assert.True(await ScriptSandbox.EventuallyAsync(() => process.HasExited, TimeSpan.FromSeconds(60)),
            $"bench.sh {string.Join(' ', args)} did not end\n{copy}");
        return (process.ExitCode, copy);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_prints_the_usage_and_starts_nothing(string flag)
    {
        var (exit, copy) = await RunAsync(flag);
        using (copy)
        {
            Assert.True(exit == 0, $"exit {exit}\n{copy}");
            Assert.StartsWith("Usage: ./scripts/bench.sh [--only PARTS] [--quick] [--profile]", copy.Stdout);
            Assert.Contains("--only PARTS", copy.Stdout);
            Assert.Equal("", copy.Stderr);
            Assert.DoesNotContain("Azurite 3.", copy.Stdout); // the line start_throwaway_azurite prints
            Assert.Empty(Directory.EnumerateFileSystemEntries(copy.Environment["TMPDIR"]));
        }
    }

    [Theory]
    [InlineData("error: unknown argument '--bogus'", "--bogus")]
    [InlineData("error: --only: unknown part 'speed'", "--only", "speed")]
    [InlineData("error: --only needs a list", "--only")]
    public async Task A_bad_argument_prints_the_usage_and_exits_2(string message, params string[] args)
    {
        var (exit, copy) = await RunAsync(args);
        using (copy)
        {
            Assert.True(exit == 2, $"exit {exit}\n{copy}");
            Assert.StartsWith(message, copy.Stderr);
            Assert.Contains("Usage: ./scripts/bench.sh", copy.Stderr);
            Assert.Equal("", copy.Stdout);
        }
    }

    [Fact]
    public void A_run_ends_with_one_line_of_goals_met_and_not_met_and_why()
    {
        var verdict = Report.Verdict(
        [
            new Headline("Intake latency, concurrency 1", "≤ 1.3× raw send", "2.37×", false, "3 storage round trips, the floor 1"),
            new Headline("Polling wall time", "info", "3 ms", null),
            new Headline("Memory: peak working set", "no growth (≤ 1.10×)", "1.06×", true),
        ]);

        Assert.DoesNotContain('\n', verdict);
        Assert.StartsWith("Goals: 1 of 2 met (Memory: peak working set); not met: Intake latency, concurrency 1 " +
            "(goal ≤ 1.3× raw send; why: 3 storage round trips, the floor 1).", verdict);
        Assert.Contains("not a failure", verdict);
        Assert.Equal("Goals: all 1 met (Memory: peak working set).", Report.Verdict([new Headline("Memory: peak working set", "g", "1.0×", true)]));
        Assert.Equal("Goals: none measured in this run (informational figures only).",
            Report.Verdict([new Headline("Polling wall time", "info", "3 ms", null)]));
    }
}
