using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SppFunctions.Infra.Tests.Infrastructure;

namespace SppFunctions.Infra.Tests;

/// <summary>What main.bicep deploys, evaluated offline: secure defaults, the app's storage names, RBAC and outputs.</summary>
public class TemplateResourceTests
{
    private static Snapshot Main => Templates.MainSnapshot();

    private static class Roles
    {
        public const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
        public const string StorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
        public const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
        public const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
        public const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
        public const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
        public const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
    }

    public static readonly string[] Queues = ["spp-events", "spp-events-poison", "spp-commands", "spp-commands-poison"];
    public static readonly string[] Tables = ["SppEvents", "SppDedupe", "SppActions", "SppWatch", "SppPollRuns"];
    public static readonly string[] Topics = ["orders", "forms", "accounts", "invoices", "messages", "subscriptions", "tickets"];

    [Fact]
    public void Storage_account_allows_no_shared_keys_no_public_blobs_and_only_tls_1_2()
    {
        var properties = Main.Single("Microsoft.Storage/storageAccounts")["properties"]!;
        Assert.False((bool)properties["allowSharedKeyAccess"]!);
        Assert.Equal("TLS1_2", (string?)properties["minimumTlsVersion"]);
        Assert.False((bool)properties["allowBlobPublicAccess"]!);
        Assert.True((bool)properties["supportsHttpsTrafficOnly"]!);
        Assert.All(Main.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"),
            c => Assert.Equal("None", (string?)c["properties"]!["publicAccess"]));
    }

