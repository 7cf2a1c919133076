using System.Text.Json.Nodes;
using SppFunctions.Infra.Tests.Infrastructure;

namespace SppFunctions.Infra.Tests;

/// <summary>
/// The rules of the settings check on made-up options classes and function metadata, shaped like the settings
/// still to come (lists with defaults, nested objects, %Setting% schedules, other connections), so each rule is
/// seen to fail.
/// </summary>
public class SettingsContractTests
{
    public enum Mode { Slow, Fast }

    public class PollingOptions
    {
        public const string SectionName = "Polling";
        public string Schedule { get; set; } = "0 */5 * * * *";
        public List<string> ClosedStatuses { get; set; } = ["Complete", "Cancelled"];
        public string[] AllowedHosts { get; set; } = [];
        public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(10);
        public Mode Mode { get; set; } = Mode.Fast;
        public bool Enabled { get; set; } = true;
        public double Ratio { get; set; } = 0.25;
        public int? Limit { get; set; }
        public Uri? Callback { get; set; }
        public string Computed => Schedule + "!"; // no setter: not bound
        public NestedOptions Inner { get; set; } = new();
        public Dictionary<string, string> Headers { get; set; } = [];
        public List<NestedOptions> Targets { get; set; } = [];
    }

    public class NestedOptions
    {
        public int Size { get; set; } = 3;
        public string? Key { get; set; }
    }

    private static readonly IReadOnlyList<BoundSetting> Bound = CodeSettings.Expand(typeof(PollingOptions), PollingOptions.SectionName);

    private static readonly FunctionsMetadataSettings NoMetadata = new(new SortedSet<string>(), new SortedSet<string>());

    /// <summary>A template that satisfies <see cref="PollingOptions"/>.</summary>
    private static Dictionary<string, string> Complete() => new()
    {
        ["Polling__Schedule"] = "0 */5 * * * *",
        ["Polling__ClosedStatuses__0"] = "Complete",
        ["Polling__ClosedStatuses__1"] = "Cancelled",
        ["Polling__Window"] = "00:10:00",
        ["Polling__Mode"] = "Fast",
        ["Polling__Enabled"] = "true",
        ["Polling__Ratio"] = "0.25",
        ["Polling__Limit"] = "50",
        ["Polling__Callback"] = "https://example.test/",
        ["Polling__Inner__Size"] = "3",
        ["Polling__Inner__Key"] = "@Microsoft.KeyVault(VaultName=v;SecretName=s)",
        ["AzureWebJobsStorage__credential"] = "managedidentity",
    };

    [Fact]
    public void Options_expand_into_setting_names_the_way_the_binder_reads_them()
    {
        Assert.Equal(
            new[]
            {
                ("Polling__Schedule", SettingShape.Scalar), ("Polling__ClosedStatuses", SettingShape.ScalarList),
                ("Polling__AllowedHosts", SettingShape.ScalarList), ("Polling__Window", SettingShape.Scalar),
                ("Polling__Mode", SettingShape.Scalar), ("Polling__Enabled", SettingShape.Scalar), ("Polling__Ratio", SettingShape.Scalar),
                ("Polling__Limit", SettingShape.Scalar), ("Polling__Callback", SettingShape.Scalar),
                ("Polling__Inner__Size", SettingShape.Scalar), ("Polling__Inner__Key", SettingShape.Scalar),
                ("Polling__Headers", SettingShape.Family), ("Polling__Targets", SettingShape.Family),
            }.Order(),
            Bound.Select(b => (b.Name, b.Shape)).Order());
    }

