using System.Text.Json.Nodes;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Functions;

/// <summary>
/// The Functions host is not available on our build machines, so the function index the Worker SDK generates
/// (functions.metadata) is checked instead: every function, its trigger, route/queue/schedule and connection.
/// </summary>
public class FunctionsMetadataTests
{
    private static readonly Lazy<Dictionary<string, JsonObject>> Functions = new(() =>
    {
        var path = Path.Combine(TestPaths.FunctionsOutputDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: the Functions project did not build with the Worker SDK.");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray()
            .Select(f => f!.AsObject())
            .ToDictionary(f => f["name"]!.GetValue<string>());
    });

    private static JsonObject Trigger(string function)
    {
        Assert.True(Functions.Value.ContainsKey(function), $"function '{function}' is not in functions.metadata");
        return Functions.Value[function]["bindings"]!.AsArray().Select(b => b!.AsObject())
            .Single(b => b["type"]!.GetValue<string>().EndsWith("Trigger", StringComparison.Ordinal));
    }

    /// <summary>Every function the app has. A new function must be added here with its trigger.</summary>
    public static readonly string[] ExpectedFunctions =
    {
        "Health",
        "SppWebhook", "SppWebhookOrders", "SppWebhookForms", "SppWebhookAccounts", "SppWebhookInvoices",
        "SppWebhookMessages", "SppWebhookSubscriptions", "SppWebhookTickets",
        "ProcessEvent", "ProcessCommand", "EventPoison", "CommandPoison", "ReplayEvents",
        "PollOrderMessages",
        "Housekeeping",
    };

    [Fact]
    public void Lists_exactly_the_expected_functions()
    {
        Assert.Equal(ExpectedFunctions.Order(), Functions.Value.Keys.Order());
    }

    [Fact]
    public void Health_is_an_anonymous_get()
    {
        var trigger = Trigger("Health");
        Assert.Equal("httpTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal("Anonymous", trigger["authLevel"]!.GetValue<string>());
        Assert.Equal("health", trigger["route"]!.GetValue<string>());
        Assert.Equal(new[] { "get" }, trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Theory]
    [InlineData("SppWebhook", "webhooks/spp")]
    [InlineData("SppWebhookOrders", "webhooks/spp/orders")]
    [InlineData("SppWebhookForms", "webhooks/spp/forms")]
    [InlineData("SppWebhookAccounts", "webhooks/spp/accounts")]
    [InlineData("SppWebhookInvoices", "webhooks/spp/invoices")]
    [InlineData("SppWebhookMessages", "webhooks/spp/messages")]
    [InlineData("SppWebhookSubscriptions", "webhooks/spp/subscriptions")]
    [InlineData("SppWebhookTickets", "webhooks/spp/tickets")]
    public void Webhook_routes_are_function_key_protected_posts(string function, string route)
    {
        var trigger = Trigger(function);
        Assert.Equal("httpTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal("Function", trigger["authLevel"]!.GetValue<string>());
        Assert.Equal(route, trigger["route"]!.GetValue<string>());
        Assert.Equal(new[] { "post" }, trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Theory]
    [InlineData("ProcessEvent", "spp-events")]
    [InlineData("ProcessCommand", "spp-commands")]
    [InlineData("EventPoison", "spp-events-poison")]
    [InlineData("CommandPoison", "spp-commands-poison")]
    public void Queue_triggers_read_their_queue_from_AzureWebJobsStorage(string function, string queue)
    {
        var trigger = Trigger(function);
        Assert.Equal("queueTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal(queue, trigger["queueName"]!.GetValue<string>());
        Assert.Equal("AzureWebJobsStorage", trigger["connection"]!.GetValue<string>());
    }

    [Fact]
    public void The_poller_is_a_timer_on_the_Polling_Schedule_setting_without_run_on_startup()
    {
        var trigger = Trigger("PollOrderMessages");
        Assert.Equal("timerTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal("%Polling:Schedule%", trigger["schedule"]!.GetValue<string>());
        Assert.False(trigger["runOnStartup"]?.GetValue<bool>() ?? false);
        Assert.True(trigger["useMonitor"]?.GetValue<bool>() ?? true);
    }

    [Fact]
    public void Housekeeping_is_a_timer_on_the_Housekeeping_Schedule_setting_without_run_on_startup()
    {
        var trigger = Trigger("Housekeeping");
        Assert.Equal("timerTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal("%Housekeeping:Schedule%", trigger["schedule"]!.GetValue<string>());
        Assert.False(trigger["runOnStartup"]?.GetValue<bool>() ?? false);
        Assert.True(trigger["useMonitor"]?.GetValue<bool>() ?? true);
    }

    [Fact]
    public void Replay_is_an_admin_level_post()
    {
        var trigger = Trigger("ReplayEvents");
        Assert.Equal("httpTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal("Admin", trigger["authLevel"]!.GetValue<string>());
        Assert.Equal("ops/replay", trigger["route"]!.GetValue<string>());
        Assert.Equal(new[] { "post" }, trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Fact]
    public void Host_json_sets_retries_and_the_poison_threshold_on_purpose()
    {
        var queues = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "host.json")))!["extensions"]!["queues"]!;
        Assert.InRange(queues["maxDequeueCount"]!.GetValue<int>(), 3, 10);
        Assert.Equal(TimeSpan.FromSeconds(30), TimeSpan.Parse(queues["visibilityTimeout"]!.GetValue<string>()));
    }

    [Fact]
    public void The_root_host_json_ships_with_the_app()
    {
        var shipped = File.ReadAllText(Path.Combine(TestPaths.FunctionsOutputDirectory, "host.json"));
        Assert.Equal(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "host.json")), shipped);
        var host = JsonNode.Parse(shipped)!;
        Assert.Equal("2.0", host["version"]!.GetValue<string>());
        Assert.Equal("base64", host["extensions"]!["queues"]!["messageEncoding"]!.GetValue<string>());
    }
}
