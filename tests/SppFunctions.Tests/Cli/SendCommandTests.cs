using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SppFunctions.Events;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Cli.CliTestKit;

namespace SppFunctions.Tests.Cli;

/// <summary><c>sppfn send</c> against a real HTTP endpoint hosting the webhook intake on Azurite.</summary>
public class SendCommandTests
{
    private static async Task<List<EventMessage>> QueuedAsync(AppHarness app)
    {
        var list = new List<EventMessage>();
        var queue = app.Queue(app.Names.EventsQueue);
        if (!await queue.ExistsAsync()) return list;
        while (true)
        {
            var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value;
            if (batch.Length == 0) return list;
            list.AddRange(batch.Select(m => EventMessage.Parse(m.Body.ToString())));
        }
    }

    [Fact]
    public async Task Send_posts_every_catalogue_event_and_each_is_queued_with_a_json_summary()
    {
        await using var app = await AppHarness.StartAsync();
        await using var web = await WebhookHost.StartAsync(app);

        var run = await RunAsync(app, "send", "--url", web.WebhookUrl.ToString(), "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Error);
        var summary = run.Json.AsObject();
        var catalogue = EventCatalog.All.Count;
        Assert.Equal(catalogue, summary["sent"]!.GetValue<int>());
        Assert.Equal(catalogue, summary["accepted"]!.GetValue<int>());
        Assert.Equal(catalogue, summary["statuses"]!["202"]!.GetValue<int>());
        Assert.Equal(EventCatalog.All.Select(e => e.Name).Order(), summary["byEvent"]!.AsObject().Select(p => p.Key).Order());
        var latency = summary["latencyMs"]!.AsObject();
        Assert.True(latency["p50"]!.GetValue<double>() > 0);
        Assert.True(latency["p50"]!.GetValue<double>() <= latency["p95"]!.GetValue<double>());
        Assert.True(latency["p99"]!.GetValue<double>() <= latency["max"]!.GetValue<double>());
        Assert.Equal(catalogue, web.Requests);

        var queued = await QueuedAsync(app);
        Assert.Equal(EventCatalog.All.Select(e => e.Name).Order(), queued.Select(m => m.Event).Order());
        Assert.All(queued, m =>
        {
            Assert.Equal(EventSources.Webhook, m.Source);
            Assert.Equal(EventCatalog.All.Single(e => e.Name == m.Event).Topic, m.Topic);
            Assert.False(m.Payload!.ContainsKey("token"));
        });
        // Old-style order data as SPP's help centre shows it.
        var order = queued.First(m => m.Event == "order.created").Payload!["data"]!.AsObject();
        Assert.Matches("^[0-9A-F]{8}$", order["id"]!.GetValue<string>());
        Assert.EndsWith("+0000", order["date_added"]!.GetValue<string>());
        Assert.Equal("Pending", order["status"]!.GetValue<string>());
        Assert.NotNull(order["client"]!["email"]);
        Assert.Equal(catalogue, (await app.RowsAsync(app.Names.EventsTable)).Count);
        AssertNoSecrets(run, Secrets(app));
    }

    [Fact]
    public async Task Count_and_rate_send_distinct_events_paced_and_the_human_summary_shows_statuses_and_latencies()
    {
        await using var app = await AppHarness.StartAsync();
        await using var web = await WebhookHost.StartAsync(app);

        var started = DateTime.UtcNow;
        var run = await RunAsync(app,
            "send", "--url", web.WebhookUrl.ToString(), "--event", "order.created", "--event", "invoice.paid", "--count", "5", "--rate", "50");
        var elapsed = DateTime.UtcNow - started;

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Sending 10 webhook(s) (2 event(s) × 5)", run.Out);
        Assert.Contains("at 50/s", run.Out);
        Assert.Contains("Sent 10 webhook(s)", run.Out);
        Assert.Contains("10 accepted", run.Out);
        Assert.Matches(@"202\s+10", run.Out);
        Assert.Matches(@"Latency \(ms\): p50 [0-9.]+  p95 [0-9.]+  p99 [0-9.]+  max [0-9.]+", run.Out);
        // 10 webhooks at 50/s: the last starts 180 ms after the first.
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(170), $"took {elapsed.TotalMilliseconds} ms");
        var queued = await QueuedAsync(app);
        Assert.Equal(10, queued.Count);
        Assert.Equal(10, queued.Select(m => m.Id).Distinct().Count());
        Assert.Equal(5, queued.Where(m => m.Event == "order.created").Select(m => m.Payload!["data"]!["id"]!.ToString()).Distinct().Count());
    }

