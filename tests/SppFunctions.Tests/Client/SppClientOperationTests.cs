using System.Text.Json.Nodes;
using Spp.Client;
using Spp.Client.Models;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Client;

/// <summary>Every client operation against the fake SPP server.</summary>
public class SppClientOperationTests : IAsyncLifetime
{
    private SppClientHarness _h = null!;

    public async Task InitializeAsync() => _h = await SppClientHarness.StartAsync();
    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Creates_an_order_message_by_order_number_with_author_and_staff_flag()
    {
        var order = _h.Server.Store.AddOrder();
        var number = order["number"]!.GetValue<string>();

        var created = await _h.Client.CreateOrderMessageAsync(number,
            new SppNewMessage { Message = "<p>Proof attached</p>", UserId = 99, StaffOnly = true });

        Assert.Equal("<p>Proof attached</p>", created.Message);
        Assert.Equal(99, created.UserId);
        Assert.True(created.StaffOnly);
        var stored = Assert.Single(_h.Server.Store.GetOrderMessages(number));
        Assert.Equal(created.Id, stored["id"]!.GetValue<long>());
        var request = Assert.Single(_h.Server.RequestsTo("POST", "/api/order_messages/"));
        Assert.Equal($"/api/order_messages/{number}", request.Path);
        Assert.Equal("application/json; charset=utf-8", request.Headers["Content-Type"]);
        Assert.Equal("2024-03-05", request.Headers["X-Api-Version"]);
        Assert.Equal("application/json", request.Headers["Accept"]);
    }

