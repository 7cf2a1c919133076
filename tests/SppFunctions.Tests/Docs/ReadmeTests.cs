using System.Text.RegularExpressions;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Docs;

/// <summary>
/// The README starts small: its first sections are the walk-through, the tests and the deployment, a newcomer sets up
/// with exactly two commands (run the app, run the tests), CI runs that same test command, and the reference lives in
/// docs/ pages the README links.
/// </summary>
public partial class ReadmeTests
{
    private const string RunCommand = "./scripts/run-local.sh";
    private const string TestCommand = "./scripts/test.sh";

    [GeneratedRegex(@"```bash\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();

    private static string Readme() => File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");

    /// <summary>The text of a "## heading" section, up to the next "## " heading.</summary>
    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf($"\n## {heading}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no \"## {heading}\" section.");
        var end = markdown.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        return markdown[start..(end < 0 ? markdown.Length : end)];
    }

    /// <summary>The commands of the ```bash blocks that run one of the repository's scripts.</summary>
    private static IReadOnlyList<string> ScriptCommands(string markdown) =>
        BashBlock().Matches(markdown).SelectMany(m => m.Groups[1].Value.Split('\n'))
            .Select(l => l.Trim()).Where(l => l.StartsWith("./scripts/", StringComparison.Ordinal)).ToList();

    [Fact]
    public void The_first_sections_are_the_walk_through_the_tests_deployment_and_the_documentation()
    {
        var headings = Readme().Split('\n').Where(l => l.StartsWith("## ", StringComparison.Ordinal)).Select(l => l[3..]).ToList();
        Assert.Equal(["Try it in five minutes", "Run the tests", "Deploy", "Documentation"], headings.Take(4));
    }

    [Fact]
    public void A_newcomer_sets_up_with_exactly_two_commands()
    {
        var readme = Readme();
        Assert.Equal([RunCommand, TestCommand], ScriptCommands(readme).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(RunCommand, ScriptCommands(Section(readme, "Try it in five minutes")));
        Assert.Equal([TestCommand], ScriptCommands(Section(readme, "Run the tests")));
        foreach (var script in new[] { RunCommand, TestCommand })
        {
            var path = Path.Combine(TestPaths.RepositoryRoot, script);
            Assert.True(File.Exists(path), $"{script} is missing.");
            if (!OperatingSystem.IsWindows())
                Assert.True((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0, $"{script} is not executable.");
        }
    }

    [Fact]
    public void CI_runs_the_readme_test_command()
    {
        var commands = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, ".ci", "run"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Where(l => !l.StartsWith("set ", StringComparison.Ordinal) && !l.StartsWith("cd ", StringComparison.Ordinal)).ToList();
        // The test command itself, last, so its "N passed, N failed" line is the last line CI prints.
        Assert.Equal([TestCommand], commands);
        Assert.Contains(TestCommand, ScriptCommands(Section(Readme(), "Run the tests")));
    }

    [Fact]
    public void Every_docs_page_is_linked_from_the_readme()
    {
        var linked = MarkdownLinks.RelativeLinks(Readme()).Select(l => l.File).ToHashSet(StringComparer.Ordinal);
        var pages = Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "docs"), "*.md")
            .Select(p => "docs/" + Path.GetFileName(p))
            // Not a page of its own: bench.sh copies these notes into docs/BENCHMARKS.md, which the README links.
            .Where(p => p != "docs/benchmarks-notes.md");
        Assert.All(pages, page => Assert.Contains(page, linked));
    }
}