    [Fact]
    public void Defaults_come_from_a_new_instance()
    {
        var byName = Bound.ToDictionary(b => b.Name);
        Assert.Equal(TimeSpan.FromMinutes(10), byName["Polling__Window"].Default);
        Assert.Equal(["Complete", "Cancelled"], byName["Polling__ClosedStatuses"].DefaultItems);
        Assert.True(byName["Polling__ClosedStatuses"].HasDefault);
        Assert.False(byName["Polling__AllowedHosts"].HasDefault);
        Assert.False(byName["Polling__Limit"].HasDefault);
        Assert.False(byName["Polling__Inner__Key"].HasDefault);
        Assert.Equal(3, byName["Polling__Inner__Size"].Default);
    }

    [Fact]
    public void A_complete_template_satisfies_the_contract()
    {
        var contract = new SettingsContract(Bound, NoMetadata);
        var template = Complete();
        template["Polling__AllowedHosts__0"] = "hooks.example";
        template["Polling__Headers__X-Trace"] = "1";
        template["Polling__Targets__0__Size"] = "4";
        Assert.Empty(contract.Missing(template));
        Assert.Empty(contract.Unknown(template));
        Assert.Empty(contract.WrongDefaults(template));
    }

    [Fact]
    public void Missing_lists_each_unset_setting_and_default_list_item()
    {
        var template = Complete();
        template.Remove("Polling__Schedule");
        template.Remove("Polling__ClosedStatuses__1");
        template.Remove("Polling__Inner__Key");
        var missing = new SettingsContract(Bound, NoMetadata).Missing(template);
        Assert.Equal(3, missing.Count);
        Assert.Contains(missing, m => m.StartsWith("Polling__Schedule ", StringComparison.Ordinal));
        Assert.Contains(missing, m => m.StartsWith("Polling__ClosedStatuses__1 ", StringComparison.Ordinal));
        Assert.Contains(missing, m => m.StartsWith("Polling__Inner__Key ", StringComparison.Ordinal) && m.Contains("no default"));
    }

