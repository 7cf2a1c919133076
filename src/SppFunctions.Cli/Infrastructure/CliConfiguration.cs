using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>
/// The app's settings as the CLI sees them: local.settings.json's <c>Values</c> (the file named by <c>--settings</c>, else
/// <c>./local.settings.json</c>, else the repository root's), overlaid by environment variables, as the Functions host
/// does. <c>__</c> separates sections (<c>Spp__ApiKey</c> is <c>Spp:ApiKey</c>).
/// </summary>
public sealed class CliConfiguration
{
    public const string FileName = "local.settings.json";
    private const string RepositoryMarker = "SppFunctions.sln";

    private CliConfiguration(IConfiguration configuration, string? file, IReadOnlyCollection<string> secrets)
    {
        Configuration = configuration;
        File = file;
        Secrets = secrets;
    }

    public IConfiguration Configuration { get; }

    /// <summary>The settings file read, or null when none was found (environment only).</summary>
    public string? File { get; }

    /// <summary>Values never to print: the API key, webhook tokens, storage account keys.</summary>
    public IReadOnlyCollection<string> Secrets { get; }

    /// <summary>Where the settings came from, a sentence for messages.</summary>
    public string Origin => File is null
        ? "Settings come from the environment (no local.settings.json was found; --settings names one)."
        : $"Settings come from {File} and the environment.";

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
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return new CliConfiguration(configuration, file, FindSecrets(configuration));
    }

    /// <summary>Fails with a message naming the setting when it is missing or still the sample's placeholder.</summary>
    public string Require(string setting, string hint)
    {
        var value = this[setting];
        if (string.IsNullOrWhiteSpace(value)) throw CliException.Settings($"{setting} is not set: {hint} {Origin}");
        if (IsPlaceholder(value)) throw CliException.Settings($"{setting} still holds the placeholder of local.settings.sample.json: {hint} {Origin}");
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
            root = JsonNode.Parse(System.IO.File.ReadAllText(file), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
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

    private static IReadOnlyCollection<string> FindSecrets(IConfiguration configuration)
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
                if (eq > 0 && part[..eq].Trim() is var name && (name.Equals("AccountKey", StringComparison.OrdinalIgnoreCase) || name.Equals("SharedAccessSignature", StringComparison.OrdinalIgnoreCase)))
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
