using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SppFunctions.Infra.Tests.Infrastructure;

namespace SppFunctions.Infra.Tests;

/// <summary>Every template builds and lints with the pinned Bicep CLI without a single diagnostic (warnings fail).</summary>
public class BicepBuildTests
{
    /// <summary>The modules of the deployment; new .bicep files are checked too, these must exist.</summary>
    public static readonly string[] ExpectedTemplates =
    [
        "main.bicep", "app/api.bicep", "app/contract.bicep", "app/flex.bicep", "app/identity.bicep", "app/keyvault.bicep",
        "app/monitoring.bicep", "app/rbac.bicep", "app/storage.bicep",
    ];

    public static TheoryData<string> TemplateFiles() => new(Bicep.TemplateFiles().Select(Bicep.RelativeName));

    [Fact]
    public void The_pinned_bicep_cli_runs()
    {
        var result = Bicep.Run(TestPaths.InfraDirectory, "--version");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Bicep CLI version {TestPaths.BicepVersion} ", result.StandardOutput);
    }

    [Fact]
    public void Infra_holds_the_expected_templates()
    {
        var found = Bicep.TemplateFiles().Select(Bicep.RelativeName).ToHashSet();
        var missing = ExpectedTemplates.Where(t => !found.Contains(t)).ToList();
        Assert.True(missing.Count == 0, $"Missing templates: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(TemplateFiles))]
    public void Builds_without_diagnostics(string template)
    {
        var build = Templates.BuildAll;
        var file = Path.Combine(TestPaths.InfraDirectory, template);
        Assert.True(build.Output.ExitCode == 0, build.Output.ToString());
        Assert.True(build.Output.DiagnosticsOf(file).Count == 0, $"{template}:\n{string.Join('\n', build.Output.DiagnosticsOf(file))}");
        var compiled = Path.ChangeExtension(template, ".json");
        Assert.True(build.Compiled.ContainsKey(compiled), $"{template} was not compiled (no {compiled}).\n{build.Output}");
        Assert.NotNull(JsonNode.Parse(build.Compiled[compiled])!["$schema"]);
    }

    [Theory]
    [MemberData(nameof(TemplateFiles))]
    public void Lints_without_diagnostics(string template)
    {
        var lint = Templates.LintAll;
        var file = Path.Combine(TestPaths.InfraDirectory, template);
        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.True(lint.DiagnosticsOf(file).Count == 0, $"{template}:\n{string.Join('\n', lint.DiagnosticsOf(file))}");
    }

    [Fact]
    public void Build_and_lint_print_no_diagnostics_at_all()
    {
        // Catches what the per-file checks cannot attribute to a file (e.g. a bicepconfig.json problem).
        Assert.True(Templates.BuildAll.Output.Diagnostics.Count == 0, Templates.BuildAll.Output.ToString());
        Assert.True(Templates.LintAll.Diagnostics.Count == 0, Templates.LintAll.ToString());
    }

    [Fact]
    public void The_checks_leave_nothing_in_the_temp_directory()
    {
        // The build's output was read into memory and its directory deleted.
        Assert.NotEmpty(Templates.BuildAll.Compiled);
        Assert.False(Directory.Exists(Templates.BuildAll.Directory), $"{Templates.BuildAll.Directory} is left over");

        // A scratch directory goes whether the work in it succeeds or fails (e.g. an evaluation ending in fail()).
        var used = new List<string>();
        Assert.Equal(1, Templates.InScratch("test", directory =>
        {
            used.Add(directory);
            File.WriteAllText(Path.Combine(directory, "file.txt"), "x");
            return 1;
        }));
        Assert.Throws<InvalidOperationException>(() => Templates.InScratch<int>("test", directory =>
        {
            used.Add(directory);
            Directory.CreateDirectory(Path.Combine(directory, "sub"));
            throw new InvalidOperationException("the work failed");
        }));
        Assert.Equal(2, used.Count);
        Assert.All(used, directory => Assert.False(Directory.Exists(directory), $"{directory} is left over"));
        Assert.Throws<InvalidOperationException>(() => Templates.EvaluateSource("output failed string = fail('on purpose')"));
    }

    [Fact]
    public void Diagnostic_lines_are_recognised()
    {
        // The per-file checks attribute stderr lines to files by this shape; a warning must be caught.
        const string line = "/repo/infra/app/x.bicep(1,7) : Warning no-unused-params: Parameter \"unused\" is declared but never used.";
        var result = new BicepResult("bicep lint", 0, "", line + "\n");
        Assert.Single(result.DiagnosticsOf("/repo/infra/app/x.bicep"));
        Assert.Empty(result.DiagnosticsOf("/repo/infra/app/y.bicep"));
        Assert.Matches(Bicep.DiagnosticLine(), line);
    }

    [Fact]
    public void Parameters_file_names_only_parameters_main_declares_and_every_required_one()
    {
        var declared = Templates.Main["parameters"]!.AsObject();
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();

        var undeclared = file.Select(p => p.Key).Where(name => !declared.ContainsKey(name)).ToList();
        Assert.True(undeclared.Count == 0, $"main.parameters.json sets parameters main.bicep does not declare: {string.Join(", ", undeclared)}");

        var required = declared.Where(p => p.Value!["defaultValue"] is null).Select(p => p.Key).ToList();
        var unset = required.Where(name => !file.ContainsKey(name)).ToList();
        Assert.True(unset.Count == 0, $"main.parameters.json does not set required parameters: {string.Join(", ", unset)}");
    }

    [Fact]
    public void Parameters_file_takes_secure_values_from_the_environment_only()
    {
        var declared = Templates.Main["parameters"]!.AsObject();
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();
        var secure = declared.Where(p => ((string)p.Value!["type"]!).StartsWith("secure", StringComparison.OrdinalIgnoreCase))
            .Select(p => p.Key).ToList();
        Assert.NotEmpty(secure);
        foreach (var name in secure.Where(file.ContainsKey))
        {
            var value = file[name]!["value"]?.ToString() ?? "";
            Assert.True(Regex.IsMatch(value, @"^\$\{[A-Z0-9_]+=?\}$"),
                $"{name} must come from an azd environment variable (\"${{NAME}}\"), not '{value}'.");
        }
    }

    [Fact]
    public void Azure_yaml_deploys_the_functions_project_as_service_api()
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "azure.yaml")).Select(l => l.TrimEnd()).ToList();
        Assert.Contains("services:", lines);
        Assert.Contains("  api:", lines);
        Assert.Contains("    project: ./src/SppFunctions", lines);
        Assert.Contains("    language: dotnet", lines);
        Assert.Contains("    host: function", lines);
        Assert.True(File.Exists(Path.Combine(TestPaths.RepositoryRoot, "src/SppFunctions/SppFunctions.csproj")));
    }
}
