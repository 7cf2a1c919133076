using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SppFunctions.Infra.Tests.Infrastructure;

namespace SppFunctions.Infra.Tests;

/// <summary>
/// infra/scripts/refresh-keyvault-references.sh, the azd postprovision hook. No Azure here: a stand-in <c>az</c> on a PATH
/// of its own records every call and answers the status query from files, one answer per check. The query itself is
/// evaluated with a JMESPath implementation against the shape App Service returns.
/// </summary>
public sealed class KeyVaultRefreshScriptTests : IDisposable
{
    private const string Subscription = "00000000-0000-0000-0000-0000000000aa";
    private const string Site = $"/subscriptions/{Subscription}/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-test";
    private const string References = $"https://management.azure.com{Site}/config/configreferences/appsettings";

    private const string FakeAz = """
        #!/usr/bin/env bash
        # Stand-in for the Azure CLI: records each call, answers from files in $FAKE_AZ.
        dir="$FAKE_AZ"
        printf '%s\n' "$*" >> "$dir/calls"
        case "$1 $2" in
          "account show")
            if [[ -f $dir/signed-out ]]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
            echo 00000000-0000-0000-0000-0000000000aa ;;
          "rest --method")
            case "$3" in
              post)
                if [[ -f $dir/refresh-fails ]]; then
                  echo "ERROR: (ResourceNotFound) The Resource 'Microsoft.Web/sites/func-test' was not found." >&2; exit 3
                fi ;;
              get)
                n=$(( $(cat "$dir/gets" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$dir/gets"
                answer="$dir/status-$n.tsv"; [[ -f $answer ]] || answer="$dir/status-last.tsv"
                cat "$answer" ;;
            esac ;;
          "functionapp restart") ;;
          *) echo "fake az: unexpected call: $*" >&2; exit 99 ;;
        esac
        """;

    private static readonly string Script = Path.Combine(TestPaths.InfraDirectory, "scripts", "refresh-keyvault-references.sh");

    private readonly string _root = Directory.CreateTempSubdirectory("sppfunctions-infra-kvscript-").FullName;

    private string Bin => Path.Combine(_root, "bin");

    private string AzDir => Path.Combine(_root, "az");

