using Microsoft.Extensions.DependencyInjection;
using System.Text.Json.Nodes;
using SppFunctions.Cli;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Cli;

/// <summary>What one CLI run showed the user: exit code, stdout, stderr.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    /// <summary>stdout parsed as JSON (fails the test when it is anything else).</summary>
    public JsonNode Json
    {
        get
        {
            try
            {
                return JsonNode.Parse(Out) ?? throw new Xunit.Sdk.XunitException("stdout is JSON null");
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new Xunit.Sdk.XunitException($"stdout is not JSON ({ex.Message}):\n{Out}\nstderr:\n{Error}");
            }
        }
    }

    public string All => Out + "\n" + Error;

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";
}

/// <summary>
/// Runs <c>sppfn</c> in-process as a user would: arguments, environment variables, a working directory (an empty
/// temporary one by default, so no developer's local.settings.json is picked up), stdout and stderr captured.
/// The app's storage names are passed through the services hook so each test has its own tables and queues.
/// Set SPPFN_TEST_DUMP to a file path to append every run's output to it (to read what users see).
/// </summary>
public static class CliTestKit
{
    /// <summary>The environment that points the CLI at a harness's storage and fake SPP, as local.settings.json would.</summary>
    public static Dictionary<string, string> Environment(AppHarness app) => new()
    {
        ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
        ["Spp__BaseUrl"] = app.Spp.BaseUrl.ToString(),
        ["Spp__ApiKey"] = app.Spp.ApiKey,
        ["Spp__WebhookTokens__0"] = AppHarness.Token,
        ["Spp__Retry__BaseDelay"] = "00:00:00.010",
        ["Spp__Retry__MaxDelay"] = "00:00:00.050",
    };

    /// <summary>The secrets a harness-backed run must never print.</summary>
    public static IEnumerable<string> Secrets(AppHarness app)
    {
        yield return app.Spp.ApiKey;
        yield return AppHarness.Token;
        yield return AppHarness.SecondToken;
        foreach (var part in TestStorage.ConnectionString.Split(';'))
        {
            if (part.StartsWith("AccountKey=", StringComparison.OrdinalIgnoreCase)) yield return part["AccountKey=".Length..];
        }
    }

    public static Task<CliRun> RunAsync(AppHarness app, params string[] args) =>
        RunAsync(Environment(app), app.Names, null, args);

    public static Task<CliRun> RunAsync(
        IReadOnlyDictionary<string, string> environment, StorageNames? names, string? directory, params string[] args) =>
        RunAsync(environment, names, directory, CancellationToken.None, args);

    /// <summary>A run that Ctrl-C (the token) may stop.</summary>
    public static Task<CliRun> RunAsync(IReadOnlyDictionary<string, string> environment, StorageNames? names, string? directory,
        CancellationToken cancellationToken, params string[] args) =>
        RunAsync(environment, names, directory, interactive: false, progressInterval: TimeSpan.FromMinutes(10), cancellationToken, args);

    /// <summary>
    /// A run as on a terminal (<paramref name="interactive"/>) or off one with progress lines every <paramref name="progressInterval"/>.
    /// </summary>
    public static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string> environment, StorageNames? names, string? directory,
        bool interactive, TimeSpan progressInterval, CancellationToken cancellationToken, params string[] args)
    {
        var dir = directory ?? Directory.CreateTempSubdirectory("sppfn-cli-").FullName;
        var output = new StringWriter();
        var error = new StringWriter();
        var cli = new CliEnvironment
        {
            Out = output,
            Error = error,
            Variables = environment,
            CurrentDirectory = dir,
            BaseDirectory = dir,
            Interactive = interactive,
            ProgressInterval = progressInterval,
            Width = 240,
            ConfigureServices = names is null ? null : services => services.AddSingleton(names),
        };
        try
        {
            var code = await SppCli.RunAsync(args, cli, cancellationToken);
            var run = new CliRun(code, output.ToString(), error.ToString());
            if (System.Environment.GetEnvironmentVariable("SPPFN_TEST_DUMP") is { Length: > 0 } dump)
            {
                lock (typeof(CliTestKit)) File.AppendAllText(dump, $"\n===== sppfn {string.Join(' ', args)}\n{run}\n");
            }
            return run;
        }
        finally
        {
            if (directory is null) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Asserts that no secret appears in anything the run printed.</summary>
    public static void AssertNoSecrets(CliRun run, IEnumerable<string> secrets)
    {
        foreach (var secret in secrets.Where(s => s.Length > 0))
        {
            Assert.False(run.All.Contains(secret, StringComparison.Ordinal), $"A secret was printed:\n{run}");
        }
    }

    /// <summary>Asserts the run failed with the exit code and one line on stderr containing every fragment, and printed nothing on stdout.</summary>
    public static void AssertFails(CliRun run, int exitCode, params string[] fragments)
    {
        Assert.True(run.ExitCode == exitCode, $"expected exit {exitCode}:\n{run}");
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr:\n{run}");
        Assert.StartsWith("error: ", lines[0]);
        foreach (var fragment in fragments) Assert.True(lines[0].Contains(fragment, StringComparison.Ordinal), $"stderr lacks '{fragment}':\n{run}");
        Assert.True(run.Out.Length == 0, $"expected nothing on stdout:\n{run}");
    }
}
