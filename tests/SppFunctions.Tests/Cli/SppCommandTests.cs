using System.Text.Json.Nodes;
using SppFunctions.FakeSpp;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Cli.CliTestKit;

namespace SppFunctions.Tests.Cli;

/// <summary><c>sppfn api</c> and <c>sppfn messages ...</c> against the fake SPP (its request log shows what was sent).</summary>
public class SppCommandTests
{
    [Fact]
    public async Task Api_get_sends_the_query_through_the_guarded_client_and_prints_spps_answer()
    {
        await using var app = await AppHarness.StartAsync();
        var order = app.Spp.Store.AddOrder(status: "Working");

        var run = await RunAsync(app,
            "api", "GET", "orders", "--query", "limit=5", "-q", "filters[status]=Working", "--header", "X-Trace=cli-test", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(200, run.Json["status"]!.GetValue<int>());
        Assert.Equal(order["id"]!.GetValue<long>(), run.Json["body"]!["data"]![0]!["id"]!.GetValue<long>());
        Assert.NotNull(run.Json["headers"]!["X-Api-Identifier"]);
        var request = app.Spp.RequestsTo("GET", "/api/orders").Single();
        Assert.Equal(new[] { "5" }, request.Query("limit"));
        Assert.Equal(new[] { "Working" }, request.Query("filters[status]"));
        Assert.Equal($"Bearer {app.Spp.ApiKey}", request.Headers["Authorization"]);
        Assert.Equal("cli-test", request.Headers["X-Trace"]);
        Assert.Equal("2024-03-05", request.Headers["X-Api-Version"]);
        AssertNoSecrets(run, Secrets(app));
    }

    [Fact]
    public async Task Api_put_with_a_body_from_a_file_changes_the_order_and_a_404_exits_1_with_the_body_printed()
    {
        await using var app = await AppHarness.StartAsync();
        var order = app.Spp.Store.AddOrder();
        var number = order["number"]!.GetValue<string>();
        var dir = Directory.CreateTempSubdirectory("sppfn-api-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "body.json"), """{ "note": "synced from the CLI" }""");
            var put = await RunAsync(Environment(app), app.Names, dir, "api", "put", $"orders/{number}", "--body", "@body.json");
            Assert.True(put.ExitCode == 0, put.ToString());
            Assert.StartsWith("HTTP 200", put.Out);
            Assert.Contains("\"note\": \"synced from the CLI\"", put.Out);
            Assert.Equal("synced from the CLI", app.Spp.Store.GetOrder(number)!["note"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var missing = await RunAsync(app, "api", "GET", "orders/FFFFFFFF");
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("HTTP 404", missing.Out);
        Assert.Contains("No query results for model", missing.Out);
        Assert.Equal("error: SPP answered 404 to GET orders/FFFFFFFF: No query results for model [App\\Models\\Order].", missing.Error.Trim());
    }

    [Theory]
    [InlineData(new[] { "api", "GET", "../admin" }, "is refused: it contains '.' or '..' segments")]
    [InlineData(new[] { "api", "GET", "https://evil.example/api/orders" }, "is refused: it is an absolute URL")]
    [InlineData(new[] { "api", "GET", "orders", "--header", "Authorization=Bearer x" }, "The header 'Authorization' is set by the client")]
    [InlineData(new[] { "api", "GET", "orders", "--header", "X-Customer=x\r\n\r\nDELETE /api/orders/2 HTTP/1.1\r\nHost: a" },
        "The header 'X-Customer' is refused: its value contains a control character")]
    [InlineData(new[] { "api", "GET", "orders", "--header", "X-Customer=a\u0000b" },
        "The header 'X-Customer' is refused: its value contains a control character")]
    [InlineData(new[] { "api", "GET", "orders", "--header", "X Bad:Name=1" }, "The header name 'X Bad:Name' is refused")]
    [InlineData(new[] { "api", "POST", "orders", "--body", "{not json" }, "--body is not valid JSON")]
    [InlineData(new[] { "api", "POST", "orders", "--body", "@nowhere.json" }, "nowhere.json does not exist")]
    [InlineData(new[] { "api", "GET", "orders", "--query", "limit" }, "--query 'limit' must be key=value")]
    [InlineData(new[] { "api", "FETCH", "orders" }, "METHOD 'FETCH' must be one of GET, POST, PUT, PATCH, DELETE")]
    [InlineData(new[] { "api", "GET" }, "PATH")]
    public async Task Api_refuses_bad_arguments_with_exit_2_and_sends_nothing(string[] args, string message)
    {
        await using var app = await AppHarness.StartAsync();
        var run = await RunAsync(app, args);
        AssertFails(run, 2, message);
        Assert.Empty(app.Spp.Requests);
        AssertNoSecrets(run, Secrets(app));
    }

    [Fact]
    public async Task Messages_list_create_delete_round_trip_against_spp()
    {
        await using var app = await AppHarness.StartAsync();
        var order = app.Spp.Store.AddOrder();
        var number = order["number"]!.GetValue<string>();
        for (var i = 1; i <= 12; i++) app.Spp.Store.AddOrderMessage(number, $"<p>Message {i}</p>", createdAt: DateTimeOffset.UtcNow.AddMinutes(i));

        var list = await RunAsync(app, "messages", "list", number, "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(10, list.Json.AsArray().Count); // Make's default limit
        Assert.Equal("<p>Message 12</p>", list.Json[0]!["message"]!.GetValue<string>());
        Assert.Equal(new[] { "10" }, app.Spp.RequestsTo("GET", $"/api/order_messages/{number}")[0].Query("limit"));

        var table = await RunAsync(app, "messages", "list", number, "--limit", "3");
        Assert.Contains("Message 12", table.Out);
        Assert.Contains("Message 10", table.Out);
        Assert.DoesNotContain("Message 9", table.Out);
        Assert.DoesNotContain("<p>", table.Out);
        Assert.Contains($"3 message(s) of order {number}, newest first.", table.Out);

        var create = await RunAsync(app, "messages", "create", number, "<p>Internal note</p>", "--staff-only", "--user-id", "5", "--json");
        Assert.True(create.ExitCode == 0, create.ToString());
        var createdId = create.Json["id"]!.GetValue<long>();
        var posted = app.Spp.RequestsTo("POST", $"/api/order_messages/{number}").Single();
        var body = JsonNode.Parse(posted.Body)!;
        Assert.Equal("<p>Internal note</p>", body["message"]!.GetValue<string>());
        Assert.True(body["staff_only"]!.GetValue<bool>());
        Assert.Equal(5, body["user_id"]!.GetValue<long>());
        Assert.Contains(app.Spp.Store.GetOrderMessages(number), m => m["id"]!.GetValue<long>() == createdId && m["staff_only"]!.GetValue<bool>());

        var human = await RunAsync(app, "messages", "create", number, "Hi there");
        Assert.Matches($@"^Created message \d+ on order {number}\.", human.Out.Trim());

        var delete = await RunAsync(app, "messages", "delete", createdId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Equal($"Deleted message {createdId}.", delete.Out.Trim());
        Assert.DoesNotContain(app.Spp.Store.GetOrderMessages(number), m => m["id"]!.GetValue<long>() == createdId);

        var again = await RunAsync(app, "messages", "delete", createdId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AssertFails(again, 1, "404");
        AssertNoSecrets(list, Secrets(app));
        AssertNoSecrets(create, Secrets(app));
    }

    [Fact]
    public async Task Messages_of_an_unknown_order_fail_with_spps_message()
    {
        await using var app = await AppHarness.StartAsync();
        var run = await RunAsync(app, "messages", "list", "FFFFFFFF");
        AssertFails(run, 1, "SPP GET /api/order_messages/FFFFFFFF failed with 404", "No query results for model");
    }

    [Theory]
    [InlineData(new[] { "messages", "delete", "abc" }, "MESSAGE_ID 'abc' must be a positive number")]
    [InlineData(new[] { "messages", "list", "X", "--limit", "0" }, "--limit must be between 1 and 10000")]
    [InlineData(new[] { "messages", "create", "X" }, "TEXT")]
    [InlineData(new[] { "messages", "create", "X", "hi", "--user-id", "-3" }, "--user-id must be a positive number")]
    public async Task Bad_messages_arguments_exit_2(string[] args, string message)
    {
        var run = await RunAsync(new Dictionary<string, string>(), null, null, args);
        AssertFails(run, 2, message);
    }

    [Fact]
    public async Task An_unreachable_spp_exits_4_and_missing_or_placeholder_settings_exit_3_naming_the_setting()
    {
        await using var app = await AppHarness.StartAsync();
        var environment = Environment(app);
        environment["Spp__BaseUrl"] = $"http://127.0.0.1:{TestStorage.FreePort()}/api/";
        environment["Spp__Retry__MaxRetries"] = "0";
        var unreachable = await RunAsync(environment, app.Names, null, "messages", "list", "666AF315");
        AssertFails(unreachable, 4, "Cannot reach SPP", "no connection could be made");

        environment = Environment(app);
        environment.Remove("Spp__ApiKey");
        AssertFails(await RunAsync(environment, app.Names, null, "api", "GET", "orders"), 3,
            "Spp__ApiKey is not set", "Modules → API → Settings");

        environment = Environment(app);
        environment["Spp__ApiKey"] = "FILL-IN: SPP admin → Modules → API → Settings";
        AssertFails(await RunAsync(environment, app.Names, null, "messages", "create", "1", "hi"), 3,
            "Spp__ApiKey still holds the placeholder of local.settings.sample.json");

        environment = Environment(app);
        environment["Spp__BaseUrl"] = "http://spp.example.com/api/";
        AssertFails(await RunAsync(environment, app.Names, null, "messages", "delete", "1"), 3, "Spp__BaseUrl must use https");
        Assert.Empty(app.Spp.Requests);
    }
}