    [Fact]
    public async Task Creates_an_order_message_by_integer_id()
    {
        var order = _h.Server.Store.AddOrder();
        await _h.Client.CreateOrderMessageAsync(order["id"]!.ToString(), new SppNewMessage { Message = "Hi" });
        var stored = Assert.Single(_h.Server.Store.GetOrderMessages(order["id"]!.ToString()));
        Assert.Equal(order["user_id"]!.GetValue<long>(), stored["user_id"]!.GetValue<long>());
        Assert.False(stored["staff_only"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Lists_order_messages_newest_first_with_Makes_limit()
    {
        var order = _h.Server.Store.AddOrder();
        var key = order["id"]!.ToString();
        for (var i = 1; i <= 15; i++) _h.Server.Store.AddOrderMessage(key, $"m{i}", createdAt: DateTimeOffset.UtcNow.AddMinutes(i));

        var ten = await _h.Client.GetOrderMessagesAsync(key, limit: 10).ToListAsync();

        Assert.Equal(Enumerable.Range(6, 10).Reverse().Select(i => $"m{i}"), ten.Select(m => m.Message));
        var request = Assert.Single(_h.Server.RequestsTo("GET", "/api/order_messages/"));
        Assert.Equal("10", Assert.Single(request.Query("limit")));
    }

    [Fact]
    public async Task Lists_every_page_until_the_last()
    {
        var order = _h.Server.Store.AddOrder();
        var key = order["id"]!.ToString();
        for (var i = 1; i <= 45; i++) _h.Server.Store.AddOrderMessage(key, $"m{i}", createdAt: DateTimeOffset.UtcNow.AddSeconds(i));

        var all = await _h.Client.GetOrderMessagesAsync(key).ToListAsync();

        Assert.Equal(45, all.Count);
        Assert.Equal(45, all.Select(m => m.Id).Distinct().Count());
        Assert.Equal("m45", all[0].Message);
        Assert.Equal("m1", all[^1].Message);
        Assert.Equal(new[] { "1", "2", "3" }, _h.Server.RequestsTo("GET", "/api/order_messages/").Select(r => r.Query("page").Single()));
    }

    [Fact]
    public async Task Stops_requesting_pages_when_enumeration_stops()
    {
        var order = _h.Server.Store.AddOrder();
        var key = order["id"]!.ToString();
        for (var i = 1; i <= 60; i++) _h.Server.Store.AddOrderMessage(key, $"m{i}");

        await foreach (var _ in _h.Client.GetOrderMessagesAsync(key, pageSize: 20)) break;

        Assert.Single(_h.Server.RequestsTo("GET", "/api/order_messages/"));
    }

    [Fact]
    public async Task Pages_are_exposed_with_their_metadata()
    {
        for (var i = 0; i < 5; i++) _h.Server.Store.AddOrder();
        var pages = await _h.Client.GetOrdersAsync(new SppListQuery { PageSize = 2 }).AsPages().ToListAsync();
        Assert.Equal(new[] { 2, 2, 1 }, pages.Select(p => p.Items.Count));
        Assert.All(pages, p => Assert.Equal(3, p.LastPage));
        Assert.Equal(5, pages[0].Total);
        Assert.False(pages[^1].HasNext);
    }

    [Fact]
    public async Task Deletes_an_order_message()
    {
        var order = _h.Server.Store.AddOrder();
        var message = _h.Server.Store.AddOrderMessage(order["id"]!.ToString(), "oops");

        await _h.Client.DeleteOrderMessageAsync(message["id"]!.GetValue<long>());

        Assert.Empty(_h.Server.Store.GetOrderMessages(order["id"]!.ToString()));
        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() => _h.Client.DeleteOrderMessageAsync(message["id"]!.GetValue<long>()));
        Assert.Equal(404, ex.Status);
    }

    [Fact]
    public async Task Lists_orders_with_filters_and_sort()
    {
        var s = _h.Server.Store;
        var a = s.AddOrder(status: "Working");
        s.AddOrder(status: "Complete");
        var c = s.AddOrder(status: "Working");
        s.AddOrderMessage(a["id"]!.ToString(), "old", createdAt: DateTimeOffset.UtcNow.AddHours(-2));
        s.AddOrderMessage(c["id"]!.ToString(), "new", createdAt: DateTimeOffset.UtcNow.AddHours(-1));

        var working = await _h.Client.GetOrdersAsync(
            new SppListQuery().Where("status", SppFilterOperator.Equal, "Working").OrderBy("last_message_at", descending: true)).ToListAsync();
        var byIds = await _h.Client.GetOrdersAsync(
            new SppListQuery().WhereIn("id", new[] { a["id"]!.ToString(), c["id"]!.ToString() })).ToListAsync();
        var recent = await _h.Client.GetOrdersAsync(
            new SppListQuery().WhereAfter("last_message_at", DateTimeOffset.UtcNow.AddMinutes(-90))).ToListAsync();

        Assert.Equal(new[] { c["id"]!.ToString(), a["id"]!.ToString() }, working.Select(o => o.Id));
        Assert.Equal(2, byIds.Count);
        Assert.Equal(c["id"]!.ToString(), Assert.Single(recent).Id);
        var request = _h.Server.RequestsTo("GET", "/api/orders")[0];
        Assert.Equal("Working", request.Query("filters[status][$eq]").Single());
        Assert.Equal("last_message_at:desc", request.Query("sort").Single());
    }

    [Fact]
    public async Task Gets_and_updates_an_order()
    {
        var order = _h.Server.Store.AddOrder(status: "Working");
        var number = order["number"]!.GetValue<string>();

        var fetched = await _h.Client.GetOrderAsync(number);
        var updated = await _h.Client.UpdateOrderAsync(number, new SppOrderUpdate { Status = 4, Tags = new() { "vip", "rush" }, Note = "Done" });

        Assert.Equal(order["id"]!.ToString(), fetched.Id);
        Assert.Equal("Working", fetched.Status);
        Assert.NotNull(fetched.Client?.Email);
        Assert.Equal("Complete", updated.Status);
        Assert.Equal(new[] { "vip", "rush" }, updated.Tags);
        Assert.Equal("Done", _h.Server.Store.GetOrder(number)!["note"]!.GetValue<string>());
        var put = Assert.Single(_h.Server.RequestsTo("PUT", "/api/orders/"));
        Assert.False(JsonNode.Parse(put.Body)!.AsObject().ContainsKey("employees"));
    }

    [Fact]
    public async Task Gets_invoice_subscription_ticket_client_and_ticket_messages()
    {
        var s = _h.Server.Store;
        var invoice = s.AddInvoice(total: 250m);
        var subscription = s.AddSubscription();
        var ticket = s.AddTicket("Broken link");
        s.AddTicketMessage(ticket["number"]!.GetValue<string>(), "first");
        s.AddTicketMessage(ticket["number"]!.GetValue<string>(), "second");

        var gotInvoice = await _h.Client.GetInvoiceAsync(invoice["number"]!.GetValue<string>());
        var gotSubscription = await _h.Client.GetSubscriptionAsync(subscription["id"]!.GetValue<long>());
        var gotTicket = await _h.Client.GetTicketAsync(ticket["id"]!.ToString());
        var gotClient = await _h.Client.GetClientAsync(ticket["user_id"]!.GetValue<long>());
        var ticketMessages = await _h.Client.GetTicketMessagesAsync(ticket["number"]!.GetValue<string>()).ToListAsync();

        Assert.Equal(250m, gotInvoice.Total);
        Assert.Equal(250m, gotInvoice.Items![0].Amount);
        Assert.Equal("Active", gotSubscription.Status);
        Assert.Equal("Broken link", gotTicket.Subject);
        Assert.Equal(2, gotTicket.Messages!.Count);
        Assert.Equal(ticket["user_id"]!.GetValue<long>(), gotClient.Id);
        Assert.Equal(new[] { "second", "first" }, ticketMessages.Select(m => m.Message));
    }

    [Fact]
    public async Task Raw_call_returns_status_headers_and_body_for_any_status()
    {
        var order = _h.Server.Store.AddOrder();
        var ok = await _h.Client.SendAsync(new SppApiRequest(HttpMethod.Get, "/orders")
        {
            Query = { new("filters[id][$in][]", order["id"]!.ToString()), new("limit", "5") },
            Headers = { ["X-Trace"] = "abc" },
        });
        var missing = await _h.Client.SendAsync(new SppApiRequest(HttpMethod.Get, "orders/NOPE"));
        var created = await _h.Client.SendAsync(
            new SppApiRequest(HttpMethod.Post, $"order_messages/{order["id"]}") { Body = new JsonObject { ["message"] = "raw" } });

        Assert.Equal(200, ok.Status);
        Assert.Single(ok.Json!["data"]!.AsArray());
        Assert.NotNull(ok.ApiIdentifier);
        Assert.Equal("application/json", ok.Headers["Content-Type"].Single());
        Assert.Equal("abc", _h.Server.RequestsTo("GET", "/api/orders")[0].Headers["X-Trace"]);
        Assert.Equal(404, missing.Status);
        Assert.Contains("No query results", missing.Body);
        Assert.Equal(201, created.Status);
        Assert.Equal("raw", Assert.Single(_h.Server.Store.GetOrderMessages(order["id"]!.ToString()))["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Raw_call_refuses_to_override_authorization()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            _h.Client.SendAsync(new SppApiRequest(HttpMethod.Get, "orders") { Headers = { ["Authorization"] = "Bearer other" } }));
        Assert.Empty(_h.Server.Requests);
    }
}
