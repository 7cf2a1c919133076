using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SppFunctions.Infra.Tests.Infrastructure;

namespace SppFunctions.Infra.Tests;

/// <summary>
/// The Function App's settings in the template against the settings the code binds: options classes of
/// Spp.Client and SppFunctions.Core (reflection), and %Setting% expressions and connections of the triggers
/// (functions.metadata). Both directions, and the code's defaults for optional settings.
/// </summary>
public class AppSettingsTests
{
    /// <summary>
    /// Lists the template writes before the code binds them (the webhook intake lands on another branch). Remove
    /// an entry once the code binds it; <see cref="Settings_written_ahead_of_the_code_are_not_yet_bound_by_it"/> says when.
    /// </summary>
    public static readonly string[] PendingInCode = [];

    private static readonly Lazy<SettingsContract> CodeContract = new(() => new SettingsContract(
        CodeSettings.Bound(CodeSettings.AppAssemblies()),
        FunctionsMetadataSettings.Load(Path.Combine(TestPaths.FunctionsOutputDirectory, "functions.metadata")),
        PendingInCode));

    private static SettingsContract Contract => CodeContract.Value;

    private static Snapshot Api => Templates.ApiSnapshot();

    private static IReadOnlyDictionary<string, string> Settings => Api.AppSettings();

    [Fact]
    public void The_code_binds_settings_from_options_classes()
    {
        // Guards the reflection: if it found nothing, the checks below would pass vacuously.
        Assert.Contains(CodeSettings.OptionsClasses(CodeSettings.AppAssemblies()), o => o.Section == "Spp");
        Assert.Contains(Contract.Bound, s => s.Name == "Spp__BaseUrl" && !s.HasDefault);
        Assert.Contains(Contract.Bound, s => s.Name == "Spp__Retry__MaxRetries" && s.HasDefault);
        Assert.True(Settings.Count > SettingsContract.PlatformSettings.Count, string.Join(", ", Settings.Keys));
    }