    [Fact]
    public void Unknown_lists_settings_nothing_reads()
    {
        var template = Complete();
        template["Polling__Schedul"] = "typo";
        template["Polling__ClosedStatuses__x"] = "not an index";
        template["Polling__Computed"] = "read-only property";
        template["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        var unknown = new SettingsContract(Bound, NoMetadata).Unknown(template);
        Assert.Equal(["FUNCTIONS_WORKER_RUNTIME", "Polling__ClosedStatuses__x", "Polling__Computed", "Polling__Schedul"], unknown);
    }

    [Fact]
    public void Optional_values_are_compared_as_the_bound_type()
    {
        var contract = new SettingsContract(Bound, NoMetadata);
        var equal = Complete();
        equal["Polling__Window"] = "0.00:10:00";
        equal["Polling__Mode"] = "fast";
        equal["Polling__Enabled"] = "True";
        equal["Polling__Ratio"] = "0.250";
        Assert.Empty(contract.WrongDefaults(equal));

        var different = Complete();
        different["Polling__Window"] = "00:05:00";
        different["Polling__Ratio"] = "0,25";
        different["Polling__ClosedStatuses__1"] = "Done";
        var wrong = contract.WrongDefaults(different);
        Assert.Equal(3, wrong.Count);
        Assert.Contains(wrong, w => w.StartsWith("Polling__Window = '00:05:00'", StringComparison.Ordinal));
        Assert.Contains(wrong, w => w.StartsWith("Polling__Ratio = '0,25'", StringComparison.Ordinal));
        Assert.Contains(wrong, w => w.StartsWith("Polling__ClosedStatuses__1 = 'Done'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_default_list_must_be_written_exactly()
    {
        var extra = Complete();
        extra["Polling__ClosedStatuses__2"] = "Refunded";
        Assert.Single(new SettingsContract(Bound, NoMetadata).WrongDefaults(extra),
            w => w.StartsWith("Polling__ClosedStatuses__0..1 expected", StringComparison.Ordinal));
    }

    [Fact]
    public void Trigger_settings_and_connections_come_from_functions_metadata()
    {
        var metadata = FunctionsMetadataSettings.Parse(JsonNode.Parse("""
            [
              { "name": "Poll", "bindings": [ { "type": "timerTrigger", "schedule": "%Polling:Schedule%" } ] },
              { "name": "Events", "bindings": [ { "type": "queueTrigger", "queueName": "%Queues__Events%", "connection": "" } ] },
              { "name": "Mirror", "bindings": [ { "type": "queueTrigger", "queueName": "mirror", "connection": "MirrorStorage" } ] },
              { "name": "Health", "bindings": [ { "type": "httpTrigger", "route": "health" } ] }
            ]
            """)!.AsArray());
        Assert.Equal(["Polling:Schedule", "Queues__Events"], metadata.Expressions);
        Assert.Equal(["AzureWebJobsStorage", "MirrorStorage"], metadata.Connections);

        var contract = new SettingsContract([], metadata);
        var template = new Dictionary<string, string>
        {
            ["Polling__Schedule"] = "0 */5 * * * *",
            ["AzureWebJobsStorage__credential"] = "managedidentity",
            ["MirrorStorage__queueServiceUri"] = "https://mirror.queue.example/",
        };
        Assert.Equal(["Queues__Events (%Queues__Events% in functions.metadata)"], contract.Missing(template));
        template["Queues__Events"] = "spp-events";
        Assert.Empty(contract.Missing(template));
        Assert.Empty(contract.Unknown(template));

        template.Remove("MirrorStorage__queueServiceUri");
        Assert.Equal(["MirrorStorage or MirrorStorage__* (connection in functions.metadata)"], contract.Missing(template));
        template["AzureWebJobsStorage__accountName"] = "not in the platform list";
        Assert.Equal(["AzureWebJobsStorage__accountName"], contract.Unknown(template));
    }

    [Fact]
    public void Pending_lists_are_known_until_the_code_binds_them()
    {
        var template = new Dictionary<string, string> { ["Spp__WebhookTokens__0"] = "a", ["Spp__WebhookTokens__1"] = "b" };
        var pending = new SettingsContract([], NoMetadata, ["Spp__WebhookTokens"]);
        Assert.Empty(pending.Unknown(template));
        Assert.Empty(pending.PendingButBound());
        Assert.Equal(["Spp__WebhookTokens__0", "Spp__WebhookTokens__1"], new SettingsContract([], NoMetadata).Unknown(template));

        var bound = new BoundSetting("Spp__WebhookTokens", SettingShape.ScalarList, typeof(string), new List<string>(), [], "test");
        Assert.Equal(["Spp__WebhookTokens"], new SettingsContract([bound], NoMetadata, ["Spp__WebhookTokens"]).PendingButBound());
    }

    [Theory]
    [InlineData("Spp__ApiKey", true)]
    [InlineData("Spp__WebhookTokens__0", true)]
    [InlineData("Forward__Secret", true)]
    [InlineData("Spp__ApiVersion", false)]
    [InlineData("Webhooks__MaxBodyBytes", false)]
    [InlineData("APPLICATIONINSIGHTS_CONNECTION_STRING", false)]
    public void Secret_looking_names_are_recognised(string name, bool secret) =>
        Assert.Equal(secret, SettingsContract.LooksSecret(name));

    [Fact]
    public void Output_expressions_are_evaluated_or_refused()
    {
        var value = ArmExpression.Evaluate(
            "[createObject('orders', format('{0}/{1}', format('https://{0}/{1}', reference('/sites/app', '2024-04-01').defaultHostName, " +
            "'api/webhooks/spp'), 'orders'), 'it''s', concat('a', 'b'))]",
            (id, property) => id == "/sites/app" && property == "defaultHostName" ? "app.example" : "?")!.AsObject();
        Assert.Equal("https://app.example/api/webhooks/spp/orders", (string?)value["orders"]);
        Assert.Equal("ab", (string?)value["it's"]);
        Assert.Throws<FormatException>(() => ArmExpression.Evaluate("[listKeys('x', '1').keys]", (_, _) => ""));
    }
}
