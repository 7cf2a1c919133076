using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SppFunctions.Infra.Tests.Infrastructure;

/// <summary>
/// The templates, built and evaluated once per test run and shared by all test classes: every .bicep file built and
/// linted in one CLI call each, main.bicep compiled to ARM JSON, and offline evaluations (`bicep snapshot`, Bicep's
/// own evaluator of the compiled template) of main.bicep and of the app module.
/// </summary>
public static class Templates
{
    /// <summary>Values of main.bicep's secure parameters in the tests: they must appear in no output or snapshot.</summary>
    public static class Secrets
    {
        public const string ApiKey = "test-api-key-7d1f0c";
        public const string WebhookToken = "test-webhook-token-a93e52";
        public const string WebhookTokenSecondary = "test-webhook-token-b41c77";
        public const string WebhookTokenThird = "test-webhook-token-c58d03";
        public const string WebhookTokenFourth = "test-webhook-token-d6e2f9";
        public static readonly string[] All = [ApiKey, WebhookToken, WebhookTokenSecondary, WebhookTokenThird, WebhookTokenFourth];
    }

    public const string SubscriptionId = "00000000-0000-0000-0000-00000000aaaa";
    public const string TenantId = "00000000-0000-0000-0000-00000000bbbb";
    public const string Location = "westeurope";
    public const string DeployerPrincipalId = "00000000-0000-0000-0000-00000000cccc";

    private static readonly Lazy<BuildOutput> BuildAllResult = new(() => InScratch("build", directory =>
    {
        var result = Bicep.Run(TestPaths.InfraDirectory, "build", "--pattern", "**/*.bicep", "--outdir", directory);
        // Read into memory: the directory goes when this returns, so a test run leaves nothing in the temp directory.
        var compiled = Directory.GetFiles(directory, "*.json", SearchOption.AllDirectories).ToDictionary(
            file => Path.GetRelativePath(directory, file).Replace('\\', '/'), File.ReadAllText, StringComparer.Ordinal);
        return new BuildOutput(result, compiled, directory);
    }));

    private static readonly Lazy<BicepResult> LintAllResult = new(() =>
        Bicep.Run(TestPaths.InfraDirectory, "lint", "--pattern", "**/*.bicep"));

    private static readonly ConcurrentDictionary<string, Lazy<JsonObject>> Compiled = new();

    private static readonly ConcurrentDictionary<string, Lazy<Snapshot>> Snapshots = new();

    /// <summary><c>bicep build --pattern **/*.bicep</c> in infra/, and the directory of the ARM JSON it wrote.</summary>
    public static BuildOutput BuildAll => BuildAllResult.Value;

    /// <summary><c>bicep lint --pattern **/*.bicep</c> in infra/.</summary>
    public static BicepResult LintAll => LintAllResult.Value;

    /// <summary>main.bicep as ARM JSON (<c>bicep build --stdout</c>).</summary>
    public static JsonObject Main => Compile("main.bicep");

    /// <summary>
    /// A template compiled with <c>bicep build --stdout</c> (once per run). Errors fail; warnings are left to
    /// <see cref="BuildAll"/> and <see cref="LintAll"/>, so one warning fails those checks and not every test.
    /// </summary>
    public static JsonObject Compile(string relativePath) =>
        Compiled.GetOrAdd(relativePath, path => new Lazy<JsonObject>(() =>
        {
            var result = Bicep.Run(TestPaths.InfraDirectory, "build", path, "--stdout");
            if (result.ExitCode != 0) throw new InvalidOperationException(result.ToString());
            return JsonNode.Parse(result.StandardOutput)!.AsObject();
        })).Value;

    /// <summary>Most webhook tokens the template holds (maxWebhookTokens in infra/app/contract.bicep).</summary>
    public const int MaxWebhookTokens = 20;

    /// <summary>
    /// The parameters main.bicep is evaluated with: all of them (four webhook tokens), or (<paramref name="full"/> false)
    /// only the required ones plus a non-default scale (one webhook token, no deploying principal).
    /// </summary>
    public static Dictionary<string, JsonNode?> MainParameters(bool full = true)
    {
        var parameters = new Dictionary<string, JsonNode?>
        {
            ["environmentName"] = "test",
            ["location"] = Location,
            ["sppBaseUrl"] = "https://acme.spp.co/api/",
            ["sppApiKey"] = Secrets.ApiKey,
            ["sppWebhookToken"] = Secrets.WebhookToken,
        };
        if (full)
        {
            parameters["sppWebhookTokenSecondary"] = Secrets.WebhookTokenSecondary;
            parameters["sppWebhookTokensAdditional"] = $"{Secrets.WebhookTokenThird}, {Secrets.WebhookTokenFourth}";
            parameters["principalId"] = DeployerPrincipalId;
        }
        else
        {
            parameters["instanceMemoryMB"] = 4096;
            parameters["maximumInstanceCount"] = 40;
        }
        return parameters;
    }