    [Fact]
    public void Every_setting_the_code_binds_is_set_by_the_template()
    {
        var missing = Contract.Missing(Settings);
        Assert.True(missing.Count == 0,
            "The template (infra/app/api.bicep) does not set these settings the code binds; add required ones as parameters or "
            + "Key Vault references, optional ones to optionalAppSettings with the code's default:\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void Every_setting_the_template_writes_is_known_to_the_code()
    {
        var unknown = Contract.Unknown(Settings);
        Assert.True(unknown.Count == 0,
            "The template writes settings no options class, trigger or platform reads (renamed or removed in code?):\n  " +
            string.Join("\n  ", unknown));
    }

    [Fact]
    public void Optional_settings_have_the_code_defaults()
    {
        var wrong = Contract.WrongDefaults(Settings);
        Assert.True(wrong.Count == 0,
            "These settings differ from the options classes' defaults (change optionalAppSettings in infra/app/api.bicep, "
            + "or the default in code):\n  " + string.Join("\n  ", wrong));
    }

    [Fact]
    public void Settings_written_ahead_of_the_code_are_not_yet_bound_by_it()
    {
        var bound = Contract.PendingButBound();
        Assert.True(bound.Count == 0,
            $"The code now binds {string.Join(", ", bound)}: remove it from {nameof(AppSettingsTests)}.{nameof(PendingInCode)}.");
        Assert.All(PendingInCode, p => Assert.Contains(Settings.Keys, k => BoundSetting.IsListItem(p, k, out _)));
    }

    [Fact]
    public void Secrets_are_key_vault_references_to_secrets_the_template_creates()
    {
        var vault = Templates.Placeholders(Templates.Compile("app/api.bicep"))["keyVaultName"]!.GetValue<string>();
        var created = Templates.MainSnapshot().LeafNames("Microsoft.KeyVault/vaults/secrets");
        var secretSettings = Settings.Where(s => SettingsContract.LooksSecret(s.Key)).ToList();
        Assert.Equal(["Spp__ApiKey", "Spp__WebhookTokens__0", "Spp__WebhookTokens__1"], secretSettings.Select(s => s.Key).Order());
        foreach (var (name, value) in secretSettings)
        {
            var reference = Regex.Match(value,
                @"^@Microsoft\.KeyVault\(VaultName=(?<vault>[^;]+);SecretName=(?<secret>[^;)]+);SecretVersion=(?<version>[^;)]+)\)$");
            Assert.True(reference.Success, $"{name} must be a versioned Key Vault reference, not '{value}'.");
            Assert.Equal(vault, reference.Groups["vault"].Value);
            Assert.Contains(reference.Groups["secret"].Value, created);
            // The version of that very secret, so a deployment that changes a secret applies it at once.
            Assert.Equal($"v-{reference.Groups["secret"].Value}", reference.Groups["version"].Value);
        }
        Assert.Equal(["spp-webhook-token-0", "spp-webhook-token-1"],
            new[] { Settings["Spp__WebhookTokens__0"], Settings["Spp__WebhookTokens__1"] }
                .Select(v => Regex.Match(v, "SecretName=([^;)]+)").Groups[1].Value));
    }

    [Fact]
    public void Required_settings_come_from_parameters()
    {
        Assert.Equal("test-sppBaseUrl", Settings["Spp__BaseUrl"]);
    }

    [Fact]
    public void Host_storage_and_monitoring_use_the_managed_identity()
    {
        Assert.Equal("managedidentity", Settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("test-identityClientId", Settings["AzureWebJobsStorage__clientId"]);
        Assert.Equal("test-storageBlobEndpoint", Settings["AzureWebJobsStorage__blobServiceUri"]);
        Assert.Equal("test-storageQueueEndpoint", Settings["AzureWebJobsStorage__queueServiceUri"]);
        Assert.Equal("test-storageTableEndpoint", Settings["AzureWebJobsStorage__tableServiceUri"]);
        Assert.Equal("test-applicationInsightsConnectionString", Settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
        Assert.Equal("ClientId=test-identityClientId;Authorization=AAD", Settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
    }

    [Fact]
    public void No_setting_flex_consumption_rejects_is_written()
    {
        var forbidden = Settings.Keys.Where(FlexConsumption.IsForbiddenAppSetting).ToList();
        Assert.True(forbidden.Count == 0,
            $"Flex Consumption takes these from functionAppConfig or does not allow them: {string.Join(", ", forbidden)}");
        Assert.DoesNotContain(Settings.Values, v => v.Contains("AccountKey=", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Overrides_change_optional_settings_but_not_required_or_host_ones()
    {
        var optional = Contract.Bound.First(s => s.Shape == SettingShape.Scalar && s.HasDefault && s.ValueType == typeof(int));
        var overrides = new JsonObject
        {
            [optional.Name] = "7",
            ["Spp__BaseUrl"] = "https://elsewhere.example/api/",
            ["AzureWebJobsStorage__credential"] = "connectionstring",
        };
        var settings = Templates.ApiSnapshot(new() { ["appSettingOverrides"] = overrides }).AppSettings();
        Assert.Equal("7", settings[optional.Name]);
        Assert.Equal("test-sppBaseUrl", settings["Spp__BaseUrl"]);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.NotEqual("7", Settings[optional.Name]);
    }

    [Fact]
    public void Main_passes_its_settings_parameters_to_the_app_module()
    {
        // The app module's snapshot stands for main.bicep's settings only if main hands the values through.
        var api = Templates.Main["resources"]!.AsObject().Select(r => r.Value!.AsObject())
            .Single(r => (string?)r["type"] == "Microsoft.Resources/deployments" && (string?)r["name"] == "api");
        var passed = api["properties"]!["parameters"]!.AsObject();
        Assert.Equal("[parameters('sppBaseUrl')]", Snapshot.Text(passed["sppBaseUrl"]!["value"]));
        Assert.Equal("[parameters('appSettingOverrides')]", Snapshot.Text(passed["appSettingOverrides"]!["value"]));
        Assert.Contains("outputs.name.value", Snapshot.Text(passed["keyVaultName"]!["value"]));
        Assert.Contains("outputs.clientId.value", Snapshot.Text(passed["identityClientId"]!["value"]));
        Assert.Contains("outputs.secretVersions.value", Snapshot.Text(passed["secretVersions"]!["value"]));
        Assert.Contains("outputs.webhookTokenVersions.value", Snapshot.Text(passed["webhookTokenVersions"]!["value"]));
    }
}
