using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SppFunctions.Infra.Tests.Infrastructure;

namespace SppFunctions.Infra.Tests;

/// <summary>
/// What a Flex Consumption deployment refuses or ignores, checked on the compiled and the evaluated templates: no
/// deprecated site property or app setting (also none through appSettingOverrides), a valid package container name,
/// and the scale settings (instances per function group, always-ready instances of the HTTP group).
/// </summary>
public class FlexConsumptionTests
{
    private const string Guard = "appSettingOverrides cannot set ";

    /// <summary>The Function App resource of the compiled app module (ARM JSON: keys as written, values as expressions).</summary>
    private static JsonObject CompiledSite() =>
        Templates.Compile("app/api.bicep")["resources"]!.AsObject().Select(r => r.Value!.AsObject())
            .Single(r => (string?)r["type"] == "Microsoft.Web/sites");

    private static IEnumerable<(string Where, string Name)> SiteProperties(JsonObject site)
    {
        var properties = site["properties"]!.AsObject();
        foreach (var name in Names(properties)) yield return ("properties", name);
        foreach (var name in Names(properties["siteConfig"]?.AsObject() ?? [])) yield return ("properties.siteConfig", name);
    }

    /// <summary>An object's property names; in compiled ARM JSON a property built by a loop sits in "copy" under its name.</summary>
    private static IEnumerable<string> Names(JsonObject obj) =>
        obj.SelectMany(p => p is { Key: "copy", Value: JsonArray loops } ? loops.Select(l => (string)l!["name"]!) : [p.Key]);

    public static TheoryData<string> Sites() => new() { "compiled app/api.bicep", "main.bicep evaluated", "app/api.bicep evaluated" };

    private static JsonObject Site(string which) => which switch
    {
        "compiled app/api.bicep" => CompiledSite(),
        "main.bicep evaluated" => Templates.MainSnapshot().Single("Microsoft.Web/sites"),
        _ => Templates.ApiSnapshot().Single("Microsoft.Web/sites"),
    };

    [Theory]
    [MemberData(nameof(Sites))]
    public void The_site_sets_no_property_flex_consumption_deprecates(string which)
    {
        var deprecated = SiteProperties(Site(which))
            .Where(p => FlexConsumption.DeprecatedSiteProperties.Contains(p.Name, StringComparer.OrdinalIgnoreCase))
            .Select(p => $"{p.Where}.{p.Name}").ToList();
        Assert.True(deprecated.Count == 0, $"Flex Consumption deprecates (and some regions refuse) {string.Join(", ", deprecated)}");
    }

