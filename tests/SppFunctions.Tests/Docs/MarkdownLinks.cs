using System.Text;
using System.Text.RegularExpressions;

namespace SppFunctions.Tests.Docs;

/// <summary>A relative link of a Markdown page: its line, the file part (empty for a link within the page) and the anchor.</summary>
public sealed record MarkdownLink(int Line, string Target, string File, string? Anchor);

/// <summary>
/// Reads the relative links and the heading anchors of Markdown pages the way GitHub renders them, so a page moved or a
/// heading renamed shows up as a broken link in a test instead of on GitHub.
/// </summary>
public static partial class MarkdownLinks
{
    // [text](target) and ![alt](target), with an optional title; <target> form too. Reference-style links are not used.
    [GeneratedRegex(@"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?(?<target>[^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^ {0,3}(?<marks>#{1,6})\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^ {0,3}(?<fence>```+|~~~+)")]
    private static partial Regex Fence();

    [GeneratedRegex(@"(`+).*?\1")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Scheme();

    /// <summary>The lines outside fenced code blocks, with their 1-based numbers: a `# comment` in a bash block is no heading.</summary>
    public static IEnumerable<(int Number, string Text)> ProseLines(string markdown)
    {
        string? fence = null;
        var number = 0;
        foreach (var line in markdown.ReplaceLineEndings("\n").Split('\n'))
        {
            number++;
            var match = Fence().Match(line);
            if (fence is null && match.Success) { fence = match.Groups["fence"].Value; continue; }
            if (fence is not null)
            {
                // A fence closes with the same character, at least as long, and nothing after it.
                if (match.Success && match.Groups["fence"].Value[0] == fence[0] && match.Groups["fence"].Length >= fence.Length
                    && line.Trim().Trim(fence[0]).Length == 0) fence = null;
                continue;
            }
            yield return (number, line);
        }
    }

    /// <summary>Links to other files of the repository or to anchors: those with a scheme (https:, mailto:) are left out.</summary>
    public static IReadOnlyList<MarkdownLink> RelativeLinks(string markdown)
    {
        var links = new List<MarkdownLink>();
        foreach (var (number, line) in ProseLines(markdown))
        {
            foreach (Match match in InlineLink().Matches(CodeSpan().Replace(line, "")))
            {
                var target = match.Groups["target"].Value;
                if (Scheme().IsMatch(target)) continue;
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var file = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
                links.Add(new MarkdownLink(number, target, file, hash < 0 ? null : target[(hash + 1)..]));
            }
        }
        return links;
    }

    /// <summary>The anchors GitHub gives the page's headings; a repeated heading gets -1, -2, ... appended.</summary>
    public static IReadOnlySet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, line) in ProseLines(markdown))
        {
            var match = Heading().Match(line);
            if (!match.Success) continue;
            var slug = Slug(match.Groups["text"].Value);
            var count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }
        return anchors;
    }

    /// <summary>
    /// GitHub's heading anchor: the text of the heading (link targets dropped), lower case, every character that is not
    /// a letter, digit, space, hyphen or underscore removed, spaces turned into hyphens.
    /// </summary>
    public static string Slug(string heading)
    {
        var text = InlineLink().Replace(heading, m => LinkText(m.Value));
        var slug = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_') slug.Append(c);
            else if (c == ' ') slug.Append('-');
        }
        return slug.ToString();
    }

    private static string LinkText(string link) =>
        link[(link.IndexOf('[', StringComparison.Ordinal) + 1)..link.IndexOf("](", StringComparison.Ordinal)];

    /// <summary>
    /// The broken links of one page (path relative to the repository root): a file that does not exist, or an anchor that
    /// is no heading of the Markdown page it points to. Each as "page:line: target (why)".
    /// </summary>
    public static IReadOnlyList<string> BrokenLinks(string repositoryRoot, string page)
    {
        var path = Path.Combine(repositoryRoot, page);
        var broken = new List<string>();
        foreach (var link in RelativeLinks(File.ReadAllText(path)))
        {
            var target = link.File.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, link.File));
            string? why = null;
            if (!Path.GetFullPath(target).StartsWith(Path.GetFullPath(repositoryRoot), StringComparison.Ordinal)) why = "outside the repository";
            else if (!File.Exists(target) && !Directory.Exists(target)) why = "no such file";
            else if (link.Anchor is { Length: > 0 } anchor)
            {
                if (!target.EndsWith(".md", StringComparison.OrdinalIgnoreCase)) why = "an anchor into a file that is not Markdown";
                else if (!Anchors(File.ReadAllText(target)).Contains(anchor)) why = $"no heading with the anchor #{anchor}";
            }
            if (why is not null) broken.Add($"{page}:{link.Line}: {link.Target} ({why})");
        }
        return broken;
    }
}
