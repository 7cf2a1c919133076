using System.Diagnostics;
using System.Text.Json.Nodes;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Cli.CliTestKit;

namespace SppFunctions.Tests.Cli;

/// <summary>How sppfn finds the app's settings (local.settings.json + environment) and how it fails when it cannot.</summary>
public class CliSettingsTests
{
    private static string SettingsJson(IReadOnlyDictionary<string, string> values) =>
        new JsonObject
        {
            ["IsEncrypted"] = false,
            ["Values"] = new JsonObject(values.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        }.ToJsonString();

    private static string TempDir() => Directory.CreateTempSubdirectory("sppfn-settings-").FullName;

    [Fact]
    public async Task Local_settings_json_in_the_working_directory_is_read_and_the_environment_overrides_it()
    {
        await using var app = await AppHarness.StartAsync();
        var dir = TempDir();
        try
        {
            var values = Environment(app);
            values["Spp__ApiKey"] = "a-stale-key-that-spp-refuses";
            await File.WriteAllTextAsync(Path.Combine(dir, "local.settings.json"), SettingsJson(values));

            // Storage and SPP settings from the file alone.
            var fromFile = await RunAsync(new Dictionary<string, string>(), app.Names, dir, "api", "GET", "orders", "--json");
            Assert.Equal(1, fromFile.ExitCode);
            Assert.Equal(401, fromFile.Json["status"]!.GetValue<int>());
            Assert.Equal(0, (await RunAsync(new Dictionary<string, string>(), app.Names, dir, "watch", "add", "666AF315")).ExitCode);

            // An environment variable wins over the file, as in the Functions host.
            var overridden = await RunAsync(new Dictionary<string, string> { ["Spp__ApiKey"] = app.Spp.ApiKey }, app.Names, dir,
                "api", "GET", "orders", "--json");
            Assert.True(overridden.ExitCode == 0, overridden.ToString());
            Assert.Equal(200, overridden.Json["status"]!.GetValue<int>());
            var list = await RunAsync(new Dictionary<string, string>(), app.Names, dir, "watch", "list", "--json");
            Assert.Equal("666AF315", list.Json[0]!["order"]!.GetValue<string>());
            AssertNoSecrets(fromFile, Secrets(app).Append("a-stale-key-that-spp-refuses"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_repository_roots_settings_are_found_from_a_subdirectory_and_settings_names_another_file()
    {
        await using var app = await AppHarness.StartAsync();
        var repo = TempDir();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(repo, "SppFunctions.sln"), "");
            await File.WriteAllTextAsync(Path.Combine(repo, "local.settings.json"), SettingsJson(Environment(app)));
            var sub = Directory.CreateDirectory(Path.Combine(repo, "src", "SppFunctions.Cli")).FullName;
            var found = await RunAsync(new Dictionary<string, string>(), app.Names, sub, "watch", "list", "--json");
            Assert.True(found.ExitCode == 0, found.ToString());

            var other = Path.Combine(repo, "other.json");
            var broken = Environment(app);
            broken["AzureWebJobsStorage"] = TestStorage.Unreachable();
            await File.WriteAllTextAsync(other, SettingsJson(broken));
            var chosen = await RunAsync(new Dictionary<string, string>(), app.Names, sub, "watch", "list", "--settings", other);
            AssertFails(chosen, 4, "Cannot reach storage (AzureWebJobsStorage)");
        }
        finally
        {
            Directory.Delete(repo, recursive: true);
        }
    }

    [Fact]
    public async Task Missing_or_broken_settings_exit_3_naming_the_file_or_the_setting()
    {
        var dir = TempDir();
        try
        {
            var missingFile = await RunAsync(new Dictionary<string, string>(), null, dir, "watch", "list", "--settings", "nope.json");
            AssertFails(missingFile, 3, $"The settings file {Path.Combine(dir, "nope.json")} does not exist (--settings).");

            await File.WriteAllTextAsync(Path.Combine(dir, "local.settings.json"), "{ \"Values\": { \"AzureWebJobsStorage\": ");
            var broken = await RunAsync(new Dictionary<string, string>(), null, dir, "events", "list");
            AssertFails(broken, 3, Path.Combine(dir, "local.settings.json"), "cannot be read as JSON");

            File.Delete(Path.Combine(dir, "local.settings.json"));
            var noStorage = await RunAsync(new Dictionary<string, string>(), null, dir, "events", "list");
            AssertFails(noStorage, 3, "AzureWebJobsStorage is not set", "no local.settings.json was found");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("events", "list")]
    [InlineData("events", "show", "1764403200-000000000000000000000000")]
    [InlineData("events", "replay", "1764403200-000000000000000000000000")]
    [InlineData("watch", "list")]
    [InlineData("watch", "add", "1")]
    [InlineData("watch", "cursors")]
    [InlineData("watch", "runs")]
    public async Task Unreachable_storage_exits_4_with_one_clear_line_and_no_account_key(params string[] args)
    {
        var storage = TestStorage.Unreachable();
        var run = await RunAsync(new Dictionary<string, string> { ["AzureWebJobsStorage"] = storage }, null, null, args);
        AssertFails(run, 4, "Cannot reach storage (AzureWebJobsStorage)", "Connection refused", "Is Azurite running?",
            "Start it alone from the repository with 'npx azurite --silent --location .azurite'");
        Assert.DoesNotContain("bm90IGEga2V5", run.All); // the account key of the unreachable connection string
    }

    [Fact]
    public async Task Help_lists_the_commands_and_unknown_commands_exit_2()
    {
        var help = await RunAsync(new Dictionary<string, string>(), null, null, "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "send", "events", "watch", "api", "messages" }) Assert.Contains(command, help.Out);
        var sub = await RunAsync(new Dictionary<string, string>(), null, null, "watch", "--help");
        foreach (var command in new[] { "list", "add", "remove", "cursors", "runs" }) Assert.Contains(command, sub.Out);

        AssertFails(await RunAsync(new Dictionary<string, string>(), null, null, "deploy"), 2, "Unknown command 'deploy'", "sppfn --help");
        AssertFails(await RunAsync(new Dictionary<string, string>(), null, null, "events", "list", "--colour"), 2, "Unknown option 'colour'");
    }

    [Fact]
    public async Task The_installed_tool_binary_keeps_stdout_for_json_and_reports_errors_on_stderr_with_exit_codes()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sppfn.dll");
        Assert.True(File.Exists(dll), dll);
        var dir = TempDir();
        try
        {
            var settings = Path.Combine(dir, "cli.settings.json");
            await File.WriteAllTextAsync(settings,
                SettingsJson(new Dictionary<string, string> { ["AzureWebJobsStorage"] = TestStorage.Unreachable() }));

            var (code, stdout, stderr) = await RunProcessAsync(dir, dll, "watch", "list", "--json", "--settings", settings);
            Assert.True(code == 4, $"exit {code}\n{stdout}\n{stderr}");
            Assert.Equal("", stdout);
            Assert.StartsWith("error: Cannot reach storage (AzureWebJobsStorage)", stderr);
            Assert.Single(stderr.Trim().Split('\n'));

            (code, stdout, _) = await RunProcessAsync(dir, dll, "send", "--count", "x");
            Assert.Equal(2, code);
            Assert.Equal("", stdout);

            (code, stdout, _) = await RunProcessAsync(dir, dll, "--help");
            Assert.Equal(0, code);
            Assert.Contains("sppfn", stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(int Code, string Out, string Error)> RunProcessAsync(string directory, string dll, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment.Remove("AzureWebJobsStorage");
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
