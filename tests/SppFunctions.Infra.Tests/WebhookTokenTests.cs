using System.Text.Json.Nodes;
using SppFunctions.Infra.Tests.Infrastructure;

namespace SppFunctions.Infra.Tests;

/// <summary>
/// Any number of webhook tokens (up to the template's limit): sppWebhookToken, sppWebhookTokenSecondary and the
/// comma-separated sppWebhookTokensAdditional become one Key Vault secret and one Key Vault reference
/// Spp__WebhookTokens__N each. Secure values stay unknown to the offline evaluation, so the steps are checked one by
/// one: the token list (a function of contract.bicep, evaluated with plain strings), the vault's secret slots and
/// their conditions, and the app module given the vault's versions.
/// </summary>
public class WebhookTokenTests
{
    private static JsonArray TokenList(string first, string second, string further, int limit = Templates.MaxWebhookTokens)
    {
        var snapshot = Templates.EvaluateSource($$"""
            import { webhookTokenList } from '{infra}/app/contract.bicep'
            output tokens array = webhookTokenList({{Literal(first)}}, {{Literal(second)}}, {{Literal(further)}}, {{limit}})
            """);
        return snapshot.Outputs["tokens"]!.AsArray();
    }

    private static string Literal(string value) => Templates.BicepLiteral(JsonValue.Create(value));

    private static string[] Strings(JsonArray array) => array.Select(t => t!.GetValue<string>()).ToArray();

