using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using SppFunctions.Sandbox;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>
/// The app's settings as the CLI sees them: local.settings.json's <c>Values</c> (the file named by <c>--settings</c>, else
/// <c>./local.settings.json</c>, else the repository root's), overlaid by environment variables, as the Functions host
/// does. <c>__</c> separates sections (<c>Spp__ApiKey</c> is <c>Spp:ApiKey</c>). While neither <c>Spp__BaseUrl</c> nor
/// <c>Spp__ApiKey</c> is filled in and an SPP sandbox runs (<see cref="SandboxState"/>), SPP is the sandbox: its URL, key
/// and webhook token stand in for the missing values, as scripts/run-local.sh hands them to the app.
/// </summary>
public sealed class CliConfiguration
{
    public const string FileName = "local.settings.json";
    private const string RepositoryMarker = "SppFunctions.sln";

    private CliConfiguration(IConfiguration configuration, string? file, IReadOnlyCollection<string> secrets, SandboxState? sandbox)
    {
        Configuration = configuration;
        File = file;
        Secrets = secrets;
        Sandbox = sandbox;
    }

    /// <summary>The running sandbox whose values stand in for unfilled SPP settings, or null.</summary>
    public SandboxState? Sandbox { get; }

    public IConfiguration Configuration { get; }

    /// <summary>The settings file read, or null when none was found (environment only).</summary>
    public string? File { get; }

    /// <summary>Values never to print: the API key, webhook tokens, storage account keys.</summary>
    public IReadOnlyCollection<string> Secrets { get; }

    /// <summary>Where the settings came from, a sentence for messages.</summary>
    public string Origin => (File is null
        ? "Settings come from the environment (no local.settings.json was found; --settings names one)."
        : $"Settings come from {File} and the environment.")
        + (Sandbox is null ? "" : $" SPP is the local sandbox at {Sandbox.BaseUrl} (no SPP settings are filled in).");

    public string? this[string setting] => Configuration[setting.Replace("__", ":", StringComparison.Ordinal)];

    public static CliConfiguration Load(CliEnvironment environment, string? explicitPath)
    {
        var file = Find(environment, explicitPath);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (file is not null)
        {
            foreach (var (key, value) in ReadValues(file)) values[Key(key)] = value;
        }
        foreach (var (key, value) in environment.Variables) values[Key(key)] = value;
        var sandbox = UseSandbox(environment, values);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return new CliConfiguration(configuration, file, FindSecrets(configuration), sandbox);
    }

    /// <summary>The state file of the sandbox for this checkout: under the repository root, else the current directory.</summary>
    public static string SandboxStatePath(CliEnvironment environment) =>
        SandboxState.PathUnder(RepositoryRoot(environment) ?? environment.CurrentDirectory);

    /// <summary>Fills the SPP settings from a running sandbox when none of them is filled in.</summary>
    private static SandboxState? UseSandbox(CliEnvironment environment, Dictionary<string, string?> values)
    {
        bool Unfilled(string key) => !values.TryGetValue(key, out var value) || string.IsNullOrWhiteSpace(value) || IsPlaceholder(value);
        if (!Unfilled("Spp:BaseUrl") || !Unfilled("Spp:ApiKey")) return null;
        if (SandboxState.Read(SandboxStatePath(environment)) is not { IsRunning: true } sandbox) return null;
        values["Spp:BaseUrl"] = sandbox.BaseUrl.ToString();
        values["Spp:ApiKey"] = sandbox.ApiKey;
        if (Unfilled("Spp:WebhookTokens:0")) values["Spp:WebhookTokens:0"] = sandbox.WebhookToken;
        return sandbox;
    }

    /// <summary>The checkout's root (the folder with SppFunctions.sln) above the current or the CLI's directory, or null.</summary>
    internal static string? RepositoryRoot(CliEnvironment environment)
    {
        foreach (var start in new[] { environment.CurrentDirectory, environment.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, RepositoryMarker))) return dir.FullName;
            }
        }
        return null;
    }

    /// <summary>Fails with a message naming the setting when it is missing or still the sample's placeholder.</summary>
    public string Require(string setting, string hint)
    {
        var value = this[setting];
        if (string.IsNullOrWhiteSpace(value)) throw CliException.Settings($"{setting} is not set: {hint} {Origin}");
        if (IsPlaceholder(value))
            throw CliException.Settings($"{setting} still holds the placeholder of local.settings.sample.json: {hint} {Origin}");
        return value;
    }

    /// <summary>True for the sample's "FILL-IN: ..." values and its YOUR-WORKSPACE URL.</summary>
    public static bool IsPlaceholder(string? value) => Spp.Client.DependencyInjection.SppClientOptionsValidator.IsPlaceholder(value);

    private static string Key(string name) => name.Replace("__", ":", StringComparison.Ordinal);

    private static string? Find(CliEnvironment environment, string? explicitPath)
    {
        if (explicitPath is not null)
        {
            var path = Path.GetFullPath(explicitPath, environment.CurrentDirectory);
            if (!System.IO.File.Exists(path)) throw CliException.Settings($"The settings file {path} does not exist (--settings).");
            return path;
        }
        var local = Path.Combine(environment.CurrentDirectory, FileName);
        if (System.IO.File.Exists(local)) return local;
        foreach (var start in new[] { environment.CurrentDirectory, environment.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!System.IO.File.Exists(Path.Combine(dir.FullName, RepositoryMarker))) continue;
                var candidate = Path.Combine(dir.FullName, FileName);
                if (System.IO.File.Exists(candidate)) return candidate;
                break;
            }
        }
        return null;
    }

    private static IEnumerable<KeyValuePair<string, string?>> ReadValues(string file)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(System.IO.File.ReadAllText(file),
                documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw CliException.Settings($"{file} cannot be read as JSON: {FirstLine(ex.Message)}");
        }
        if (root is not JsonObject obj || obj["Values"] is not JsonObject values)
        {
            throw CliException.Settings($"{file} has no \"Values\" object (see local.settings.sample.json).");
        }
        foreach (var (key, value) in values)
        {
            yield return new(key, value switch
            {
                null => null,
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                _ => value.ToJsonString(),
            });
        }
    }

    private static HashSet<string> FindSecrets(IConfiguration configuration)
    {
        var secrets = new HashSet<string>(StringComparer.Ordinal);
        void Add(string? value)
        {
            // Short values would redact ordinary words; real keys and tokens are long.
            if (!string.IsNullOrWhiteSpace(value) && value.Length >= 8 && !IsPlaceholder(value)) secrets.Add(value);
        }
        Add(configuration["Spp:ApiKey"]);
        foreach (var token in configuration.GetSection("Spp:WebhookTokens").GetChildren()) Add(token.Value);
        var storage = configuration["AzureWebJobsStorage"];
        if (storage is not null)
        {
            foreach (var part in storage.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=');
                if (eq > 0 && part[..eq].Trim() is var name
                    && (name.Equals("AccountKey", StringComparison.OrdinalIgnoreCase)
                        || name.Equals("SharedAccessSignature", StringComparison.OrdinalIgnoreCase)))
                {
                    Add(part[(eq + 1)..]);
                }
            }
        }
        return secrets;
    }

    internal static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }
}
