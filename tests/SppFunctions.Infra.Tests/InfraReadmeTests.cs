using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SppFunctions.Infra.Tests.Infrastructure;

namespace SppFunctions.Infra.Tests;

/// <summary>
/// infra/README.md's parameter table and infra/main.parameters.json against main.bicep: every parameter documented with
/// the azd variable that sets it and its real default, and azd's defaults the same as the template's.
/// </summary>
public class InfraReadmeTests
{
    private sealed record Row(string Parameter, string Variable, string Default);

    private static List<Row> ParameterTable()
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.InfraDirectory, "README.md"));
        var start = Array.FindIndex(lines, l => l.StartsWith("## Parameters", StringComparison.Ordinal));
        Assert.True(start >= 0, "infra/README.md has no \"## Parameters\" section.");
        return lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .Select(l => l.Split('|').Select(c => c.Trim()).ToArray())
            .Select(c => new Row(c[1].Trim('`'), c[2].Trim('`'), c[3]))
            .ToList();
    }

    private static JsonObject Declared => Templates.Main["parameters"]!.AsObject();

    private static JsonObject ParametersFile =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();

    /// <summary>The azd variable and its default in a parameters-file value such as "${NAME=default}".</summary>
    private static (string Name, string? Default)? AzdVariable(JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var text)
            && Regex.Match(text, @"^\$\{(?<name>[A-Z0-9_]+)(=(?<default>[^}]*))?\}$") is { Success: true } m
            ? (m.Groups["name"].Value, m.Groups[3].Success ? m.Groups["default"].Value : null)
            : null;

    private static string Text(JsonNode node) => node.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.True => "true",
        System.Text.Json.JsonValueKind.False => "false",
        System.Text.Json.JsonValueKind.Number => node.GetValue<long>().ToString(CultureInfo.InvariantCulture),
        System.Text.Json.JsonValueKind.String => node.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    [Fact]
    public void The_readme_documents_every_parameter_and_no_other()
    {
        var documented = ParameterTable().Select(r => r.Parameter).ToList();
        Assert.Equal(Declared.Select(p => p.Key).Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_readme_names_the_azd_variable_of_each_parameter()
    {
        var file = ParametersFile;
        foreach (var row in ParameterTable().Where(r => file.ContainsKey(r.Parameter)))
        {
            if (AzdVariable(file[row.Parameter]!["value"]) is not { } variable) continue;
            Assert.True(variable.Name == row.Variable, $"{row.Parameter}: README says {row.Variable}, main.parameters.json {variable.Name}");
        }
    }

    [Fact]
    public void Number_and_switch_defaults_in_the_readme_are_the_templates()
    {
        foreach (var row in ParameterTable())
        {
            var definition = Declared[row.Parameter]!;
            if (definition["type"]!.GetValue<string>() is not ("int" or "bool") || definition["defaultValue"] is not { } value) continue;
            Assert.True($"`{Text(value)}`" == row.Default, $"{row.Parameter}: README says {row.Default}, main.bicep `{Text(value)}`");
        }
    }

    [Fact]
    public void Azd_defaults_in_the_parameters_file_are_the_templates()
    {
        foreach (var (name, entry) in ParametersFile)
        {
            if (AzdVariable(entry!["value"]) is not { Default: { } azdDefault }
                || Declared[name]!["defaultValue"] is not { } templateDefault) continue;
            Assert.True(azdDefault == Text(templateDefault),
                $"{name}: main.parameters.json defaults to '{azdDefault}', main.bicep to '{Text(templateDefault)}'");
        }
        // The check reads the defaults it compares (it would pass vacuously otherwise).
        Assert.Equal(("FUNCTION_MAXIMUM_INSTANCE_COUNT", "4"), AzdVariable(ParametersFile["maximumInstanceCount"]!["value"]));
    }
}
