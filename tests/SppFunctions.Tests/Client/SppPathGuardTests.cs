using Spp.Client;
using SppFunctions.FakeSpp;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Client;

/// <summary>The raw call never sends the API key anywhere but beneath the configured API root.</summary>
public class SppPathGuardTests
{
    public static string[] EscapingPaths(string evilHost) => new[]
    {
        $"http://{evilHost}/api/orders",
        $"https://{evilHost}/",
        $"//{evilHost}/api/orders",
        $"///{evilHost}/api/orders",
        "../orders",
        "orders/../../admin",
        "%2e%2e/orders",
        "orders/%2E%2E/%2e%2e/x",
        "%252e%252e/orders",
        "./orders",
        "orders\\..\\..\\x",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "orders?x=1",
        "orders#frag",
        "orders\r\nHost: evil",
        "",
        "   ",
    };

    [Fact]
    public async Task Refuses_every_path_that_could_leave_the_api_root_and_sends_nothing()
    {
        await using var evil = await FakeSppServer.StartAsync();
        await using var h = await SppClientHarness.StartAsync();
        var evilHost = evil.BaseUrl.Authority;

        foreach (var path in EscapingPaths(evilHost))
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => h.Client.SendAsync(new SppApiRequest(HttpMethod.Get, path)));
            Assert.Contains("refused", ex.Message);
        }

        Assert.Empty(h.Server.Requests);
        Assert.Empty(evil.Requests);
    }

    [Theory]
    [InlineData("orders", "/api/orders")]
    [InlineData("/orders", "/api/orders")]
    [InlineData("order_messages/E4A269FC", "/api/order_messages/E4A269FC")]
    [InlineData("orders/a%20b", "/api/orders/a%20b")]
    [InlineData("invoices/1/mark_paid", "/api/invoices/1/mark_paid")]
    public void Resolves_relative_paths_beneath_the_root(string path, string expected)
    {
        var resolved = SppPathGuard.Resolve(new Uri("https://acme.spp.co/api/"), path);
        Assert.Equal("acme.spp.co", resolved.Host);
        Assert.Equal(expected, resolved.AbsolutePath);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(" .. ")]
    public async Task Typed_calls_refuse_dot_segments_as_ids(string id)
    {
        await using var h = await SppClientHarness.StartAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => h.Client.GetOrderAsync(id));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            h.Client.CreateOrderMessageAsync(id, new Spp.Client.Models.SppNewMessage { Message = "x" }));
        Assert.Empty(h.Server.Requests);
    }

    [Fact]
    public async Task A_legitimate_raw_call_reaches_only_the_configured_server()
    {
        await using var h = await SppClientHarness.StartAsync();
        var response = await h.Client.SendAsync(new SppApiRequest(HttpMethod.Get, "/tags"));
        Assert.Equal(200, response.Status);
        Assert.Equal("/api/tags", Assert.Single(h.Server.Requests).Path);
    }
}