    [Fact]
    public void The_limit_in_these_tests_is_the_templates()
    {
        var contract = Templates.Compile("app/contract.bicep");
        Assert.Equal(Templates.MaxWebhookTokens, contract["variables"]!["maxWebhookTokens"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("t0", "", "", new[] { "t0", "t0" })]
    [InlineData("t0", "t1", "", new[] { "t0", "t1" })]
    [InlineData("t0", "", "t2", new[] { "t0", "t0", "t2" })]
    [InlineData("t0", "t1", "t2,t3", new[] { "t0", "t1", "t2", "t3" })]
    [InlineData("t0", "t1", " t2 , t3,,t4, ", new[] { "t0", "t1", "t2", "t3", "t4" })]
    public void Tokens_are_the_first_the_second_or_the_first_again_then_each_further_one(
        string first, string second, string further, string[] expected)
    {
        Assert.Equal(expected, Strings(TokenList(first, second, further)));
    }

    [Fact]
    public void Up_to_the_limit_fit_and_one_more_fails_the_deployment_with_a_message()
    {
        var further = (int count) => string.Join(",", Enumerable.Range(2, count).Select(i => $"t{i}"));
        var full = TokenList("t0", "t1", further(Templates.MaxWebhookTokens - 2));
        Assert.Equal(Templates.MaxWebhookTokens, full.Count);
        Assert.Equal($"t{Templates.MaxWebhookTokens - 1}", full[^1]!.GetValue<string>());

        var error = Assert.Throws<InvalidOperationException>(() => TokenList("t0", "t1", further(Templates.MaxWebhookTokens - 1)));
        Assert.Contains($"At most {Templates.MaxWebhookTokens} webhook tokens fit", error.Message);
        Assert.Contains($"got {Templates.MaxWebhookTokens + 1}", error.Message);
    }

    [Fact]
    public void Main_builds_the_list_from_all_three_parameters_and_hands_it_to_the_vault_as_a_secure_object()
    {
        var main = Templates.Main;
        foreach (var name in new[] { "sppWebhookToken", "sppWebhookTokenSecondary", "sppWebhookTokensAdditional" })
        {
            Assert.Equal("securestring", main["parameters"]![name]!["type"]!.GetValue<string>().ToLowerInvariant());
        }
        var list = Snapshot.Text(main["variables"]!["webhookTokens"]);
        Assert.Matches(@"webhookTokenList\(parameters\('sppWebhookToken'\), parameters\('sppWebhookTokenSecondary'\), " +
            @"parameters\('sppWebhookTokensAdditional'\), variables\('maxWebhookTokens'\)\)", list);

        var keyVault = main["resources"]!.AsObject().Select(r => r.Value!.AsObject())
            .Single(r => (string?)r["type"] == "Microsoft.Resources/deployments" && (string?)r["name"] == "keyvault");
        Assert.Equal("[variables('webhookTokens')]", Snapshot.Text(keyVault["properties"]!["parameters"]!["webhookTokens"]!["value"]!["tokens"]));
        var inner = keyVault["properties"]!["template"]!["parameters"]!["webhookTokens"]!;
        Assert.Equal("secureobject", inner["type"]!.GetValue<string>().ToLowerInvariant());
    }

    [Fact]
    public void The_vault_writes_token_N_into_secret_N_for_as_many_tokens_as_given()
    {
        var secrets = Templates.MainSnapshot().OfType("Microsoft.KeyVault/vaults/secrets")
            .Where(s => ((string)s["name"]!).Contains("/spp-webhook-token-", StringComparison.Ordinal))
            .ToDictionary(s => int.Parse(((string)s["name"]!).Split('-')[^1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(0, Templates.MaxWebhookTokens), secrets.Keys.Order());
        const string tokens = "parameters('webhookTokens').tokens";
        foreach (var (index, secret) in secrets)
        {
            var value = Snapshot.Text(secret["properties"]!["value"]);
            if (index < 2)
            {
                // Always written: the first token, and the second (or the first again).
                Assert.Null(secret["condition"]);
                Assert.Equal($"[{tokens}[{index}]]", value);
                continue;
            }
            // Written only when the list has a token N, and then that token.
            Assert.Equal($"[less({index}, length({tokens}))]", Snapshot.Text(secret["condition"]));
            Assert.StartsWith(
                $"[if(less({index}, length({tokens})), variables('tokens')[range(2, sub(variables('maxWebhookTokens'), 2))[{index - 2}]], '')]",
                value);
        }
    }

    [Fact]
    public void The_vault_outputs_the_version_of_each_token_secret_by_index_and_no_value()
    {
        var output = Templates.Compile("app/keyvault.bicep")["outputs"]!["webhookTokenVersions"]!;
        Assert.Equal("array", output["type"]!.GetValue<string>());
        Assert.Equal("[length(range(0, variables('maxWebhookTokens')))]", Snapshot.Text(output["copy"]!["count"]));
        var input = Snapshot.Text(output["copy"]!["input"]);
        Assert.Contains("secretUriWithVersion", input);
        Assert.DoesNotContain("properties.value", input, StringComparison.OrdinalIgnoreCase);
        // The token count decides which slots have a version; no token itself is read.
        Assert.DoesNotContain("variables('tokens')[", input);
        Assert.DoesNotContain(".tokens[", input);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(Templates.MaxWebhookTokens)]
    public void The_app_gets_one_key_vault_reference_per_token(int count)
    {
        var settings = Templates.ApiSnapshot(new() { ["webhookTokenVersions"] = Templates.WebhookTokenVersions(count) }).AppSettings();
        var vault = Templates.Placeholders(Templates.Compile("app/api.bicep"))["keyVaultName"]!.GetValue<string>();
        var tokens = settings.Where(s => s.Key.StartsWith("Spp__WebhookTokens__", StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"Spp__WebhookTokens__{i}").Order(), tokens.Keys.Order());
        foreach (var (name, value) in tokens)
        {
            var index = name.Split("__")[^1];
            Assert.Equal(
                $"@Microsoft.KeyVault(VaultName={vault};SecretName=spp-webhook-token-{index};SecretVersion=v-spp-webhook-token-{index})", value);
        }

        // And the settings check still holds: every token is a setting the code binds.
        var contract = new SettingsContract(CodeSettings.Bound(CodeSettings.AppAssemblies()),
            FunctionsMetadataSettings.Load(Path.Combine(TestPaths.FunctionsOutputDirectory, "functions.metadata")), AppSettingsTests.PendingInCode);
        Assert.Empty(contract.Unknown(settings));
        Assert.Empty(contract.Missing(settings));
    }

    [Fact]
    public void The_parameters_file_maps_the_further_tokens_to_an_azd_variable()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.InfraDirectory, "main.parameters.json")))!["parameters"]!;
        Assert.Equal("${SPP_WEBHOOK_TOKENS_ADDITIONAL=}", file["sppWebhookTokensAdditional"]!["value"]!.GetValue<string>());
        Assert.Equal("", Snapshot.Text(Templates.Main["parameters"]!["sppWebhookTokensAdditional"]!["defaultValue"]));
    }
}
