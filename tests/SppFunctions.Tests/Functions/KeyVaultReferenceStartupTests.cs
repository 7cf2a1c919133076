using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SppFunctions.Configuration;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Functions;

/// <summary>
/// Start-up with Key Vault references App Service could not resolve (on a first deployment, before the identity's vault
/// role applies): the app would otherwise send the reference text to SPP as its API key and compare webhook tokens with
/// it. Built like <see cref="StartupTests"/>: the app's services from local.settings.sample.json, with values filled in.
/// </summary>
public class KeyVaultReferenceStartupTests
{
    private const string ApiKeyReference = "@Microsoft.KeyVault(VaultName=kv-test01;SecretName=spp-api-key;SecretVersion=0123456789abcdef)";
    private const string TokenReference =
        "@Microsoft.KeyVault(SecretUri=https://kv-test01.vault.azure.net/secrets/spp-webhook-token-0/fedcba9876543210)";

    internal static Dictionary<string, string?> FilledInSample()
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "local.settings.sample.json")))!["Values"]!.AsObject();
        var values = sample.ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value?.GetValue<string>());
        values["AzureWebJobsStorage"] = TestStorage.ConnectionString;
        values["Spp:BaseUrl"] = "https://acme.spp.co/api/";
        values["Spp:ApiKey"] = "a-real-looking-key";
        values["Spp:WebhookTokens:0"] = "a-webhook-token";
        return values;
    }

    internal static IHost Build(Dictionary<string, string?> values, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(values);
        builder.Services.AddSppFunctions(builder.Configuration);
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    private static string Messages(Exception ex) => ex switch
    {
        AggregateException a => string.Join("\n", a.InnerExceptions.Select(Messages)),
        _ => ex.Message,
    };

    private static async Task<string> StartFailure(Dictionary<string, string?> values)
    {
        using var host = Build(values);
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        var validation = ex is OptionsValidationException
            || ex is AggregateException { InnerExceptions: var inner } && inner.All(e => e is OptionsValidationException);
        Assert.True(validation, ex.ToString());
        return Messages(ex);
    }

    [Fact]
    public async Task Unresolved_references_stop_start_up_naming_each_setting_and_saying_what_to_do()
    {
        var values = FilledInSample();
        values["Spp:ApiKey"] = ApiKeyReference;
        values["Spp:WebhookTokens:0"] = TokenReference;

        var message = await StartFailure(values);

        Assert.Contains("Spp__ApiKey (secret spp-api-key in vault kv-test01), Spp__WebhookTokens__0 (secret spp-webhook-token-0 in vault kv-test01) "
            + "are Key Vault references that App Service has not resolved", message);
        Assert.Contains("Wait, then refresh the references (infra/scripts/refresh-keyvault-references.sh", message);
        Assert.Contains("or restart the app", message);
        // The reference names a vault and a secret, no more is shown: not its version, not the text itself.
        Assert.DoesNotContain("0123456789abcdef", message);
        Assert.DoesNotContain("fedcba9876543210", message);
        Assert.DoesNotContain("@Microsoft.KeyVault", message);
    }

    [Fact]
    public async Task Any_setting_counts_also_a_rule_secret_and_the_prefix_in_any_case()
    {
        var values = FilledInSample();
        values["RuleSecrets:SlackWebhook"] = "  @microsoft.keyvault(VaultName=kv-test01;SecretName=slack-webhook)";

        var message = await StartFailure(values);

        Assert.Contains(
            "RuleSecrets__SlackWebhook (secret slack-webhook in vault kv-test01) is a Key Vault reference that App Service has not resolved",
            message);
        Assert.DoesNotContain("Spp__ApiKey", message);
    }

    [Fact]
    public async Task A_reference_that_does_not_read_as_plain_names_is_named_by_its_setting_only()
    {
        var values = FilledInSample();
        values["Spp:ApiKey"] = "@Microsoft.KeyVault(VaultName=kv-test01;SecretName=hunter2 is my password)";

        var message = await StartFailure(values);

        Assert.Contains("Spp__ApiKey is a Key Vault reference that App Service has not resolved", message);
        Assert.DoesNotContain("hunter2", message);
        Assert.DoesNotContain("kv-test01", message);
    }

    [Fact]
    public async Task Resolved_values_start_even_when_they_mention_key_vault()
    {
        var values = FilledInSample();
        values["RuleSecrets:Note"] = "see @Microsoft.KeyVault( in the docs";
        using var host = Build(values);
        await host.StartAsync();
        await host.StopAsync();
    }

    [Theory]
    [InlineData("@Microsoft.KeyVault(VaultName=v;SecretName=s)", true)]
    [InlineData("@MICROSOFT.KEYVAULT(SecretUri=https://v.vault.azure.net/secrets/s)", true)]
    [InlineData(" @Microsoft.KeyVault(", true)]
    [InlineData("@Microsoft.AppConfiguration(Endpoint=https://x.azconfig.io; Key=k)", false)]
    [InlineData("Microsoft.KeyVault(VaultName=v;SecretName=s)", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void A_value_is_an_unresolved_reference_when_it_starts_with_the_reference_syntax(string? value, bool unresolved) =>
        Assert.Equal(unresolved, KeyVaultReferenceCheck.IsUnresolvedReference(value));
}