    /// <summary>main.bicep evaluated at subscription scope with <see cref="MainParameters"/>.</summary>
    public static Snapshot MainSnapshot(bool full = true) => Evaluate("main.bicep", MainParameters(full), resourceGroup: null);

    /// <summary>
    /// The app module (app/api.bicep) evaluated on its own. Its app settings are built from maps merged with
    /// union(); evaluated inside main.bicep they depend on values known only during a deployment (the identity's
    /// client id), so the snapshot of main.bicep shows them as unknown(). Every value main.bicep passes in is a
    /// parameter here: required parameters get placeholders ("test-&lt;name&gt;"), the secret versions <see cref="SecretVersions"/>
    /// and <see cref="WebhookTokenVersions"/> (two tokens), and <paramref name="parameters"/> the rest.
    /// </summary>
    public static Snapshot ApiSnapshot(Dictionary<string, JsonNode?>? parameters = null)
    {
        var values = Placeholders(Compile("app/api.bicep"));
        // A version for each secret main.bicep creates (as the Key Vault module's output would give).
        values["secretVersions"] = SecretVersions();
        values["webhookTokenVersions"] = WebhookTokenVersions(2);
        foreach (var (name, value) in parameters ?? []) values[name] = value;
        return Evaluate("app/api.bicep", values, resourceGroup: "rg-test");
    }

    /// <summary>The secret versions the app module is evaluated with: "v-&lt;secret name&gt;" for each secret main.bicep creates.</summary>
    public static JsonObject SecretVersions()
    {
        var versions = new JsonObject();
        foreach (var name in MainSnapshot().LeafNames("Microsoft.KeyVault/vaults/secrets")) versions[name] = $"v-{name}";
        return versions;
    }

    /// <summary>
    /// The Key Vault module's output webhookTokenVersions for <paramref name="tokens"/> tokens: "v-spp-webhook-token-N" at
    /// index N, empty for the unused slots up to <see cref="MaxWebhookTokens"/>.
    /// </summary>
    public static JsonArray WebhookTokenVersions(int tokens) =>
        new(Enumerable.Range(0, MaxWebhookTokens).Select(i => (JsonNode?)JsonValue.Create(i < tokens ? $"v-spp-webhook-token-{i}" : "")).ToArray());

    /// <summary>
    /// Bicep source evaluated offline as a template of its own (resource group scope, no parameters), e.g. outputs
    /// that call functions of infra/: <c>{infra}</c> in the source becomes the relative path of infra/ for imports.
    /// Throws with the CLI's output when the evaluation fails (e.g. a <c>fail()</c>).
    /// </summary>
    public static Snapshot EvaluateSource(string source) => InScratch("source", directory =>
    {
        var infra = Path.GetRelativePath(directory, TestPaths.InfraDirectory).Replace('\\', '/');
        File.WriteAllText(Path.Combine(directory, "test.bicep"), source.Replace("{infra}", infra, StringComparison.Ordinal));
        return Snap(directory, "using 'test.bicep'\n", "rg-test", "the test source");
    });

    /// <summary>Placeholder values for the parameters of a compiled template that have no default.</summary>
    public static Dictionary<string, JsonNode?> Placeholders(JsonObject compiled)
    {
        var values = new Dictionary<string, JsonNode?>();
        foreach (var (name, definition) in compiled["parameters"]!.AsObject())
        {
            if (definition!["defaultValue"] is not null) continue;
            values[name] = definition["type"]!.GetValue<string>().ToLowerInvariant() switch
            {
                "string" or "securestring" => JsonValue.Create($"test-{name}"),
                "int" => JsonValue.Create(definition["minValue"]?.GetValue<int>() ?? definition["allowedValues"]?[0]?.GetValue<int>() ?? 1),
                "bool" => JsonValue.Create(false),
                "array" => new JsonArray(),
                _ => new JsonObject(),
            };
        }
        return values;
    }