    [Theory]
    [MemberData(nameof(Sites))]
    public void Site_config_holds_only_what_flex_consumption_supports(string which)
    {
        var siteConfig = Names(Site(which)["properties"]!["siteConfig"]!.AsObject()).ToList();
        Assert.Equal(FlexConsumption.SupportedSiteConfig.Order(StringComparer.Ordinal), siteConfig.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_deprecation_checks_see_a_deprecated_property()
    {
        // The checks above read the site the way this made-up one is read: a property in either place is found.
        var site = JsonNode.Parse(
            """{ "properties": { "reserved": true, "siteConfig": { "minTlsVersion": "1.2", "FtpsState": "Disabled" } } }""")!.AsObject();
        var found = SiteProperties(site).Where(p => FlexConsumption.DeprecatedSiteProperties.Contains(p.Name, StringComparer.OrdinalIgnoreCase));
        Assert.Equal(["properties.reserved", "properties.siteConfig.FtpsState"], found.Select(p => $"{p.Where}.{p.Name}"));
        Assert.True(FlexConsumption.IsForbiddenAppSetting("website_contentshare"));
        Assert.True(FlexConsumption.IsForbiddenAppSetting("WEBSITE_CONTENT_ANYTHING"));
        Assert.False(FlexConsumption.IsForbiddenAppSetting("AzureWebJobsStorage__credential"));
    }

    [Fact]
    public void Overrides_with_settings_flex_consumption_does_not_take_fail_the_deployment_naming_each()
    {
        var overrides = new JsonObject { ["Spp__Retry__MaxRetries"] = "5" };
        foreach (var name in FlexConsumption.ForbiddenAppSettings) overrides[name] = "x";
        overrides["website_contentshare_custom"] = "x";

        var error = Assert.Throws<InvalidOperationException>(() => Templates.EvaluateSource($$"""
            import { checkedAppSettingOverrides } from '{infra}/app/flex.bicep'
            output settings object = checkedAppSettingOverrides({{Templates.BicepLiteral(overrides)}})
            """));
        Assert.Contains(Guard, error.Message);
        var named = Regex.Match(error.Message, Regex.Escape(Guard) + "(?<names>[^:]+):").Groups["names"].Value.Split(", ");
        Assert.Equal(FlexConsumption.ForbiddenAppSettings.Append("website_contentshare_custom").Order(), named.Order());
    }

    [Fact]
    public void A_storage_key_in_any_override_fails_the_deployment_without_showing_it()
    {
        const string key = "c2VjcmV0LXN0b3JhZ2Uta2V5";
        var overrides = new JsonObject { ["MyStorage"] = $"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key}" };
        var error = Assert.Throws<InvalidOperationException>(() => Templates.ApiSnapshot(new() { ["appSettingOverrides"] = overrides }));
        Assert.Contains(Guard + "MyStorage:", error.Message);
        // The CLI's message repeats the fail() text; the parameters file (appended by the test helper) holds the value.
        var cliOutput = error.Message[..error.Message.IndexOf("Parameters file:", StringComparison.Ordinal)];
        Assert.DoesNotContain(key, cliOutput);
    }

    [Fact]
    public void The_app_module_applies_the_guard_and_lets_optional_settings_through()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Templates.ApiSnapshot(new()
        {
            ["appSettingOverrides"] = new JsonObject { ["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated", ["Spp__Retry__MaxRetries"] = "5" },
        }));
        Assert.Contains(Guard + "FUNCTIONS_WORKER_RUNTIME:", error.Message);

        var settings = Templates.ApiSnapshot(new() { ["appSettingOverrides"] = new JsonObject { ["Spp__Retry__MaxRetries"] = "5" } }).AppSettings();
        Assert.Equal("5", settings["Spp__Retry__MaxRetries"]);
    }

    [Fact]
    public void The_parameters_file_has_an_empty_overrides_object_to_edit()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.InfraDirectory, "main.parameters.json")))!["parameters"]!;
        Assert.Equal("{}", file["appSettingOverrides"]!["value"]!.ToJsonString());
    }

    private static string ContainerName(string appName) =>
        Templates.EvaluateSource($$"""
            import { deploymentContainerName } from '{infra}/app/flex.bicep'
            output name string = deploymentContainerName({{Templates.BicepLiteral(JsonValue.Create(appName))}}, 'AbCdEfGhIj')
            """).Outputs["name"]!.GetValue<string>();

    [Theory]
    [InlineData("func-abc123", "app-package-func-abc123-abcdefg")]
    [InlineData("SPP-Functions-Prod", "app-package-spp-functions-prod-abcdefg")]
    [InlineData("spp--functions---prod", "app-package-spp-functions-prod-abcdefg")]
    [InlineData("a-very-long-function-app-name-that-goes-on", "app-package-a-very-long-function-app-name-th-abcdefg")]
    [InlineData("abcdefghij-abcdefghij-abcdefghi-xyz", "app-package-abcdefghij-abcdefghij-abcdefghi-abcdefg")]
    public void The_package_container_name_is_valid_for_any_app_name(string appName, string expected)
    {
        var name = ContainerName(appName);
        Assert.Equal(expected, name);
        // Blob container rules: 3-63 characters, lower-case letters, digits and single hyphens, a letter or digit at each end.
        Assert.Matches("^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$", name);
    }

    [Fact]
    public void Main_names_the_package_container_with_the_function()
    {
        var containers = Templates.MainSnapshot().LeafNames("Microsoft.Storage/storageAccounts/blobServices/containers");
        var package = Assert.Single(containers, c => c.StartsWith("app-package-", StringComparison.Ordinal));
        var app = (string)Templates.MainSnapshot().Single("Microsoft.Web/sites")["name"]!;
        Assert.StartsWith($"app-package-{app}-", package);
        Assert.Contains("deploymentContainerName(", Snapshot.Text(Templates.Main["variables"]!["packageContainerName"]));
    }

    private static JsonNode Scale(Snapshot snapshot) =>
        snapshot.Single("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;

    [Fact]
    public void By_default_each_function_group_scales_to_four_instances_and_none_is_kept_ready()
    {
        var scale = Scale(Templates.MainSnapshot());
        Assert.Equal(4, Snapshot.Int(scale["maximumInstanceCount"]));
        Assert.Equal("[]", scale["alwaysReady"]!.ToJsonString());
        Assert.Equal(4, Snapshot.Int(Templates.Main["parameters"]!["maximumInstanceCount"]!["defaultValue"]));
        Assert.Equal(0, Snapshot.Int(Templates.Main["parameters"]!["httpAlwaysReadyInstances"]!["defaultValue"]));
    }

    [Fact]
    public void Always_ready_instances_are_kept_for_the_http_group_only_when_asked()
    {
        var parameters = Templates.MainParameters(full: false);
        parameters["httpAlwaysReadyInstances"] = 1;
        var scale = Scale(Templates.Evaluate("main.bicep", parameters));
        var ready = Assert.Single(scale["alwaysReady"]!.AsArray());
        Assert.Equal("http", (string?)ready!["name"]);
        Assert.Equal(1, Snapshot.Int(ready["instanceCount"]));
    }

    [Fact]
    public void More_always_ready_instances_than_the_group_may_have_fail_the_deployment()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Templates.ApiSnapshot(new()
        {
            ["maximumInstanceCount"] = 2,
            ["httpAlwaysReadyInstances"] = 3,
        }));
        Assert.Contains("httpAlwaysReadyInstances (3) cannot exceed maximumInstanceCount (2)", error.Message);
    }
}
