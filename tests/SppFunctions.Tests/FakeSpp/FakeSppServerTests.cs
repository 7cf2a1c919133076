using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SppFunctions.FakeSpp;

namespace SppFunctions.Tests.FakeSpp;

/// <summary>The fake server's own behaviour, checked with a plain HttpClient against the reference's checklist (§9).</summary>
[SuppressMessage("Reliability", "CA1001", Justification = "xUnit disposes the client in DisposeAsync (IAsyncLifetime).")]
public class FakeSppServerTests : IAsyncLifetime
{
    private FakeSppServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeSppServer.StartAsync();
        _http = new HttpClient { BaseAddress = _server.BaseUrl };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _server.ApiKey);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> Get(string path)
    {
        var response = await _http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    [Fact]
    public void Listens_on_loopback_under_api()
    {
        Assert.Equal("127.0.0.1", _server.BaseUrl.Host);
        Assert.Equal("/api/", _server.BaseUrl.AbsolutePath);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong")]
    [InlineData("Basic c3BwOg==")]
    public async Task Answers_401_without_the_right_bearer_key(string? authorization)
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "orders");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Unauthenticated.", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]!.GetValue<string>());
        Assert.True(Guid.TryParse(response.Headers.GetValues("X-Api-Identifier").Single(), out _));
    }

    [Fact]
    public async Task Every_answer_carries_a_fresh_api_identifier_and_version()
    {
        var a = await Get("orders");
        var b = await Get("orders/404404");
        var idA = a.Response.Headers.GetValues("X-Api-Identifier").Single();
        var idB = b.Response.Headers.GetValues("X-Api-Identifier").Single();
        Assert.NotEqual(idA, idB);
        Assert.Equal("20231214", a.Response.Headers.GetValues("X-Api-Version").Single());
    }

    [Fact]
    public async Task Unknown_resources_and_routes_are_404_with_a_message()
    {
        var order = await Get("orders/999999");
        var route = await Get("no_such_thing");
        Assert.Equal(HttpStatusCode.NotFound, order.Status);
        Assert.Contains("No query results", order.Body!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, route.Status);
        Assert.NotNull(route.Body!["message"]);
    }

    [Fact]
    public async Task Resolves_orders_by_id_or_number()
    {
        var order = _server.Store.AddOrder();
        var byId = await Get($"orders/{order["id"]}");
        var byNumber = await Get($"orders/{order["number"]!.GetValue<string>().ToLowerInvariant()}");
        Assert.Equal(order["id"]!.GetValue<long>(), byId.Body!["id"]!.GetValue<long>());
        Assert.Equal(order["id"]!.GetValue<long>(), byNumber.Body!["id"]!.GetValue<long>());
    }

    [Fact]
    public async Task Lists_use_the_laravel_envelope_newest_first()
    {
        for (var i = 0; i < 25; i++) _server.Store.AddOrder();

        var first = await Get("orders");
        var last = await Get("orders?page=2");
        var past = await Get("orders?page=9");

        var meta = first.Body!["meta"]!;
        Assert.Equal(20, first.Body["data"]!.AsArray().Count);
        Assert.Equal(1, meta["current_page"]!.GetValue<int>());
        Assert.Equal(2, meta["last_page"]!.GetValue<int>());
        Assert.Equal(20, meta["per_page"]!.GetValue<int>());
        Assert.Equal(25, meta["total"]!.GetValue<int>());
        Assert.Equal(1, meta["from"]!.GetValue<int>());
        Assert.Equal(20, meta["to"]!.GetValue<int>());
        Assert.Equal(new[] { "&laquo; Previous", "1", "2", "Next &raquo;" }, meta["links"]!.AsArray().Select(l => l!["label"]!.GetValue<string>()));
        Assert.EndsWith("/api/orders?page=2", first.Body["links"]!["next"]!.GetValue<string>());
        Assert.StartsWith("http://127.0.0.1:", first.Body["links"]!["first"]!.GetValue<string>());
        Assert.Null(first.Body["links"]!["prev"]);
        Assert.Null(last.Body!["links"]!["next"]);
        Assert.Equal(5, last.Body["data"]!.AsArray().Count);
        Assert.Empty(past.Body!["data"]!.AsArray());
        Assert.Null(past.Body["meta"]!["from"]);
        var ids = first.Body["data"]!.AsArray().Select(o => o!["id"]!.GetValue<long>()).ToList();
        Assert.Equal(ids.OrderDescending(), ids);
    }

    [Fact]
    public async Task Lists_honour_limit_sort_and_every_filter_operator()
    {
        var s = _server.Store;
        var orders = Enumerable.Range(0, 6).Select(i => s.AddOrder(status: i % 2 == 0 ? "Working" : "Complete")).ToList();
        var ids = orders.Select(o => o["id"]!.GetValue<long>()).ToList();

        var limited = await Get("orders?limit=4&sort=id:asc");
        var eq = await Get("orders?filters[status][$eq]=Complete");
        var lt = await Get($"orders?filters[id][$lt]={ids[2]}");
        var gt = await Get($"orders?filters[id][$gt]={ids[3]}");
        var @in = await Get($"orders?filters[id][$in][]={ids[0]}&filters[id][$in][]={ids[5]}");
        var combined = await Get($"orders?filters[status][$eq]=Working&filters[id][$gt]={ids[0]}");

        static long[] Ids((HttpStatusCode, JsonNode? Body, HttpResponseMessage) r) =>
            r.Body!["data"]!.AsArray().Select(o => o!["id"]!.GetValue<long>()).ToArray();
        Assert.Equal(ids.Take(4), Ids(limited));
        Assert.Equal(new[] { ids[5], ids[3], ids[1] }, Ids(eq));
        Assert.Equal(new[] { ids[1], ids[0] }, Ids(lt));
        Assert.Equal(new[] { ids[5], ids[4] }, Ids(gt));
        Assert.Equal(new[] { ids[5], ids[0] }, Ids(@in));
        Assert.Equal(new[] { ids[4], ids[2] }, Ids(combined));
    }

    [Fact]
    public async Task Bad_list_parameters_are_400()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await Get("orders?limit=abc")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Get("orders?page=0")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Get("orders?filters[id][$like]=1")).Status);
    }

    [Fact]
    public async Task Creating_a_message_validates_and_accepts_json_and_forms()
    {
        var order = _server.Store.AddOrder();
        var path = $"order_messages/{order["number"]}";

        var missing = await _http.PostAsync(path, new StringContent("{}", Encoding.UTF8, "application/json"));
        var json = await _http.PostAsync(path,
            new StringContent("{\"message\":\"<p>hi</p>\",\"staff_only\":true,\"user_id\":5}", Encoding.UTF8, "application/json"));
        var form = await _http.PostAsync(path,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["message"] = "form", ["staff_only"] = "0" }));
        var multipart = await _http.PostAsync(path, new MultipartFormDataContent { { new StringContent("multi"), "message" } });

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var error = JsonNode.Parse(await missing.Content.ReadAsStringAsync())!;
        Assert.Equal("The message field is required.", error["errors"]!["message"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, json.StatusCode);
        Assert.Equal(HttpStatusCode.Created, form.StatusCode);
        Assert.Equal(HttpStatusCode.Created, multipart.StatusCode);
        var stored = _server.Store.GetOrderMessages(order["id"]!.ToString());
        Assert.Equal(new[] { "multi", "form", "<p>hi</p>" }, stored.Select(m => m["message"]!.GetValue<string>()));
        Assert.True(stored[2]["staff_only"]!.GetValue<bool>());
        Assert.Equal(5, stored[2]["user_id"]!.GetValue<long>());
        Assert.NotNull(_server.Store.GetOrder(order["id"]!.ToString())!["last_message_at"]);
    }

    [Fact]
    public async Task Delete_is_204_with_no_body_then_404()
    {
        var order = _server.Store.AddOrder();
        var message = _server.Store.AddOrderMessage(order["id"]!.ToString(), "x");
        var first = await _http.DeleteAsync($"order_messages/{message["id"]}");
        var second = await _http.DeleteAsync($"order_messages/{message["id"]}");
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal("", await first.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
    }

    [Fact]
    public async Task Put_is_a_partial_update_and_validates_status()
    {
        var order = _server.Store.AddOrder(status: "Working");
        order = _server.Store.GetOrder(order["id"]!.ToString())!;
        var bad = await _http.PutAsync($"orders/{order["id"]}", new StringContent("{\"status\":77}", Encoding.UTF8, "application/json"));
        var good = await _http.PutAsync($"orders/{order["id"]}", new StringContent("{\"tags\":[\"a\"]}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var after = _server.Store.GetOrder(order["id"]!.ToString())!;
        Assert.Equal("Working", after["status"]!.GetValue<string>());
        Assert.Equal("a", after["tags"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Deleted_orders_are_gone()
    {
        var order = _server.Store.AddOrder();
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"orders/{order["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Get($"orders/{order["id"]}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Get($"order_messages/{order["id"]}")).Status);
    }

    [Fact]
    public async Task Tags_are_a_bare_array()
    {
        _server.Store.AddTag("vip");
        _server.Store.AddTag("rush");
        var tags = await Get("tags");
        Assert.Equal(new[] { "rush", "vip" }, tags.Body!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Records_every_request()
    {
        await _http.PostAsync("order_messages/1", new StringContent("{\"message\":\"x\"}", Encoding.UTF8, "application/json"));
        var recorded = Assert.Single(_server.Requests);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("/api/order_messages/1", recorded.Path);
        Assert.Equal("{\"message\":\"x\"}", recorded.Body);
        Assert.Equal(404, recorded.Status);
    }

    [Fact]
    public async Task Throttle_fault_answers_429_with_retry_after_then_stops()
    {
        _server.InjectFault(FaultRule.Throttle("7", times: 1, skipFirst: 1));
        var first = await Get("orders");
        var throttled = await Get("orders");
        var after = await Get("orders");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal((HttpStatusCode)429, throttled.Status);
        Assert.Equal(TimeSpan.FromSeconds(7), throttled.Response.Headers.RetryAfter!.Delta);
        Assert.Equal(HttpStatusCode.OK, after.Status);
    }

    [Fact]
    public async Task Drop_fault_closes_the_connection_without_an_answer()
    {
        _server.InjectFault(new FaultRule(FaultKind.Drop) { Times = 1 });
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => _http.GetAsync("orders"));
        Assert.Equal(FaultKind.Drop, Assert.Single(_server.Requests).Fault);
    }

    [Fact]
    public async Task After_handling_faults_keep_the_side_effect_but_lose_the_answer()
    {
        var order = _server.Store.AddOrder();
        _server.InjectFault(new FaultRule(FaultKind.StatusAfterHandling) { Status = 500, Times = 1 });
        var response = await _http.PostAsync($"order_messages/{order["id"]}",
            new StringContent("{\"message\":\"x\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Single(_server.Store.GetOrderMessages(order["id"]!.ToString()));
    }

    [Fact]
    public async Task Delay_fault_slows_the_answer()
    {
        _server.InjectFault(new FaultRule(FaultKind.Delay) { Delay = TimeSpan.FromMilliseconds(400), Times = 1 });
        var started = DateTimeOffset.UtcNow;
        var response = await Get("orders");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromMilliseconds(380));
    }

    [Fact]
    public async Task Webhook_emitter_posts_the_envelope_with_an_old_style_order()
    {
        var order = _server.Store.AddOrder(status: "Pending");
        await using var receiver = await FakeSppServer.StartAsync();
        var data = FakeSppWebhooks.OldStyleOrder(order);

        await FakeSppWebhooks.SendAsync(new HttpClient(), new Uri(receiver.BaseUrl, "hook"), "order.created", data, "tok123",
            DateTimeOffset.FromUnixTimeSeconds(1558608668));

        var posted = JsonNode.Parse(Assert.Single(receiver.Requests).Body)!;
        Assert.Equal("order.created", posted["event"]!.GetValue<string>());
        Assert.Equal(1558608668, posted["created"]!.GetValue<long>());
        Assert.Equal("tok123", posted["token"]!.GetValue<string>());
        Assert.Equal(order["number"]!.GetValue<string>(), posted["data"]!["id"]!.GetValue<string>());
        Assert.Equal("Pending", posted["data"]!["status"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$", posted["data"]!["date_added"]!.GetValue<string>());
        Assert.NotNull(posted["data"]!["client"]!["id"]);
    }
}
