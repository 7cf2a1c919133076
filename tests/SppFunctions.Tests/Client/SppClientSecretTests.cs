using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spp.Client;
using Spp.Client.Models;
using SppFunctions.FakeSpp;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Client;

/// <summary>The API key appears in no log line and no exception, whatever happens.</summary>
public class SppClientSecretTests
{
    [Fact]
    public async Task Api_key_is_in_no_log_line_or_exception_across_success_retries_and_failures()
    {
        await using var h = await SppClientHarness.StartAsync();
        var key = h.Server.ApiKey;
        var order = h.Server.Store.AddOrder();
        var id = order["id"]!.ToString();
        var errors = new List<Exception>();

        await h.Client.GetOrderAsync(id);
        await h.Client.CreateOrderMessageAsync(id, new SppNewMessage { Message = "hello" });
        h.Server.InjectFault(FaultRule.Fail(500, times: 1, method: "GET"));
        h.Server.InjectFault(FaultRule.Throttle("0", times: 1, method: "GET"));
        await h.Client.GetOrderMessagesAsync(id).ToListAsync();
        h.Server.InjectFault(FaultRule.Fail(500, times: null));
        try { await h.Client.GetOrderAsync(id); } catch (SppRequestFailedException ex) { errors.Add(ex); }
        h.Server.ClearFaults();
        try { await h.Client.GetOrderAsync("missing"); } catch (SppRequestFailedException ex) { errors.Add(ex); }
        try { await h.Client.SendAsync(new SppApiRequest(HttpMethod.Get, "http://evil/")); } catch (ArgumentException ex) { errors.Add(ex); }

        var logs = h.AllLogText();
        Assert.Contains("SPP GET /api/orders", logs); // the client's own call logs were captured,
        Assert.DoesNotContain(key, logs);             // but never the key:
        // not in the structured state either, which sinks such as Application Insights write out as they are
        // (RedactLoggedHeaders only masks the formatted text).
        Assert.All(h.Logs.GetSnapshot(), r =>
            Assert.DoesNotContain(key, string.Join("\n", r.StructuredState?.Select(kv => $"{kv.Key}={kv.Value}") ?? [])));
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.DoesNotContain(key, e.ToString()));
        // The key was really sent to SPP.
        Assert.All(h.Server.Requests, r => Assert.Equal($"Bearer {key}", r.Headers["Authorization"]));
    }

    [Fact]
    public async Task Custom_header_values_of_a_raw_call_are_in_no_log_line_at_any_level()
    {
        // An api_call header may be rendered from {{ secrets.NAME }}: its value must stay out of the handler logs,
        // formatted text and structured state alike, while the request still carries it.
        await using var h = await SppClientHarness.StartAsync();
        const string secret = "hdr-secret-7f3a9c1e5b";
        var response = await h.Client.SendAsync(new SppApiRequest(HttpMethod.Get, "orders")
        {
            Headers = new Dictionary<string, string> { ["X-Partner-Token"] = secret },
        });

        Assert.Equal(200, response.Status);
        Assert.Equal(secret, h.Server.Requests.Single().Headers["X-Partner-Token"]);
        var logs = h.AllLogText();
        Assert.Contains("SPP GET /api/orders answered 200", logs); // the call's log line was captured
        Assert.DoesNotContain(secret, logs);
        Assert.All(h.Logs.GetSnapshot(), r =>
            Assert.DoesNotContain(secret, string.Join("\n", r.StructuredState?.Select(kv => $"{kv.Key}={kv.Value}") ?? [])));
    }

    [Theory]
    [InlineData(null, "spp_api_x", "Spp__BaseUrl is required")]
    [InlineData("not a url", "spp_api_x", "Spp__BaseUrl must be an absolute https URL")]
    [InlineData("http://acme.spp.co/api/", "spp_api_x", "Spp__BaseUrl must use https")]
    [InlineData("ftp://acme.spp.co/api/", "spp_api_x", "Spp__BaseUrl must be an absolute https URL")]
    [InlineData("https://acme.spp.co/api/", null, "Spp__ApiKey is required")]
    [InlineData("https://YOUR-WORKSPACE.spp.co/api/", "spp_api_x", "Spp__BaseUrl still holds the sample's placeholder")]
    [InlineData("https://acme.spp.co/api/", "FILL-IN: SPP admin → Modules → API → Settings",
        "Spp__ApiKey still holds the sample's placeholder")]
    [InlineData("https://acme.spp.co/api/", "spp_api_with space", "Spp__ApiKey must not contain whitespace")]
    public async Task Start_up_validation_names_the_setting_and_never_the_key(string? baseUrl, string? apiKey, string expected)
    {
        await using var h = await SppClientHarness.StartAsync(settings: new() { ["Spp:BaseUrl"] = baseUrl, ["Spp:ApiKey"] = apiKey });
        var ex = Assert.Throws<OptionsValidationException>(() => h.Services.GetRequiredService<IOptions<SppClientOptions>>().Value);
        Assert.Contains(expected, ex.Message);
        if (apiKey is not null) Assert.DoesNotContain(apiKey, ex.Message);
    }

    [Fact]
    public async Task Api_version_defaults_and_can_be_set()
    {
        await using var h = await SppClientHarness.StartAsync(settings: new() { ["Spp:ApiVersion"] = "2023-12-14" });
        h.Server.Store.AddOrder();
        await h.Client.GetOrdersAsync().ToListAsync();
        Assert.Equal("2023-12-14", h.Server.Requests.Single().Headers["X-Api-Version"]);
        Assert.Equal("2024-03-05", new SppClientOptions().ApiVersion);
    }
}
