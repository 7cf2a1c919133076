using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using SppFunctions.FakeSpp;
using SppFunctions.Polling;
using SppFunctions.Sandbox;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Cli.CliTestKit;

namespace SppFunctions.Tests.Sandbox;

/// <summary>The SPP sandbox: <c>sppfn sandbox</c>, its seed, how <c>sppfn</c> finds it, and README's walk-through.</summary>
public class SandboxTests
{
    private static async Task<HttpStatusCode> GetAsync(Uri url, string key, string path, Action<string>? body = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var answer = await http.SendAsync(request);
        body?.Invoke(await answer.Content.ReadAsStringAsync());
        return answer.StatusCode;
    }

    private static string FreshCheckout()
    {
        var dir = Directory.CreateTempSubdirectory("sppfn-checkout-").FullName;
        // A fresh clone's settings: the sample, placeholders and all.
        File.Copy(Path.Combine(TestPaths.RepositoryRoot, "local.settings.sample.json"), Path.Combine(dir, "local.settings.json"));
        return dir;
    }

    [Fact]
    public async Task Sppfn_sandbox_serves_the_seeded_workspace_on_loopback_with_its_own_key_and_stops_on_ctrl_c()
    {
        var dir = FreshCheckout();
        try
        {
            using var ctrlC = new CancellationTokenSource();
            var running = RunAsync(new Dictionary<string, string>(), null, dir, ctrlC.Token, "sandbox", "--port", "0");
            var statePath = SandboxState.PathUnder(dir);
            Assert.True(await ScriptsWait.EventuallyAsync(() => File.Exists(statePath) || running.IsCompleted, TimeSpan.FromSeconds(60)),
                "no state file");
            if (running.IsCompleted) Assert.Fail($"sppfn sandbox ended early:\n{await running}");
            var state = SandboxState.Read(statePath)!;

            Assert.Equal("127.0.0.1", state.BaseUrl.Host);
            Assert.StartsWith(SppSandbox.KeyPrefix, state.ApiKey);
            Assert.True(state.IsRunning);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(statePath));
            }
            string? orders = null;
            Assert.Equal(HttpStatusCode.OK, await GetAsync(state.BaseUrl, state.ApiKey, "orders", b => orders = b));
            var numbers = JsonNode.Parse(orders!)!["data"]!.AsArray().Select(o => o!["number"]!.GetValue<string>()).Order();
            Assert.Equal(new[] { "666AF315", "666AF316", "666AF317" }, numbers);
            string? messages = null;
            Assert.Equal(HttpStatusCode.OK, await GetAsync(state.BaseUrl, state.ApiKey, "order_messages/666AF315", b => messages = b));
            Assert.Equal(3, JsonNode.Parse(messages!)!["data"]!.AsArray().Count);
            Assert.Equal(HttpStatusCode.OK, await GetAsync(state.BaseUrl, state.ApiKey, "tickets/A1B2C300"));
            Assert.Equal(HttpStatusCode.OK, await GetAsync(state.BaseUrl, state.ApiKey, "invoices/E4A269FC"));
            // Any other key, a workspace's included, is refused.
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(state.BaseUrl, "spp_live_0123456789abcdef0123456789abcdef", "orders"));

            ctrlC.Cancel();
            var run = await running;
            Assert.True(run.ExitCode is 0 or 130, run.ToString());
            Assert.Contains($"SPP sandbox on {state.BaseUrl}", run.Out);
            Assert.Contains("Seeded with 3 clients, 3 orders (666AF315, 666AF316, 666AF317)", run.Out);
            Assert.Contains("sandbox: GET /api/orders -> 200", run.Out);
            Assert.Contains("sandbox: GET /api/orders -> 401", run.Out);
            Assert.Contains("SPP sandbox stopped.", run.Out);
            Assert.DoesNotContain(state.ApiKey, run.All);
            Assert.DoesNotContain(state.WebhookToken, run.All);
            Assert.False(File.Exists(statePath), "the state file is left behind");
            Assert.Equal(0, await Task.Run(() =>
            {
                try
                {
                    using var c = new System.Net.Sockets.TcpClient();
                    c.Connect(IPAddress.Loopback, state.BaseUrl.Port);
                    return 1;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    return 0;
                }
            }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_second_sandbox_on_a_taken_port_exits_4_naming_the_port()
    {
        await using var first = await SppSandbox.StartAsync(port: 0);
        var run = await RunAsync(new Dictionary<string, string>(), null, null,
            "sandbox", "--port", first.BaseUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AssertFails(run, 4, $"cannot listen on 127.0.0.1:{first.BaseUrl.Port}", "--port");
    }

    [Fact]
    public async Task Sandbox_message_without_a_running_sandbox_exits_4_and_says_how_to_start_one()
    {
        var run = await RunAsync(new Dictionary<string, string>(), null, null, "sandbox", "message", "666AF315", "hello");
        AssertFails(run, 4, "No SPP sandbox is running", "./scripts/run-local.sh", "sppfn sandbox");
    }

    [Fact]
    public async Task A_stale_state_file_of_a_stopped_sandbox_is_ignored()
    {
        var dir = FreshCheckout();
        try
        {
            // A process id that cannot be running.
            new SandboxState(new Uri("http://127.0.0.1:1/api/"), "spp_sandbox_x", "sandbox_webhook_x", int.MaxValue, DateTimeOffset.UtcNow)
                .Write(SandboxState.PathUnder(dir));
            var run = await RunAsync(new Dictionary<string, string>(), null, dir, "messages", "list", "666AF315");
            AssertFails(run, 3, "Spp__BaseUrl still holds the placeholder");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Filled_in_spp_settings_win_over_a_running_sandbox()
    {
        await using var sandbox = await SppSandbox.StartAsync(port: 0);
        await using var workspace = await FakeSppServer.StartAsync();
        var order = workspace.Store.AddOrder();
        workspace.Store.AddOrderMessage(order["number"]!.GetValue<string>(), "<p>From the workspace</p>");
        var dir = FreshCheckout();
        try
        {
            new SandboxState(sandbox.BaseUrl, sandbox.ApiKey, sandbox.WebhookToken, System.Environment.ProcessId, DateTimeOffset.UtcNow)
                .Write(SandboxState.PathUnder(dir));
            var environment = new Dictionary<string, string> { ["Spp__BaseUrl"] = workspace.BaseUrl.ToString(), ["Spp__ApiKey"] = workspace.ApiKey };

            var run = await RunAsync(environment, null, dir, "messages", "list", order["number"]!.GetValue<string>());

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("From the workspace", run.Out);
            Assert.Equal("", run.Error);
            Assert.Single(workspace.RequestsTo("GET", "/api/order_messages/"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// README's "Try it in five minutes" with the app's services standing in for the Functions host (webhook intake over
    /// HTTP, the queue trigger, the poller's timer): a fresh checkout's settings, the sandbox's state file, the sandbox
    /// rules; then exactly the walk-through's commands.
    /// </summary>
    [Fact]
    public async Task The_walk_through_a_rule_posts_in_the_sandbox_and_a_client_message_is_answered_via_the_poller()
    {
        var time = AppHarness.NewFakeTime();
        await using var sandbox = await SppSandbox.StartAsync(port: 0, time: time);
        var rules = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, "src", "SppFunctions", "rules.sandbox.json"));
        await using var app = await AppHarness.StartAsync(spp: sandbox.Server, ownsSpp: false, rules: rules, time: time,
            settings: new() { ["Spp:WebhookTokens:0"] = sandbox.WebhookToken });
        await using var web = await WebhookHost.StartAsync(app);
        var dir = FreshCheckout();
        try
        {
            new SandboxState(sandbox.BaseUrl, sandbox.ApiKey, sandbox.WebhookToken, System.Environment.ProcessId, DateTimeOffset.UtcNow)
                .Write(SandboxState.PathUnder(dir));
            var environment = new Dictionary<string, string> { ["AzureWebJobsStorage"] = TestStorage.ConnectionString };
            Task<Cli.CliRun> Sppfn(params string[] args) => RunAsync(environment, app.Names, dir, args);

            var send = await Sppfn("send", "--url", web.WebhookUrl.ToString(), "--event", "order.created");
            Assert.True(send.ExitCode == 0, send.ToString());
            Assert.Contains("1 accepted", send.Out);
            await app.Driver().DrainAsync();

            var list = await Sppfn("messages", "list", "666AF315");
            Assert.True(list.ExitCode == 0, list.ToString());
            Assert.Contains("Thanks Jane Doe! We received order 666AF315 and will start shortly.", list.Out);
            Assert.Contains($"note: SPP is the local sandbox at {sandbox.BaseUrl}", list.Error);
            Assert.Contains("4 message(s) of order 666AF315, newest first.", list.Out);

            time.Advance(TimeSpan.FromMinutes(1));
            var message = await Sppfn("sandbox", "message", "666AF315", "Any news on my logo?");
            Assert.True(message.ExitCode == 0, message.ToString());
            Assert.Matches(@"^Posted message \d+ on order 666AF315 as its client Jane Doe \(user 12\)\.", message.Out);

            time.Advance(TimeSpan.FromMinutes(1));
            var poll = await app.Get<OrderMessagePoller>().RunAsync(CancellationToken.None);
            Assert.Equal(1, poll.EventsEmitted);
            await app.Driver().DrainAsync();

            var after = await Sppfn("messages", "list", "666AF315", "--limit", "3", "--json");
            var texts = after.Json.AsArray().Select(m => m!["message"]!.GetValue<string>()).ToList();
            Assert.StartsWith("<p>Thanks for your message on order 666AF315! We will answer within one working day.</p>", texts[0]);
            Assert.Equal("Any news on my logo?", texts[1]);
            Assert.StartsWith("<p>Thanks Jane Doe!", texts[2]);
            // The app posts as the API key's user, a staff member; the client wrote the middle one.
            Assert.Equal(new long[] { SandboxSeed.StaffUserId, 12, SandboxSeed.StaffUserId },
                after.Json.AsArray().Select(m => m!["user_id"]!.GetValue<long>()));
            var events = await Sppfn("events", "list", "--json");
            // The poller's event is dated by the message (the sandbox's clock here), the webhook's by sppfn send.
            Assert.Equal(new[] { "order.created", "order_message.created" },
                events.Json.AsArray().Select(e => e!["event"]!.GetValue<string>()).Order());
            Assert.All(events.Json.AsArray(), e => Assert.Equal("succeeded", e!["status"]!.GetValue<string>()));
            foreach (var run in new[] { send, list, message, after, events }) AssertNoSecrets(run, [sandbox.ApiKey, sandbox.WebhookToken]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

internal static class ScriptsWait
{
    public static Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout) => Scripts.ScriptSandbox.EventuallyAsync(condition, timeout);
}
