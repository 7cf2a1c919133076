using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Docs;

/// <summary>
/// Every relative link of README.md, docs/*.md and infra/README.md leads to a file of the repository, and every #anchor to
/// a heading of the page it names, so moving text between pages cannot leave a dead link behind.
/// </summary>
public class DocsLinkTests
{
    public static TheoryData<string> Pages()
    {
        var root = TestPaths.RepositoryRoot;
        var pages = new TheoryData<string> { "README.md", "infra/README.md" };
        foreach (var page in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal))
            pages.Add(Path.GetRelativePath(root, page).Replace('\\', '/'));
        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_relative_link_resolves(string page)
    {
        var broken = MarkdownLinks.BrokenLinks(TestPaths.RepositoryRoot, page);
        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void The_pages_link_to_each_other()
    {
        // Else the check above would pass on pages without relative links and prove nothing.
        var readme = MarkdownLinks.RelativeLinks(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md")));
        Assert.Contains(readme, l => l.File == "docs/rules.md");
        Assert.Contains(readme, l => l.File.Length == 0 && l.Anchor == "try-it-in-five-minutes");
        Assert.Contains(readme, l => l.File == "infra/README.md" && l.Anchor == "when-azure-is-slow");
    }

    [Fact]
    public void A_missing_file_a_missing_anchor_and_a_link_out_of_the_repository_are_reported()
    {
        var root = Directory.CreateTempSubdirectory("sppfunctions-docs-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "docs"));
            File.WriteAllText(Path.Combine(root, "docs", "a.md"), "# Page A\n\n## Section one\n\ntext\n");
            File.WriteAllText(Path.Combine(root, "README.md"), string.Join('\n',
                "# Title",
                "[ok](docs/a.md) [ok too](docs/a.md#section-one) [here](#title) [web](https://example.com/x.md)",
                "[gone](docs/b.md) [no anchor](docs/a.md#section-two) [up](../outside.md)",
                "[here, wrong](#nothing)",
                "```bash",
                "# a comment, not a heading; [in code](docs/none.md)",
                "```",
                "`[in a code span](docs/none.md)`",
                ""));

            Assert.Equal(
                [
                    "README.md:3: docs/b.md (no such file)",
                    "README.md:3: docs/a.md#section-two (no heading with the anchor #section-two)",
                    "README.md:3: ../outside.md (outside the repository)",
                    "README.md:4: #nothing (no heading with the anchor #nothing)",
                ],
                MarkdownLinks.BrokenLinks(root, "README.md"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("From Make to rules.json", "from-make-to-rulesjson")]
    [InlineData("Running locally: run-local.sh", "running-locally-run-localsh")]
    [InlineData("Scale and SPP's limits", "scale-and-spps-limits")]
    [InlineData("`sppfn` — the CLI", "sppfn--the-cli")]
    [InlineData("Custom C# handlers", "custom-c-handlers")]
    [InlineData("See [the rules](rules.md) first", "see-the-rules-first")]
    public void Anchors_are_the_ones_GitHub_makes(string heading, string anchor)
    {
        Assert.Equal(anchor, MarkdownLinks.Slug(heading));
    }

    [Fact]
    public void A_repeated_heading_gets_a_numbered_anchor()
    {
        Assert.Equal(["notes", "notes-1", "notes-2"], MarkdownLinks.Anchors("## Notes\n\n## Notes\n\n### Notes\n").Order());
    }
}