    [Fact]
    public void The_apps_queues_tables_and_containers_are_created()
    {
        var queues = Main.LeafNames("Microsoft.Storage/storageAccounts/queueServices/queues");
        var tables = Main.LeafNames("Microsoft.Storage/storageAccounts/tableServices/tables");
        var containers = Main.LeafNames("Microsoft.Storage/storageAccounts/blobServices/containers");
        Assert.Equal(Queues.Order(), queues.Order());
        Assert.Equal(Tables.Order(), tables.Order());
        Assert.Contains("spp-payloads", containers);

        // Flex Consumption deploys the package from a container of the same account.
        var deployment = Main.Single("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["deployment"]!["storage"]!;
        var package = Assert.Single(containers, c => c.StartsWith("app-package-", StringComparison.Ordinal));
        var storageId = (string)Main.Single("Microsoft.Storage/storageAccounts")["id"]!;
        var url = ArmExpression.Evaluate(Snapshot.Text(deployment["value"]), (id, property) =>
            id == storageId && property == "primaryEndpoints.blob"
                ? "https://account.blob.example/"
                : throw new InvalidOperationException($"{id} {property}"));
        Assert.Equal("https://account.blob.example/" + package, Snapshot.Text(url));
    }

    [Fact]
    public void Function_app_runs_dotnet_isolated_10_on_flex_consumption_from_a_blob_container()
    {
        var plan = Main.Single("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);
        Assert.True((bool)plan["properties"]!["reserved"]!); // Linux

        var site = Main.Single("Microsoft.Web/sites");
        Assert.Equal("functionapp,linux", (string?)site["kind"]);
        Assert.Equal((string?)plan["id"], (string?)site["properties"]!["serverFarmId"]);
        var config = site["properties"]!["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", (string?)config["runtime"]!["name"]);
        Assert.Equal("10.0", (string?)config["runtime"]!["version"]);
        Assert.Equal("blobContainer", (string?)config["deployment"]!["storage"]!["type"]);
        Assert.Equal("UserAssignedIdentity", (string?)config["deployment"]!["storage"]!["authentication"]!["type"]);
        Assert.Equal(IdentityId(Main), (string?)config["deployment"]!["storage"]!["authentication"]!["userAssignedIdentityResourceId"]);
        Assert.Equal("api", (string?)site["tags"]!["azd-service-name"]); // azure.yaml's service
    }

    [Fact]
    public void Instance_memory_and_maximum_instance_count_are_parameters()
    {
        var scale = Templates.MainSnapshot(full: false).Single("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;
        Assert.Equal(4096, Snapshot.Int(scale["instanceMemoryMB"]));
        Assert.Equal(40, Snapshot.Int(scale["maximumInstanceCount"]));

        var defaults = Main.Single("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;
        Assert.Equal(2048, Snapshot.Int(defaults["instanceMemoryMB"]));
        Assert.Equal(4, Snapshot.Int(defaults["maximumInstanceCount"]));
    }

    [Fact]
    public void Function_app_runs_as_the_user_assigned_identity_only_and_refuses_basic_auth()
    {
        var site = Main.Single("Microsoft.Web/sites");
        var identity = site["identity"]!;
        Assert.Equal("UserAssigned", (string?)identity["type"]);
        Assert.Equal([IdentityId(Main)], identity["userAssignedIdentities"]!.AsObject().Select(p => p.Key));
        Assert.Equal(IdentityId(Main), (string?)site["properties"]!["keyVaultReferenceIdentity"]);
        Assert.True((bool)site["properties"]!["httpsOnly"]!);
        var policies = Main.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
        Assert.Equal(["ftp", "scm"], policies.Select(p => ((string)p["name"]!).Split('/')[^1]).Order());
        Assert.All(policies, p => Assert.False((bool)p["properties"]!["allow"]!));
    }

    [Fact]
    public void Monitoring_accepts_only_entra_authenticated_telemetry()
    {
        var insights = Main.Single("Microsoft.Insights/components");
        Assert.True((bool)insights["properties"]!["DisableLocalAuth"]!);
        var workspace = Main.Single("Microsoft.OperationalInsights/workspaces");
        Assert.Equal((string?)workspace["id"], (string?)insights["properties"]!["WorkspaceResourceId"]);
        Assert.True((bool)workspace["properties"]!["features"]!["disableLocalAuth"]!);
    }

    [Fact]
    public void Key_vault_uses_rbac_and_holds_the_api_key_and_the_webhook_tokens()
    {
        var vault = Main.Single("Microsoft.KeyVault/vaults");
        Assert.True((bool)vault["properties"]!["enableRbacAuthorization"]!);
        Assert.Null(vault["properties"]!["accessPolicies"]);
        // The API key and a slot for every webhook token the template can hold (see WebhookTokenTests).
        var expected = Enumerable.Range(0, Templates.MaxWebhookTokens).Select(i => $"spp-webhook-token-{i}").Append("spp-api-key");
        Assert.Equal(expected.Order(), Main.LeafNames("Microsoft.KeyVault/vaults/secrets").Order());

        // Without a second token the second secret holds the first again, so Spp__WebhookTokens__1 always resolves.
        var single = Templates.MainSnapshot(full: false);
        Assert.Equal(expected.Order(), single.LeafNames("Microsoft.KeyVault/vaults/secrets").Order());
        var always = single.OfType("Microsoft.KeyVault/vaults/secrets").Where(s => s["condition"] is null)
            .Select(s => ((string)s["name"]!).Split('/')[^1]);
        Assert.Equal(["spp-api-key", "spp-webhook-token-0", "spp-webhook-token-1"], always.Order());
    }

    [Fact]
    public void Secret_values_appear_in_no_evaluated_resource_or_output()
    {
        foreach (var snapshot in new[] { Main, Templates.MainSnapshot(full: false) })
        {
            var text = snapshot.Document.ToJsonString();
            foreach (var secret in Templates.Secrets.All) Assert.DoesNotContain(secret, text);
        }
        // ... although the parameters file the evaluation used holds them.
        Assert.Contains(Templates.Secrets.ApiKey, Main.ParametersFile);
    }

    [Fact]
    public void Compiled_outputs_hold_no_secure_value()
    {
        var parameters = Templates.Main["parameters"]!.AsObject();
        var secure = parameters.Where(p => ((string)p.Value!["type"]!).StartsWith("secure", StringComparison.OrdinalIgnoreCase))
            .Select(p => p.Key).ToList();
        Assert.Contains("sppApiKey", secure);
        foreach (var (name, output) in Templates.Main["outputs"]!.AsObject())
        {
            Assert.False(((string)output!["type"]!).StartsWith("secure", StringComparison.OrdinalIgnoreCase), $"Output {name} is secure.");
            var value = Snapshot.Text(output["value"]);
            Assert.DoesNotMatch(@"\blist[A-Za-z]*\(", value);
            Assert.DoesNotContain("secrets", value, StringComparison.OrdinalIgnoreCase);
            foreach (var p in secure) Assert.DoesNotContain($"parameters('{p}')", value);
        }
    }

    [Fact]
    public void The_identity_gets_exactly_the_least_privilege_roles()
    {
        var assignments = RoleAssignments(Main).Where(a => a.PrincipalId.Contains(IdentityId(Main), StringComparison.Ordinal)).ToList();
        var expected = new[]
        {
            (Roles.StorageBlobDataOwner, "Microsoft.Storage/storageAccounts"),
            (Roles.StorageQueueDataContributor, "Microsoft.Storage/storageAccounts"),
            (Roles.StorageTableDataContributor, "Microsoft.Storage/storageAccounts"),
            (Roles.MonitoringMetricsPublisher, "Microsoft.Insights/components"),
            (Roles.KeyVaultSecretsUser, "Microsoft.KeyVault/vaults"),
        };
        Assert.Equal(expected.Order(), assignments.Select(a => (a.Role, a.ScopeType)).Order());
        Assert.All(assignments, a => Assert.Equal("ServicePrincipal", a.PrincipalType));
        Assert.All(assignments, a => Assert.Contains(".principalId", a.PrincipalId, StringComparison.Ordinal));
    }

    [Fact]
    public void The_deploying_principal_gets_storage_data_roles_only_when_given()
    {
        var deployer = RoleAssignments(Main).Where(a => a.PrincipalId == Templates.DeployerPrincipalId).ToList();
        Assert.Equal(
            new[] { Roles.StorageBlobDataContributor, Roles.StorageQueueDataContributor, Roles.StorageTableDataContributor }.Order(),
            deployer.Select(a => a.Role).Order());
        Assert.All(deployer, a => Assert.Equal("Microsoft.Storage/storageAccounts", a.ScopeType));
        Assert.All(deployer, a => Assert.Equal("User", a.PrincipalType));

        var without = Templates.MainSnapshot(full: false);
        Assert.Equal(5, RoleAssignments(without).Count);
        Assert.DoesNotContain(RoleAssignments(without), a => a.PrincipalId == Templates.DeployerPrincipalId);
    }

    [Fact]
    public void The_deploying_principal_gets_key_vault_secrets_officer_only_when_asked()
    {
        var parameters = Templates.MainParameters();
        parameters["deployerKeyVaultSecretsOfficer"] = true;
        var officer = RoleAssignments(Templates.Evaluate("main.bicep", parameters))
            .Where(a => a.PrincipalId == Templates.DeployerPrincipalId && a.ScopeType == "Microsoft.KeyVault/vaults").ToList();
        var assignment = Assert.Single(officer);
        Assert.Equal(Roles.KeyVaultSecretsOfficer, assignment.Role);
        Assert.Equal("User", assignment.PrincipalType);

        // Off by default, and nothing without a principal to give it to.
        Assert.DoesNotContain(RoleAssignments(Main), a => a.Role == Roles.KeyVaultSecretsOfficer);
        var withoutPrincipal = Templates.MainParameters(full: false);
        withoutPrincipal["deployerKeyVaultSecretsOfficer"] = true;
        Assert.DoesNotContain(RoleAssignments(Templates.Evaluate("main.bicep", withoutPrincipal)), a => a.Role == Roles.KeyVaultSecretsOfficer);
    }

    [Fact]
    public void Outputs_name_the_app_its_host_and_the_webhook_urls_without_keys()
    {
        const string host = "func-test.azurewebsites.net";
        var site = Main.Single("Microsoft.Web/sites");
        string Reference(string id, string property)
        {
            Assert.Equal((string?)site["id"], id);
            Assert.Equal("defaultHostName", property);
            return host;
        }
        JsonNode? Output(string name)
        {
            Assert.True(Main.Outputs.ContainsKey(name), $"Output {name} is missing; outputs: {string.Join(", ", Main.Outputs.Select(o => o.Key))}");
            return ArmExpression.Evaluate(Snapshot.Text(Main.Outputs[name]), Reference);
        }

        Assert.Equal((string?)site["name"], Snapshot.Text(Output("AZURE_FUNCTION_APP_NAME")));
        Assert.Equal(host, Snapshot.Text(Output("AZURE_FUNCTION_APP_HOST_NAME")));
        Assert.Equal($"https://{host}/api/webhooks/spp", Snapshot.Text(Output("SPP_WEBHOOK_URL")));
        var urls = Output("SPP_WEBHOOK_URLS")!.AsObject();
        Assert.Equal(Topics.Order(), urls.Select(u => u.Key).Order());
        Assert.All(urls, u => Assert.Equal($"https://{host}/api/webhooks/spp/{u.Key}", Snapshot.Text(u.Value)));
        Assert.DoesNotContain("code=", Main.Outputs.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    private static string IdentityId(Snapshot snapshot) => (string)snapshot.Single("Microsoft.ManagedIdentity/userAssignedIdentities")["id"]!;

    private sealed record Assignment(string Role, string ScopeType, string PrincipalId, string PrincipalType);

    private static List<Assignment> RoleAssignments(Snapshot snapshot) =>
        snapshot.OfType("Microsoft.Authorization/roleAssignments").Select(a =>
        {
            var id = Snapshot.Text(a["id"]);
            var scope = Regex.Match(id, @"(/subscriptions/[^']+?)/providers/Microsoft\.Authorization/roleAssignments|extensionResourceId\('([^']+)'");
            Assert.True(scope.Success, $"No scope in role assignment id {id}");
            var scopeId = scope.Groups[1].Success ? scope.Groups[1].Value : scope.Groups[2].Value;
            var provider = Regex.Match(scopeId, @"/providers/([^/]+/[^/]+)/[^/]+$");
            var role = Snapshot.Text(a["properties"]!["roleDefinitionId"]).Split('/')[^1];
            return new Assignment(role, provider.Groups[1].Value,
                Snapshot.Text(a["properties"]!["principalId"]), Snapshot.Text(a["properties"]!["principalType"]));
        }).ToList();
}