    public KeyVaultRefreshScriptTests()
    {
        Directory.CreateDirectory(Bin);
        Directory.CreateDirectory(AzDir);
        // Only the tools the scripts use, so no real `az` of the machine is found.
        foreach (var tool in new[] { "bash", "basename", "cat", "sleep" }) File.CreateSymbolicLink(Path.Combine(Bin, tool), Which(tool));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void InstallAz()
    {
        var path = Path.Combine(Bin, "az");
        File.WriteAllText(path, FakeAz.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The status answers, one per check; the last one repeats. Rows: setting, status, details (tab-separated, as az -o tsv).</summary>
    private void Answers(params string[][] checks)
    {
        for (var i = 0; i < checks.Length; i++)
        {
            var text = string.Concat(checks[i].Select(row => row + "\n"));
            File.WriteAllText(Path.Combine(AzDir, $"status-{i + 1}.tsv"), text);
            if (i == checks.Length - 1) File.WriteAllText(Path.Combine(AzDir, "status-last.tsv"), text);
        }
    }

    private static string Row(string setting, string status, string details = "") => $"func-test/{setting}\t{status}\t{details}";

    private static readonly string[] AllResolved =
    [
        Row("Spp__ApiKey", "Resolved", "Reference has been successfully resolved."),
        Row("Spp__WebhookTokens__0", "Resolved", "Reference has been successfully resolved."),
        Row("Spp__WebhookTokens__1", "Resolved", "Reference has been successfully resolved."),
    ];

    private static readonly string[] TokenDenied =
    [
        Row("Spp__ApiKey", "Resolved", "Reference has been successfully resolved."),
        Row("Spp__WebhookTokens__0", "AccessToKeyVaultDenied",
            "Key Vault reference was not able to be resolved because site was denied access to Key Vault reference's vault."),
        Row("Spp__WebhookTokens__1", "Resolved", "Reference has been successfully resolved."),
    ];

    private sealed record Run(int ExitCode, string Stdout, string Stderr, IReadOnlyList<string> Calls)
    {
        public override string ToString() =>
            $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}\n--- az calls ---\n{string.Join("\n", Calls)}";
    }

    private async Task<Run> RunScript(Dictionary<string, string>? environment = null, params string[] arguments)
    {
        var start = new ProcessStartInfo(Which("bash"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = _root,
        };
        start.ArgumentList.Add(Script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment.Clear();
        start.Environment["PATH"] = Bin;
        start.Environment["HOME"] = _root;
        start.Environment["FAKE_AZ"] = AzDir;
        foreach (var (key, value) in environment ?? []) start.Environment[key] = value;

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(hangGuard.Token);
        var calls = Path.Combine(AzDir, "calls");
        return new Run(process.ExitCode, await stdout, await stderr, File.Exists(calls) ? File.ReadAllLines(calls) : []);
    }

    private static Dictionary<string, string> AzdEnvironment(bool withSubscription = true)
    {
        var environment = new Dictionary<string, string> { ["AZURE_RESOURCE_GROUP"] = "rg-test", ["AZURE_FUNCTION_APP_NAME"] = "func-test" };
        if (withSubscription) environment["AZURE_SUBSCRIPTION_ID"] = Subscription;
        return environment;
    }

    private static string StatusQuery()
    {
        var match = Regex.Match(File.ReadAllText(Script), "^readonly status_query=\"(?<query>[^\"]+)\"$", RegexOptions.Multiline);
        Assert.True(match.Success, "The script defines no status_query.");
        return match.Groups["query"].Value;
    }

    private static string Refresh => $"rest --method post --url {References}/refresh?api-version=2022-03-01 --output none";

    private static string Status => $"rest --method get --url {References}?api-version=2022-03-01 --query {StatusQuery()} --output tsv";

    private const string Restart = $"functionapp restart --resource-group rg-test --name func-test --subscription {Subscription} --output none";

    [Fact]
    public async Task The_script_is_valid_bash_and_executable()
    {
        var run = await Task.Run(() =>
        {
            using var process = Process.Start(new ProcessStartInfo(Which("bash"), ["-n", Script]) { RedirectStandardError = true })!;
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, errors);
        });
        Assert.True(run.ExitCode == 0, run.errors);
        // azd runs hooks by their path on Linux and macOS.
        Assert.True((File.GetUnixFileMode(Script) & UnixFileMode.UserExecute) != 0, $"{Script} is not executable (git update-index --chmod=+x).");
    }

    [Fact]
    public async Task Resolved_references_are_refreshed_and_shown_and_the_app_is_left_alone()
    {
        InstallAz();
        Answers(AllResolved);

        var run = await RunScript(AzdEnvironment());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([Refresh, Status], run.Calls);
        Assert.Matches(@"Spp__WebhookTokens__0 +Resolved +Reference has been successfully resolved\.", run.Stdout);
        Assert.DoesNotContain("func-test/Spp__ApiKey", run.Stdout);
        Assert.Contains("All 3 Key Vault references of func-test are resolved.", run.Stdout);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public async Task Unresolved_references_are_checked_again_until_resolved_then_the_app_restarts()
    {
        InstallAz();
        Answers(TokenDenied, TokenDenied, AllResolved);

        // The subscription from the CLI's sign-in when azd's is not given; the app from the arguments.
        var run = await RunScript(null, "-g", "rg-test", "-n", "func-test", "--interval", "0", "--wait", "120");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["account show --query id --output tsv", Refresh, Status, Refresh, Status, Refresh, Status, Restart], run.Calls);
        Assert.Matches(@"Spp__WebhookTokens__0 +AccessToKeyVaultDenied +Key Vault reference was not able to be resolved", run.Stdout);
        Assert.Contains("1 of 3 not resolved yet; checking again in 0s", run.Stdout);
        Assert.Contains("Key Vault references of func-test (check 3):", run.Stdout);
        Assert.Contains("Restarting func-test so it starts with the secrets...", run.Stdout);
        Assert.EndsWith("All 3 Key Vault references of func-test are resolved.\n", run.Stdout);
    }

    [Fact]
    public async Task References_still_unresolved_when_the_wait_ends_fail_saying_what_to_do()
    {
        InstallAz();
        Answers(TokenDenied);

        var run = await RunScript(AzdEnvironment(), "--wait", "0");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal([Refresh, Status], run.Calls);
        Assert.Contains("error: 1 of 3 Key Vault references of func-test are still unresolved after 0s.", run.Stderr);
        Assert.Contains("wait a few minutes and run infra/scripts/refresh-keyvault-references.sh again", run.Stderr);
        Assert.Contains("\"When Azure is slow\" in infra/README.md", run.Stderr);
    }

    [Fact]
    public async Task An_app_without_references_is_reported_as_such()
    {
        InstallAz();
        Answers(Array.Empty<string>());

        var run = await RunScript(AzdEnvironment());

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("(none: no app setting of func-test is a Key Vault reference)", run.Stdout);
        Assert.DoesNotContain(run.Calls, c => c.StartsWith("functionapp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refresh_the_platform_refuses_stops_the_script_after_the_clis_message()
    {
        InstallAz();
        File.WriteAllText(Path.Combine(AzDir, "refresh-fails"), "");

        var run = await RunScript(AzdEnvironment());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal([Refresh], run.Calls);
        Assert.Contains("(ResourceNotFound)", run.Stderr);
        Assert.Contains("error: App Service did not take the refresh of func-test's Key Vault references", run.Stderr);
    }

    [Fact]
    public async Task Without_the_azure_cli_it_says_how_to_get_it()
    {
        var run = await RunScript(AzdEnvironment());

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("error: the Azure CLI ('az') is not on PATH. Install it (2.60 or later), run 'az login'", run.Stderr);
    }

    [Fact]
    public async Task A_signed_out_cli_is_reported_with_the_command_to_sign_in()
    {
        InstallAz();
        File.WriteAllText(Path.Combine(AzDir, "signed-out"), "");

        var run = await RunScript(AzdEnvironment(withSubscription: false));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(["account show --query id --output tsv"], run.Calls);
        Assert.Contains("error: the Azure CLI is not signed in: run 'az login'", run.Stderr);
    }

    [Theory]
    [InlineData(new string[0], "error: name the app: -g <resource group> -n <function app>")]
    [InlineData(new[] { "-g", "rg-test", "-n", "func-test", "--bogus" }, "error: unknown argument '--bogus'.")]
    [InlineData(new[] { "-g", "rg-test", "-n", "func-test", "--wait", "soon" }, "error: --wait and --interval take a number of seconds.")]
    [InlineData(new[] { "-g", "rg-test", "-n" }, "Usage: refresh-keyvault-references.sh")]
    public async Task Bad_arguments_exit_2_with_a_message_and_call_nothing(string[] arguments, string message)
    {
        InstallAz();

        var run = await RunScript(null, arguments);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(message, run.Stderr);
        Assert.Empty(run.Calls);
    }

    [Fact]
    public async Task Help_prints_the_usage_and_calls_nothing()
    {
        InstallAz();

        var run = await RunScript(AzdEnvironment(), "--help");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Usage: refresh-keyvault-references.sh [-g RESOURCE_GROUP] [-n FUNCTION_APP]", run.Stdout);
        Assert.Empty(run.Calls);
    }

    [Fact]
    public void The_status_query_gives_setting_status_and_details_of_each_reference()
    {
        // The shape of GET .../config/configreferences/appsettings (ApiKVReferenceCollection); details may be missing.
        const string site = "/subscriptions/s/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-test";
        const string response = $$"""
            {
              "value": [
                {
                  "id": "{{site}}/config/configreferences/appsettings/Spp__ApiKey",
                  "name": "Spp__ApiKey",
                  "type": "Microsoft.Web/sites/config/reference",
                  "properties": {
                    "reference": "@Microsoft.KeyVault(VaultName=kv-test;SecretName=spp-api-key;SecretVersion=v1)",
                    "status": "Resolved", "vaultName": "kv-test", "secretName": "spp-api-key", "secretVersion": "v1",
                    "identityType": { "type": "UserAssigned" }, "details": "Reference has been successfully resolved.", "source": "KeyVault"
                  }
                },
                {
                  "id": "{{site}}/config/configreferences/appsettings/Spp__WebhookTokens__0",
                  "name": "Spp__WebhookTokens__0",
                  "properties": { "status": "Initialized", "vaultName": "kv-test", "secretName": "spp-webhook-token-0" }
                }
              ]
            }
            """;
        var rows = JsonNode.Parse(new DevLab.JmesPath.JmesPath().Transform(response, StatusQuery()))!.AsArray();
        Assert.Equal(
            [["Spp__ApiKey", "Resolved", "Reference has been successfully resolved."], ["Spp__WebhookTokens__0", "Initialized", ""]],
            rows.Select(r => r!.AsArray().Select(v => v!.GetValue<string>()).ToArray()).ToArray());
    }

    [Fact]
    public void Azd_runs_the_script_after_every_provision_and_goes_on_when_it_fails()
    {
        var yaml = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "azure.yaml")).Select(l => l.TrimEnd()).ToList();
        var hook = yaml.IndexOf("  postprovision:");
        Assert.True(yaml.IndexOf("hooks:") is >= 0 and var hooks && hooks < hook, "azure.yaml has no hooks: with a postprovision hook");
        var body = yaml.Skip(hook + 1).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal)).ToList();
        Assert.Contains("    run: ./infra/scripts/refresh-keyvault-references.sh", body);
        Assert.Contains("    shell: sh", body);
        Assert.Contains("    continueOnError: true", body);
        Assert.True(File.Exists(Path.Combine(TestPaths.RepositoryRoot, "infra/scripts/refresh-keyvault-references.sh")));
    }

    private static string Which(string tool)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (var directory in directories.Append("/usr/bin").Append("/bin"))
        {
            var path = Path.Combine(directory, tool);
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException($"{tool} is not on PATH.");
    }
}
