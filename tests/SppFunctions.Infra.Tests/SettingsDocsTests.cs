using System.Text.RegularExpressions;
using SppFunctions.Infra.Tests.Infrastructure;
using SppFunctions.Processing.Templates;

namespace SppFunctions.Infra.Tests;

/// <summary>
/// docs/settings.md's table against the settings the code binds (the same reflection and functions.metadata as
/// <see cref="AppSettingsTests"/>): every setting has a row, every row names a setting something reads, and each
/// default the table states is the code's.
/// </summary>
public partial class SettingsDocsTests
{
    private const string Page = "docs/settings.md";

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    private static readonly Lazy<SettingsContract> CodeContract = new(() => new SettingsContract(
        CodeSettings.Bound(CodeSettings.AppAssemblies()),
        FunctionsMetadataSettings.Load(Path.Combine(TestPaths.FunctionsOutputDirectory, "functions.metadata"))));

    /// <summary>One row: the settings it names, and its Default column's values when that column is only code values.</summary>
    private sealed record Row(int Line, IReadOnlyList<string> Names, IReadOnlyList<string> Defaults);

    private static IReadOnlyList<Row> Rows() => ParseRows(File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, Page)));

    /// <summary>
    /// The rows of the "| Setting | Required | Default | Meaning |" table. A name written as `__Sub` after a full name
    /// replaces that name's last part (`Spp__Retry__BaseDelay` / `__MaxDelay`); `&lt;Name&gt;` stands for any name.
    /// </summary>
    private static IReadOnlyList<Row> ParseRows(IReadOnlyList<string> lines)
    {
        var header = lines.ToList().FindIndex(l => l.StartsWith("| Setting | Required | Default |", StringComparison.Ordinal));
        Assert.True(header >= 0, $"{Page} has no \"| Setting | Required | Default | Meaning |\" table.");
        var rows = new List<Row>();
        for (var i = header + 2; i < lines.Count && lines[i].StartsWith('|'); i++)
        {
            var cells = lines[i].Trim('|').Split(" | ");
            var names = new List<string>();
            string? previous = null;
            foreach (Match m in CodeSpan().Matches(cells[0]))
            {
                var token = m.Groups[1].Value.Replace("<Name>", "Name", StringComparison.Ordinal);
                var name = token.StartsWith("__", StringComparison.Ordinal) && previous is not null
                    ? previous[..previous.LastIndexOf("__", StringComparison.Ordinal)] + token
                    : token;
                names.Add(name);
                if (!token.StartsWith("__", StringComparison.Ordinal)) previous = token;
            }
            var defaultCell = cells[2].Trim();
            var defaults = defaultCell.Split(" / ").All(v => Regex.IsMatch(v, "^`[^`]+`$"))
                ? defaultCell.Split(" / ").Select(v => v.Trim('`')).ToList()
                : [];
            rows.Add(new Row(i + 1, names, defaults));
        }
        return rows;
    }

    /// <summary>
    /// Read without an options class: the host's storage (a connection string or its identity-based settings; the
    /// contract with the template leaves it out on purpose) and the rule secrets, a section of any names.
    /// </summary>
    private static bool IsReadDirectly(string name) =>
        name.Equals(FunctionsMetadataSettings.DefaultConnection, StringComparison.OrdinalIgnoreCase)
        || name.StartsWith(FunctionsMetadataSettings.DefaultConnection + "__", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith(TemplateEngine.SecretsSection + "__", StringComparison.OrdinalIgnoreCase);

    [Fact]
    public void The_table_is_read()
    {
        // Guards the parsing: with no rows, the checks below would pass vacuously.
        var rows = Rows();
        Assert.Contains(rows, r => r.Names.Contains("Spp__BaseUrl") && r.Defaults.Count == 0);
        Assert.Contains(rows, r => r.Names.SequenceEqual(["Spp__Retry__BaseDelay", "Spp__Retry__MaxDelay"]) && r.Defaults.Count == 2);
        Assert.Contains(rows, r => r.Names.Contains("Spp__CircuitBreaker__BreakDuration"));
    }

    [Fact]
    public void Every_setting_the_code_reads_has_a_row()
    {
        var contract = CodeContract.Value;
        var documented = Rows().SelectMany(r => r.Names).ToList();
        var missing = contract.Bound.Where(b => !documented.Any(b.Covers)).Select(b => $"{b.Name} ({b.Source})")
            .Concat(contract.Metadata.Expressions.Select(e => e.Replace(":", "__", StringComparison.Ordinal))
                .Where(e => !documented.Contains(e, StringComparer.OrdinalIgnoreCase)).Select(e => $"{e} (functions.metadata)"))
            .Concat(contract.Metadata.Connections.Where(c => !documented.Contains(c, StringComparer.OrdinalIgnoreCase)))
            .ToList();
        Assert.True(missing.Count == 0, $"{Page} has no row for these settings the code reads:\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void Every_row_names_a_setting_the_code_or_the_platform_reads()
    {
        var documented = Rows().SelectMany(r => r.Names).Distinct().ToDictionary(n => n, _ => "");
        var unknown = CodeContract.Value.Unknown(documented).Where(n => !IsReadDirectly(n)).ToList();
        Assert.True(unknown.Count == 0, $"{Page} documents settings nothing reads (renamed or removed in code?):\n  " + string.Join("\n  ", unknown));
    }

    [Fact]
    public void Defaults_in_the_table_are_the_code_defaults()
    {
        var stated = Rows().Where(r => r.Defaults.Count > 0).ToList();
        Assert.All(stated, r => Assert.True(r.Names.Count == r.Defaults.Count, $"{Page}:{r.Line}: one default per setting"));
        var values = stated.SelectMany(r => r.Names.Zip(r.Defaults)).ToDictionary(p => p.First, p => p.Second);
        var wrong = CodeContract.Value.WrongDefaults(values);
        Assert.True(wrong.Count == 0, $"{Page} states defaults the code does not have:\n  " + string.Join("\n  ", wrong));
    }

    [Fact]
    public void A_wrong_default_and_a_missing_row_are_found()
    {
        var rows = ParseRows([
            "| Setting | Required | Default | Meaning |",
            "|---|---|---|---|",
            "| `Spp__Retry__BaseDelay` / `__MaxDelay` | no | `00:00:00.5` / `00:00:11` | Back-off. |",
        ]);
        Assert.Equal(["Spp__Retry__BaseDelay", "Spp__Retry__MaxDelay"], rows.Single().Names);
        var values = rows.Single().Names.Zip(rows.Single().Defaults).ToDictionary(p => p.First, p => p.Second);
        Assert.Contains(CodeContract.Value.WrongDefaults(values), w => w.StartsWith("Spp__Retry__MaxDelay = '00:00:11'", StringComparison.Ordinal));
        Assert.DoesNotContain(CodeContract.Value.WrongDefaults(values), w => w.StartsWith("Spp__Retry__BaseDelay", StringComparison.Ordinal));
        Assert.Contains(CodeContract.Value.Bound, b => b.Name == "Spp__ApiKey" && !rows.Single().Names.Any(b.Covers));
    }
}
