using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Spp.Client;
using Spp.Client.Models;
using SppFunctions.FakeSpp;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Client;

/// <summary>Retries, Retry-After, the per-attempt timeout, the circuit breaker and the no-duplicate policy for POST.</summary>
public class SppClientResilienceTests
{
    [Fact]
    public async Task Get_is_retried_after_500s_and_succeeds()
    {
        await using var h = await SppClientHarness.StartAsync();
        var order = h.Server.Store.AddOrder();
        h.Server.InjectFault(FaultRule.Fail(500, times: 2, method: "GET"));

        var got = await h.Client.GetOrderAsync(order["id"]!.ToString());

        Assert.Equal(order["id"]!.ToString(), got.Id);
        Assert.Equal(new[] { 500, 500, 200 }, h.Server.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task Get_gives_up_after_max_retries_with_a_transient_error()
    {
        await using var h = await SppClientHarness.StartAsync(o => o.Retry.MaxRetries = 2);
        h.Server.InjectFault(FaultRule.Fail(503, times: null));

        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() => h.Client.GetOrderAsync("1"));

        Assert.Equal(503, ex.Status);
        Assert.True(ex.IsTransient);
        Assert.Equal(3, h.Server.Requests.Count);
    }

    [Fact]
    public async Task Retry_after_in_seconds_is_honoured()
    {
        await using var h = await SppClientHarness.StartAsync();
        var order = h.Server.Store.AddOrder();
        h.Server.InjectFault(FaultRule.Throttle("1", times: 1));

        await h.Client.GetOrderAsync(order["id"]!.ToString());

        var requests = h.Server.Requests;
        Assert.Equal(new[] { 429, 200 }, requests.Select(r => r.Status));
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromMilliseconds(950), $"waited only {requests[1].At - requests[0].At}");
    }

    [Fact]
    public async Task Retry_after_as_an_http_date_is_honoured()
    {
        await using var h = await SppClientHarness.StartAsync();
        var order = h.Server.Store.AddOrder();
        var at = DateTimeOffset.UtcNow.AddSeconds(2);
        var wholeSecond = new DateTimeOffset(at.Ticks - at.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        h.Server.InjectFault(FaultRule.Throttle(at.ToString("R"), times: 1));

        await h.Client.GetOrderAsync(order["id"]!.ToString());

        var requests = h.Server.Requests;
        Assert.Equal(new[] { 429, 200 }, requests.Select(r => r.Status));
        // HTTP dates carry whole seconds: the retry comes no earlier than that second (minus timer slack).
        Assert.True(requests[1].At >= wholeSecond.AddMilliseconds(-50), $"retried at {requests[1].At:O}, asked for {wholeSecond:O}");
    }

    [Fact]
    public async Task Retry_after_beyond_the_cap_is_not_waited_for()
    {
        await using var h = await SppClientHarness.StartAsync(o => o.Retry.MaxRetryAfter = TimeSpan.FromSeconds(5));
        h.Server.InjectFault(FaultRule.Throttle("3600", times: null));

        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() => h.Client.GetOrderAsync("1"));

        Assert.Equal(429, ex.Status);
        Assert.Equal(TimeSpan.FromHours(1), ex.RetryAfter);
        Assert.True(ex.IsTransient);
        Assert.Single(h.Server.Requests);
    }

    [Fact]
    public async Task Post_is_retried_after_429_because_SPP_did_not_act()
    {
        await using var h = await SppClientHarness.StartAsync();
        var order = h.Server.Store.AddOrder();
        h.Server.InjectFault(FaultRule.Throttle("0", times: 2, method: "POST"));

        await h.Client.CreateOrderMessageAsync(order["id"]!.ToString(), new SppNewMessage { Message = "once" });

        Assert.Single(h.Server.Store.GetOrderMessages(order["id"]!.ToString()));
        Assert.Equal(new[] { 429, 429, 201 }, h.Server.RequestsTo("POST", "/api/order_messages").Select(r => r.Status));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Post_is_not_retried_after_a_server_error(int status)
    {
        await using var h = await SppClientHarness.StartAsync();
        var order = h.Server.Store.AddOrder();
        // SPP stored the message, then failed to answer: a retry would post it twice.
        h.Server.InjectFault(new FaultRule(FaultKind.StatusAfterHandling) { Status = status, Times = 1, Method = "POST" });

        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() =>
            h.Client.CreateOrderMessageAsync(order["id"]!.ToString(), new SppNewMessage { Message = "once" }));

        Assert.Equal(status, ex.Status);
        Assert.True(ex.IsTransient);
        Assert.Single(h.Server.RequestsTo("POST", "/api/order_messages"));
        Assert.Single(h.Server.Store.GetOrderMessages(order["id"]!.ToString()));
    }

    [Fact]
    public async Task Post_is_not_retried_when_the_connection_drops_after_SPP_acted()
    {
        await using var h = await SppClientHarness.StartAsync();
        var order = h.Server.Store.AddOrder();
        h.Server.InjectFault(new FaultRule(FaultKind.DropAfterHandling) { Times = 1, Method = "POST" });

        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() =>
            h.Client.CreateOrderMessageAsync(order["id"]!.ToString(), new SppNewMessage { Message = "once" }));