    /// <summary>main.bicep (or another template) evaluated with the given parameters; cached per parameter set.</summary>
    public static Snapshot Evaluate(string relativeTemplate, Dictionary<string, JsonNode?> parameters, string? resourceGroup = null)
    {
        var key = relativeTemplate + "|" + resourceGroup + "|" + string.Join(";", parameters.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key + "=" + p.Value?.ToJsonString()));
        return Snapshots.GetOrAdd(key, _ => new Lazy<Snapshot>(() => RunSnapshot(relativeTemplate, parameters, resourceGroup))).Value;
    }

    private static Snapshot RunSnapshot(string relativeTemplate, Dictionary<string, JsonNode?> parameters, string? resourceGroup) =>
        InScratch("snapshot", directory =>
        {
            var template = Path.GetRelativePath(directory, Path.Combine(TestPaths.InfraDirectory, relativeTemplate)).Replace('\\', '/');
            var text = new StringBuilder($"using '{template}'\n\n");
            foreach (var (name, value) in parameters) text.Append($"param {name} = {BicepLiteral(value)}\n");
            return Snap(directory, text.ToString(), resourceGroup, relativeTemplate);
        });

    /// <summary>
    /// Runs <c>bicep snapshot</c> on test.bicepparam (written from <paramref name="parametersFile"/>) in <paramref name="directory"/>.
    /// </summary>
    private static Snapshot Snap(string directory, string parametersFile, string? resourceGroup, string what)
    {
        var paramFile = Path.Combine(directory, "test.bicepparam");
        File.WriteAllText(paramFile, parametersFile);

        var arguments = new List<string>
        {
            "snapshot", paramFile, "--mode", "overwrite", "--subscription-id", SubscriptionId, "--tenant-id", TenantId, "--location", Location,
        };
        if (resourceGroup is not null) arguments.AddRange(["--resource-group", resourceGroup]);
        var result = Bicep.Run(directory, [.. arguments]);
        var output = Path.Combine(directory, "test.snapshot.json");
        if (result.ExitCode != 0 || !File.Exists(output))
            throw new InvalidOperationException($"Evaluating {what} failed.\n{result}\nParameters file:\n{parametersFile}");
        var snapshot = new Snapshot(JsonNode.Parse(File.ReadAllText(output))!.AsObject(), parametersFile);
        // E.g. a nested deployment left unexpanded (a copy count that needs deployment-time values): its resources
        // would be missing from the checks.
        if (snapshot.Document["diagnostics"] is JsonArray { Count: > 0 } diagnostics)
            throw new InvalidOperationException($"Evaluating {what} reported: {diagnostics.ToJsonString()}\n{result}");
        return snapshot;
    }

    /// <summary>A JSON value written as a Bicep literal (parameters file).</summary>
    public static string BicepLiteral(JsonNode? value) => value switch
    {
        null => "null",
        JsonArray array => "[" + string.Join(", ", array.Select(BicepLiteral)) + "]",
        JsonObject obj => "{ " + string.Join(", ", obj.Select(p => $"{BicepKey(p.Key)}: {BicepLiteral(p.Value)}")) + " }",
        JsonValue v when v.TryGetValue<string>(out var s) => BicepString(s),
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        _ => value.ToJsonString(),
    };

    private static string BicepKey(string key) => Regex.IsMatch(key, "^[A-Za-z_][A-Za-z0-9_]*$") ? key : BicepString(key);

    private static string BicepString(string s) =>
        "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)
            .Replace("$", "\\$", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Runs <paramref name="work"/> in a new directory under the temp directory and deletes the directory afterwards,
    /// also when the work fails: every file the Bicep CLI writes for the tests lives in one of these.
    /// </summary>
    public static T InScratch<T>(string purpose, Func<string, T> work)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sppfunctions-infra-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            return work(directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

/// <summary>
/// <c>bicep build</c> of every template: the CLI's output and the ARM JSON it wrote, by path relative to infra/
/// (<c>app/api.json</c>). <paramref name="Directory"/> is where it was written (deleted since).
/// </summary>
public sealed record BuildOutput(BicepResult Output, IReadOnlyDictionary<string, string> Compiled, string Directory);

/// <summary>An evaluated template: the resources a deployment would create and its outputs.</summary>
public sealed class Snapshot(JsonObject document, string parametersFile)
{
    public JsonObject Document { get; } = document;

    public string ParametersFile { get; } = parametersFile;

    public IReadOnlyList<JsonObject> Resources => Document["predictedResources"]!.AsArray().Select(r => r!.AsObject()).ToList();

    public JsonObject Outputs => Document["outputs"]?.AsObject() ?? new JsonObject();

    public IReadOnlyList<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase)).ToList();

    public JsonObject Single(string type)
    {
        var all = OfType(type);
        Assert.True(all.Count == 1, $"Expected one {type}, found {all.Count}: {string.Join(", ", all.Select(r => (string?)r["name"]))}");
        return all[0];
    }

    /// <summary>The last segment of each resource name of a type (e.g. the queue names).</summary>
    public IReadOnlyList<string> LeafNames(string type) =>
        OfType(type).Select(r => ((string)r["name"]!).Split('/')[^1]).ToList();

    /// <summary>The site's app settings as name → value (values of runtime references stay ARM expressions).</summary>
    public IReadOnlyDictionary<string, string> AppSettings()
    {
        var site = Single("Microsoft.Web/sites");
        var node = site["properties"]?["siteConfig"]?["appSettings"];
        Assert.True(node is JsonArray, $"The site's appSettings did not evaluate to a list: {node?.ToJsonString()}");
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in node!.AsArray().Select(e => e!.AsObject()))
        {
            var name = (string)entry["name"]!;
            Assert.False(settings.ContainsKey(name), $"App setting {name} is written twice.");
            settings[name] = entry["value"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : entry["value"]?.ToJsonString() ?? "";
        }
        return settings;
    }

    public override string ToString() => Document.ToJsonString();

    public static string Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";

    public static int Int(JsonNode? node) => node!.GetValue<int>();

    public static string Invariant(object value) => Convert.ToString(value, CultureInfo.InvariantCulture)!;
}
