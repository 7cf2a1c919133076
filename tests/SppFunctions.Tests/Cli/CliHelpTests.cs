using System.Diagnostics;
using System.Text.RegularExpressions;
using SppFunctions.Cli;
using static SppFunctions.Tests.Cli.CliTestKit;

namespace SppFunctions.Tests.Cli;

/// <summary><c>--help</c> of every command (found by walking the help itself), its examples, and <c>--version</c>.</summary>
public class CliHelpTests
{
    private static Task<CliRun> Sppfn(params string[] args) => RunAsync(new Dictionary<string, string>(), null, null, args);

    /// <summary>Every command path, from the root's help down through each branch's COMMANDS section.</summary>
    private static async Task<List<(string[] Path, CliRun Help)>> AllCommandsAsync()
    {
        var found = new List<(string[], CliRun)>();
        var pending = new Queue<string[]>([[]]);
        while (pending.TryDequeue(out var path))
        {
            var help = await Sppfn([.. path, "--help"]);
            found.Add((path, help));
            foreach (var name in Section(help.Out, "COMMANDS").Select(l => l.Split(' ', 2)[0]).Where(n => Regex.IsMatch(n, "^[a-z]+$")))
            {
                pending.Enqueue([.. path, name]);
            }
        }
        return found;
    }

    /// <summary>The trimmed lines of a help section, e.g. EXAMPLES or COMMANDS.</summary>
    private static List<string> Section(string help, string title)
    {
        var lines = help.Split('\n').Select(l => l.TrimEnd()).ToList();
        var start = lines.FindIndex(l => l.TrimStart().StartsWith(title + ":", StringComparison.Ordinal));
        if (start < 0) return [];
        return lines.Skip(start + 1).TakeWhile(l => l.Length > 0 && !Regex.IsMatch(l, "^[A-Z]+:")).Select(l => l.Trim()).ToList();
    }

    [Fact]
    public async Task Help_of_every_command_and_subcommand_renders_and_leaf_commands_show_json_and_settings()
    {
        var commands = await AllCommandsAsync();

        var names = commands.Select(c => string.Join(' ', c.Path)).ToList();
        foreach (var expected in new[]
            { "send", "events list", "events replay", "watch cursors", "api", "sandbox", "sandbox start", "sandbox message", "messages create" })
        {
            Assert.Contains(expected, names);
        }
        foreach (var (path, help) in commands)
        {
            Assert.True(help.ExitCode == 0 && help.Error.Length == 0, $"sppfn {string.Join(' ', path)} --help:\n{help}");
            Assert.Contains("USAGE:", help.Out);
            var isBranch = Section(help.Out, "COMMANDS").Count > 0;
            if (path.Length > 0 && !isBranch)
            {
                Assert.True(help.Out.Contains("--json", StringComparison.Ordinal) && help.Out.Contains("--settings <PATH>", StringComparison.Ordinal),
                    $"sppfn {string.Join(' ', path)} --help does not show --json and --settings:\n{help.Out}");
            }
            var shortHelp = await Sppfn([.. path, "-h"]);
            Assert.Equal(help.Out, shortHelp.Out);
        }
    }

    [Theory]
    [InlineData("api", "--help")]
    [InlineData("api", "-h")]
    [InlineData("api", "GET", "orders", "--help")]
    public async Task Api_help_shows_the_query_example_text_literally(params string[] args)
    {
        var help = await Sppfn(args);
        Assert.True(help.ExitCode == 0 && help.Error.Length == 0, help.ToString());
        Assert.Contains("filters[id][$in][]=1", help.Out);
    }

    [Fact]
    public async Task Every_help_example_pasted_into_bash_gives_the_arguments_it_stands_for()
    {
        foreach (var (path, examples) in SppCli.Examples)
        {
            var help = await Sppfn([.. path.Split(' '), "--help"]);
            var lines = Section(help.Out, "EXAMPLES");
            Assert.True(lines.Count == examples.Length, $"sppfn {path} --help shows {lines.Count} examples, not {examples.Length}:\n{help.Out}");
            for (var i = 0; i < examples.Length; i++)
            {
                Assert.Equal(new[] { SppCli.Name }.Concat(examples[i]), await BashWordsAsync(lines[i]));
            }
        }
    }

    /// <summary>The words bash makes of a command line.</summary>
    private static async Task<string[]> BashWordsAsync(string line)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("printf '%s\\0' " + line);
        using var bash = Process.Start(start)!;
        var output = await bash.StandardOutput.ReadToEndAsync();
        await bash.WaitForExitAsync();
        Assert.True(bash.ExitCode == 0, $"bash refused: {line}\n{await bash.StandardError.ReadToEndAsync()}");
        return output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("-v")]
    public async Task Version_prints_the_tools_version(string flag)
    {
        var run = await Sppfn(flag);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"^\d+\.\d+\.\d+", SppCli.Version);
        Assert.Equal(SppCli.Version, run.Out.Trim());
        Assert.Equal("", run.Error);
    }
}
