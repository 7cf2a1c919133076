using Spp.Client;
using Spp.Client.Models;
using SppFunctions.FakeSpp;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Client;

/// <summary>How SPP's error answers surface: one exception type with status, message, errors, body and X-Api-Identifier.</summary>
public class SppClientErrorTests : IAsyncLifetime
{
    private SppClientHarness _h = null!;

    public async Task InitializeAsync() => _h = await SppClientHarness.StartAsync(o => o.Retry.MaxRetries = 0);
    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Not_found_carries_status_message_body_and_api_identifier()
    {
        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() => _h.Client.GetOrderAsync("DOESNOTEXIST"));
        Assert.Equal(404, ex.Status);
        Assert.Equal("No query results for model [App\\Models\\Order].", ex.SppMessage);
        Assert.Contains("\"message\"", ex.RawBody);
        Assert.True(Guid.TryParse(ex.ApiIdentifier, out _));
        Assert.False(ex.IsTransient);
        Assert.Contains("GET /api/orders/DOESNOTEXIST failed with 404", ex.Message);
        Assert.Contains(ex.ApiIdentifier!, ex.Message);
    }

    [Fact]
    public async Task Validation_errors_are_read_per_field()
    {
        var order = _h.Server.Store.AddOrder();
        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() =>
            _h.Client.CreateOrderMessageAsync(order["id"]!.ToString(), new SppNewMessage { Message = "  " }));
        Assert.Equal(400, ex.Status);
        Assert.Equal("The message field is required.", Assert.Single(ex.Errors["message"]));
        Assert.Contains("[message: The message field is required.]", ex.Message);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public async Task Wrong_key_is_401_and_the_key_is_not_in_the_exception()
    {
        await using var h = await SppClientHarness.StartAsync(settings: new() { ["Spp:ApiKey"] = "not-the-configured-key-wrongkey" });
        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() => h.Client.GetOrderAsync("1"));
        Assert.Equal(401, ex.Status);
        Assert.Equal("Unauthenticated.", ex.SppMessage);
        Assert.DoesNotContain("wrongkey", ex.ToString());
    }

    [Theory]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(429, true)]
    [InlineData(408, true)]
    [InlineData(403, false)]
    [InlineData(422, false)]
    public async Task Each_error_status_is_classified(int status, bool transient)
    {
        _h.Server.InjectFault(FaultRule.Fail(status));
        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() => _h.Client.GetOrderAsync("1"));
        Assert.Equal(status, ex.Status);
        Assert.Equal(transient, ex.IsTransient);
    }

    [Fact]
    public async Task Connection_refused_is_a_transient_no_answer()
    {
        var port = FreePort();
        await using var h = await SppClientHarness.StartAsync(o => o.Retry.MaxRetries = 0,
            settings: new() { ["Spp:BaseUrl"] = $"http://127.0.0.1:{port}/api/" });
        var ex = await Assert.ThrowsAsync<SppRequestFailedException>(() => h.Client.GetOrderAsync("1"));
        Assert.Equal(0, ex.Status);
        Assert.True(ex.IsTransient);
        Assert.Contains("no connection could be made", ex.Message);
    }

    internal static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