        Assert.Equal(0, ex.Status);
        Assert.True(ex.IsTransient);
        Assert.Single(h.Server.RequestsTo("POST", "/api/order_messages"));
        Assert.Single(h.Server.Store.GetOrderMessages(order["id"]!.ToString()));
    }

    [Fact]
    public async Task Post_is_not_retried_after_an_attempt_timeout()
    {
        // An attempt timeout generous enough for a loaded machine, against a fault that hangs until the client leaves.
        await using var h = await SppClientHarness.StartAsync(o => o.AttemptTimeout = TimeSpan.FromSeconds(2));
        var order = h.Server.Store.AddOrder();
        h.Server.InjectFault(new FaultRule(FaultKind.Delay) { Delay = TimeSpan.FromMinutes(5), Times = 1, Method = "POST" });

        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() =>
            h.Client.CreateOrderMessageAsync(order["id"]!.ToString(), new SppNewMessage { Message = "once" }));

        Assert.Equal(0, ex.Status);
        Assert.Contains("timed out", ex.Message);
        Assert.Single(await h.Server.WaitForRequestsAsync("POST", "/api/order_messages", 1));
    }

    [Fact]
    public async Task Post_is_retried_when_no_connection_was_made()
    {
        var connectFailures = new FailFirstConnects(2);
        await using var h = await SppClientHarness.StartAsync(http: b => b.AddHttpMessageHandler(() => connectFailures));
        var order = h.Server.Store.AddOrder();

        await h.Client.CreateOrderMessageAsync(order["id"]!.ToString(), new SppNewMessage { Message = "once" });

        Assert.Equal(3, connectFailures.Calls);
        Assert.Single(h.Server.Store.GetOrderMessages(order["id"]!.ToString()));
    }

    [Fact]
    public async Task Get_is_retried_after_an_attempt_timeout_and_a_dropped_connection()
    {
        // An attempt timeout generous enough for a loaded machine, against a fault that hangs until the client leaves.
        await using var h = await SppClientHarness.StartAsync(o => o.AttemptTimeout = TimeSpan.FromSeconds(2));
        var order = h.Server.Store.AddOrder();
        h.Server.InjectFault(new FaultRule(FaultKind.Delay) { Delay = TimeSpan.FromMinutes(5), Times = 1, Method = "GET" });
        h.Server.InjectFault(new FaultRule(FaultKind.Drop) { Times = 1, Method = "GET" });

        var got = await h.Client.GetOrderAsync(order["id"]!.ToString());

        Assert.Equal(order["id"]!.ToString(), got.Id);
        Assert.Equal(3, (await h.Server.WaitForRequestsAsync("GET", "/api/orders", 3)).Count);
    }

    [Fact]
    public async Task Put_is_retried_because_it_is_idempotent()
    {
        await using var h = await SppClientHarness.StartAsync();
        var order = h.Server.Store.AddOrder();
        h.Server.InjectFault(new FaultRule(FaultKind.StatusAfterHandling) { Status = 502, Times = 1, Method = "PUT" });

        var updated = await h.Client.UpdateOrderAsync(order["id"]!.ToString(), new SppOrderUpdate { Note = "n" });

        Assert.Equal("n", updated.Note);
        Assert.Equal(2, h.Server.RequestsTo("PUT", "/api/orders").Count);
    }

    [Fact]
    public async Task A_retried_delete_whose_first_attempt_worked_counts_as_deleted()
    {
        await using var h = await SppClientHarness.StartAsync();
        var order = h.Server.Store.AddOrder();
        var message = h.Server.Store.AddOrderMessage(order["id"]!.ToString(), "bye");
        h.Server.InjectFault(new FaultRule(FaultKind.DropAfterHandling) { Times = 1, Method = "DELETE" });

        await h.Client.DeleteOrderMessageAsync(message["id"]!.GetValue<long>());

        Assert.Equal(new[] { 0, 404 }, h.Server.RequestsTo("DELETE", "/api/order_messages").Select(r => r.Status));
        Assert.Empty(h.Server.Store.GetOrderMessages(order["id"]!.ToString()));
    }

    [Fact]
    public async Task Circuit_opens_after_repeated_failures_and_then_fails_fast_without_calling_SPP()
    {
        await using var h = await SppClientHarness.StartAsync(o =>
        {
            o.Retry.MaxRetries = 0;
            o.CircuitBreaker.MinimumThroughput = 4;
            o.CircuitBreaker.FailureRatio = 0.5;
            o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);
            // Long enough that even a stalled machine is still within the break at the fifth call.
            o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(3);
        });
        var order = h.Server.Store.AddOrder();
        h.Server.InjectFault(FaultRule.Fail(500, times: 4));

        for (var i = 0; i < 4; i++) await Assert.ThrowsAsync<SppRequestFailedException>(() => h.Client.GetOrderAsync("1"));
        var open = await Assert.ThrowsAsync<SppRequestFailedException>(() => h.Client.GetOrderAsync(order["id"]!.ToString()));

        Assert.Equal(0, open.Status);
        Assert.True(open.IsTransient);
        Assert.Contains("circuit breaker is open", open.Message);
        Assert.Equal(4, h.Server.Requests.Count);

        await Task.Delay(TimeSpan.FromSeconds(3.5));
        var got = await h.Client.GetOrderAsync(order["id"]!.ToString());
        Assert.Equal(order["id"]!.ToString(), got.Id);
        Assert.Equal(5, h.Server.Requests.Count);
    }

    /// <summary>Fails the first N sends as a refused connection would, before anything reaches the server.</summary>
    private sealed class FailFirstConnects(int failures) : DelegatingHandler
    {
        private int _calls;
        public int Calls => _calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) <= failures)
            {
                throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (simulated)",
                    new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