    [Fact]
    public async Task Ctrl_c_stops_sending_prints_what_was_sent_and_exits_130()
    {
        await using var app = await AppHarness.StartAsync();
        await using var web = await WebhookHost.StartAsync(app);
        using var ctrlC = new CancellationTokenSource();

        var running = RunAsync(Environment(app), app.Names, null, ctrlC.Token,
            "send", "--url", web.WebhookUrl.ToString(), "--event", "order.created", "--count", "100", "--rate", "20");
        // Ctrl-C once sending is under way, however long the start took.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (web.Requests == 0 && !running.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
        ctrlC.Cancel();
        var run = await running;

        Assert.Equal(130, run.ExitCode);
        var sent = int.Parse(Regex.Match(run.Out, @"Sent (\d+) webhook\(s\)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(sent, 1, 30);
        Assert.Equal($"error: cancelled after {sent} of 100 webhook(s).", run.Error.Trim());
        Assert.Equal(sent, (await QueuedAsync(app)).Count);
    }

    [Fact]
    public async Task Topic_routes_and_api_style_data_are_accepted_too()
    {
        await using var app = await AppHarness.StartAsync();
        await using var web = await WebhookHost.StartAsync(app);

        var run = await RunAsync(app, "send", "--url", web.WebhookUrl.ToString(), "--topic-routes", "--style", "api", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(EventCatalog.All.Count, run.Json["statuses"]!["202"]!.GetValue<int>());
        var queued = await QueuedAsync(app);
        var order = queued.First(m => m.Event == "order.created").Payload!["data"]!.AsObject();
        Assert.Equal(1042, order["id"]!.GetValue<int>());
        Assert.Equal(SampleWebhooks.OrderNumber, order["number"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_wrong_token_is_refused_the_summary_counts_401s_and_the_exit_code_is_1_without_printing_the_token()
    {
        await using var app = await AppHarness.StartAsync();
        await using var web = await WebhookHost.StartAsync(app);
        const string wrong = "tok_wrong_0000000000000000000000";

        var run = await RunAsync(app, "send", "--url", web.WebhookUrl.ToString(), "--event", "order.created", "--count", "3", "--token", wrong);

        Assert.Equal(1, run.ExitCode);
        Assert.Matches(@"401\s+3", run.Out);
        Assert.Contains("401 × 3: The webhook token is not accepted.", run.Out);
        Assert.Equal("error: 3 of 3 webhook(s) were not accepted; first error: 401 The webhook token is not accepted.", run.Error.Trim());
        Assert.Empty(await QueuedAsync(app));
        AssertNoSecrets(run, Secrets(app).Append(wrong));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stopped_app_gets_only_the_error_exit_4_saying_how_to_start_it(bool json)
    {
        await using var app = await AppHarness.StartAsync();
        var url = $"http://127.0.0.1:{TestStorage.FreePort()}/api/webhooks/spp";

        var run = await RunAsync(app, json ? ["send", "--url", url, "--json"] : ["send", "--url", url]);

        AssertFails(run, 4, $"error: Cannot reach {url}: Connection refused (127.0.0.1:",
            "Is the Functions host running? ./scripts/run-local.sh starts it.");
    }

    [Fact]
    public async Task The_samples_placeholder_token_is_sent_with_a_warning_and_refused_by_the_app()
    {
        await using var app = await AppHarness.StartAsync();
        await using var web = await WebhookHost.StartAsync(app);
        var environment = Environment(app);
        environment["Spp__WebhookTokens__0"] = "FILL-IN: token SPP shows for your webhook (Modules → Webhooks)";

        var run = await RunAsync(environment, app.Names, null, "send", "--url", web.WebhookUrl.ToString(), "--event", "order.created");

        Assert.Equal(1, run.ExitCode);
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith(
            "warning: Spp__WebhookTokens__0 still holds the placeholder of local.settings.sample.json: the app refuses to start on it", lines[0]);
        Assert.Contains("Fill it in (or pass --token).", lines[0]);
        Assert.StartsWith("error: 1 of 1 webhook(s) were not accepted; first error: 401", lines[1]);
        Assert.Empty(await QueuedAsync(app));
    }

    [Fact]
    public async Task Off_a_terminal_a_long_send_prints_plain_progress_lines_and_on_one_a_progress_bar()
    {
        await using var app = await AppHarness.StartAsync();
        await using var web = await WebhookHost.StartAsync(app);
        string[] args = ["send", "--url", web.WebhookUrl.ToString(), "--event", "order.created", "--count", "4", "--concurrency", "1"];

        var plain = await RunAsync(Environment(app), app.Names, null, interactive: false, progressInterval: TimeSpan.Zero,
            CancellationToken.None, args);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        var progress = plain.Out.Split('\n').Where(l => l.StartsWith("Sending: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { "Sending: 1 of 4", "Sending: 2 of 4", "Sending: 3 of 4", "Sending: 4 of 4" }, progress);
        Assert.DoesNotContain("\u001b[", plain.Out);

        var quiet = await RunAsync(app, [.. args, "--json"]);
        Assert.DoesNotContain("Sending", quiet.Out);

        var terminal = await RunAsync(Environment(app), app.Names, null, interactive: true, progressInterval: TimeSpan.Zero,
            CancellationToken.None, args);
        Assert.True(terminal.ExitCode == 0, terminal.ToString());
        Assert.Contains("100%", terminal.Out);
        Assert.DoesNotContain("Sending: 1 of 4", terminal.Out);
        Assert.Contains("Sent 4 webhook(s)", terminal.Out);
    }

    [Fact]
    public async Task The_function_key_in_the_url_is_never_printed()
    {
        await using var app = await AppHarness.StartAsync();
        await using var web = await WebhookHost.StartAsync(app);
        const string key = "fnkey_abcdefghijklmnopqrstuvwxyz012345";

        var run = await RunAsync(app, "send", "--url", web.WebhookUrl + "?code=" + key, "--event", "ticket.created");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("?code=***", run.Out);
        AssertNoSecrets(run, Secrets(app).Append(key));
    }

    [Fact]
    public async Task Without_a_token_setting_send_names_the_setting_and_exits_3()
    {
        await using var app = await AppHarness.StartAsync();
        var environment = Environment(app);
        environment.Remove("Spp__WebhookTokens__0");

        var run = await RunAsync(environment, app.Names, null, "send", "--url", "http://127.0.0.1:1/api/webhooks/spp");

        AssertFails(run, 3, "Spp__WebhookTokens__0 is not set", "pass --token");
    }

    [Theory]
    [InlineData(new[] { "send", "--count", "0" }, "--count must be between 1 and 1000000")]
    [InlineData(new[] { "send", "--rate", "-1" }, "--rate must be between 0")]
    [InlineData(new[] { "send", "--url", "ftp://example.com/x" }, "--url 'ftp://example.com/x' must be an absolute http or https URL")]
    [InlineData(new[] { "send", "--event", "not an event" }, "--event 'not an event' is not an event name")]
    [InlineData(new[] { "send", "--style", "xml" }, "--style 'xml' must be webhook or api")]
    [InlineData(new[] { "send", "--count", "many" }, "many")]
    public async Task Bad_send_arguments_exit_2_with_a_message(string[] args, string message)
    {
        var run = await RunAsync(new Dictionary<string, string>(), null, null, args);
        AssertFails(run, 2, message);
    }

    [Fact]
    public void Every_catalogue_event_has_realistic_sample_data_in_both_styles()
    {
        foreach (var known in EventCatalog.All)
        {
            var old = SampleWebhooks.Data(known.Name);
            var api = SampleWebhooks.Data(known.Name, SampleStyle.Api);
            Assert.True(old.Count >= 4, known.Name);
            Assert.True(api.Count >= 4, known.Name);
            Assert.NotNull(old["id"]);
            Assert.Contains(old, p => p.Key == "date_added");
            Assert.Contains(api, p => p.Key.EndsWith("_at", StringComparison.Ordinal) || p.Key == "current_period_end");
            Assert.False(JsonNode.DeepEquals(old, SampleWebhooks.Data(known.Name, variant: 1)), known.Name);
        }
        var envelope = SampleWebhooks.Envelope("invoice.paid", "tok", 1764403200);
        Assert.Equal(new[] { "event", "created", "token", "data" }, envelope.Select(p => p.Key));
        Assert.Equal("Paid", envelope["data"]!["status"]!.GetValue<string>());
        Assert.Equal("2025-11-29T08:00:00+0000", envelope["data"]!["date_paid"]!.GetValue<string>());
    }
}
