using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Spp.Client;
using SppFunctions.FakeSpp;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;

namespace SppFunctions.Tests.Processing;

/// <summary>
/// Event data only ever fills values: a header rendered from it with a control character fails its action for good,
/// naming the rule and the header (never the value), before anything is sent.
/// </summary>
public class HeaderInjectionTests
{
    private const string Smuggled = "x\r\n\r\nDELETE /api/orders/2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    [Fact]
    public async Task A_webhook_smuggling_a_second_request_through_a_rule_header_sends_nothing_and_deletes_nothing()
    {
        const string headers = """{ "X-Customer": "{{ data.client_name }}" }""";
        const string rules = $$$"""
            [{ "name": "tag-customer", "on": "order.created", "actions": [
              { "type": "api_call", "method": "PUT", "path": "orders/{{ data.id }}", "headers": {{{headers}}}, "body": { "note": "tagged" } }
            ]}]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = app.Spp.Store.AddOrder();
        var victim = app.Spp.Store.AddOrder();
        var data = FakeSppWebhooks.OldStyleOrder(order);
        data["client_name"] = Smuggled.Replace("/api/orders/2", $"/api/orders/{victim["id"]}", StringComparison.Ordinal);

        var answer = await WebhookTestKit.PostAsync(app, WebhookTestKit.Envelope("order.created", data));
        Assert.Equal(202, answer.Status);
        var driver = app.Driver();
        await driver.DrainAsync();

        Assert.Empty(app.Spp.Requests); // not the PUT, and certainly no DELETE
        Assert.NotNull(app.Spp.Store.GetOrder(victim["id"]!.ToString()));
        Assert.Empty(driver.Retries); // failed for good, not retried
        var row = await app.EventRowAsync(answer.Body["id"]!.GetValue<string>());
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains(
            "rule 'tag-customer' action 0 (api_call): The header 'X-Customer' is refused: its value contains a control character", row.Error);
        Assert.DoesNotContain("DELETE", row.Error);
        Assert.DoesNotContain("DELETE /api/orders", app.AllLogText());
    }

    [Theory]
    [InlineData("X-Customer", "a\r\nb")]
    [InlineData("X-Customer", "a\nb")]
    [InlineData("X-Customer", "a\0b")]
    [InlineData("X-Customer", "a\u001fb")]
    [InlineData("X-Customer", "a\u007fb")]
    [InlineData("X-Customer", "a\tb")]
    [InlineData("X-Customer", "Zoë")]
    [InlineData("X-Bad\r\nName", "v")]
    [InlineData("X Space", "v")]
    [InlineData("X:Colon", "v")]
    public async Task The_client_refuses_a_header_with_a_control_character_or_a_bad_name_before_sending(string name, string value)
    {
        await using var h = await SppClientHarness.StartAsync();
        var request = new SppApiRequest(HttpMethod.Get, "orders") { Headers = { [name] = value } };

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => h.Client.SendAsync(request));

        Assert.Contains("is refused", ex.Message);
        Assert.DoesNotContain(value, ex.Message.Replace(name, "", StringComparison.Ordinal));
        Assert.Empty(h.Server.Requests);
    }

    [Fact]
    public async Task Ordinary_header_values_are_sent_as_they_are()
    {
        await using var h = await SppClientHarness.StartAsync();
        var request = new SppApiRequest(HttpMethod.Get, "orders")
        {
            Headers = { ["X-Customer"] = "Zoe O'Brien & Co. (VIP) <zoe@example.com>; q=\"1\"" },
        };
        await h.Client.SendAsync(request);
        Assert.Equal("Zoe O'Brien & Co. (VIP) <zoe@example.com>; q=\"1\"", Assert.Single(h.Server.Requests).Headers["X-Customer"]);
    }

    [Fact]
    public async Task Forward_refuses_a_smuggling_header_before_connecting_and_never_logs_header_values()
    {
        await using var target = await RecordingHttpServer.StartAsync();
        const string rules = """
            [{ "name": "notify", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{ secrets.Hook }}",
               "headers": { "X-Signature": "{{ secrets.Signature }}", "X-Subject": "{{ data.subject }}" } }] },
             { "name": "notify-ok", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{ secrets.Hook }}",
               "headers": { "X-Signature": "{{ secrets.Signature }}" } }] }]
            """;
        await using var app = await AppHarness.StartAsync(new()
        {
            ["Forward:AllowedHosts:0"] = $"127.0.0.1:{target.BaseUrl.Port}",
            ["RuleSecrets:Hook"] = new Uri(target.BaseUrl, "hook/s3cr3tpath").ToString(),
            ["RuleSecrets:Signature"] = "sig-0123456789",
        }, rules: rules);
        target.Answer(200);
        var evt = await app.EnqueueEventAsync("ticket.created", new JsonObject { ["id"] = 3, ["subject"] = Smuggled });

        await app.Driver().DrainAsync();

        var sent = Assert.Single(target.Requests); // only the rule without event data in its headers
        Assert.Equal("sig-0123456789", sent.Headers["X-Signature"]);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("rule 'notify' action 0 (forward): The header 'X-Subject' is refused", row.Error);
        // No header value at any level, in the text or the structured state of any log record.
        foreach (var record in app.Logs.GetSnapshot())
        {
            var text = $"{record.Message} {record.Exception} {string.Join(" ", record.StructuredState?.Select(kv => $"{kv.Key}={kv.Value}") ?? [])}";
            Assert.DoesNotContain("sig-0123456789", text);
            Assert.DoesNotContain("s3cr3tpath", text);
            Assert.DoesNotContain("DELETE /api", text);
        }
    }

    [Fact]
    public async Task Forward_refuses_ports_other_than_443_unless_listed_with_the_host()
    {
        await using var target = await RecordingHttpServer.StartAsync();
        // A fixed URL on another port is refused at start-up...
        var fixedUrl = $$$"""[{ "name": "fwd", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{{target.BaseUrl}}}hook" }] }]""";
        await using (var refused = await AppHarness.StartAsync(new() { ["Forward:AllowedHosts:0"] = "127.0.0.1" }, rules: fixedUrl))
        {
            var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
                refused.Get<SppFunctions.Processing.EventProcessor>());
            Assert.Contains($"port {target.BaseUrl.Port} of 127.0.0.1 is not on Forward__AllowedHosts", ex.Message);
        }
        // ...and one rendered from event data when the action runs.
        const string rules = """[{ "name": "fwd", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{ data.callback }}" }] }]""";
        await using var app = await AppHarness.StartAsync(new() { ["Forward:AllowedHosts:0"] = "127.0.0.1" }, rules: rules);
        var evt = await app.EnqueueEventAsync("ticket.created", new JsonObject { ["id"] = 3, ["callback"] = $"{target.BaseUrl}hook" });

        await app.Driver().DrainAsync();

        Assert.Empty(target.Requests);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains($"port {target.BaseUrl.Port} of 127.0.0.1 is not on Forward__AllowedHosts " +
            $"(only 443 unless listed as 127.0.0.1:{target.BaseUrl.Port})", row.Error);
    }

    [Theory]
    [InlineData("hooks.example.com", "https://hooks.example.com/x", true)]
    [InlineData("hooks.example.com", "https://hooks.example.com:443/x", true)]
    [InlineData("hooks.example.com", "https://hooks.example.com:8443/x", false)]
    [InlineData("hooks.example.com:8443", "https://hooks.example.com:8443/x", true)]
    [InlineData("hooks.example.com:8443", "https://hooks.example.com/x", false)]
    [InlineData("*.example.com", "https://a.example.com:444/x", false)]
    [InlineData("*.example.com:444", "https://a.example.com:444/x", true)]
    public void The_allow_list_takes_a_port_with_the_host(string allowed, string url, bool ok)
    {
        var options = new SppFunctions.Processing.Actions.ForwardOptions { AllowedHosts = { allowed } };
        Assert.Equal(ok, options.Refusal(new Uri(url)) is null);
    }

    [Fact]
    public async Task Forward_reads_only_the_start_of_a_huge_answer()
    {
        await using var target = await RecordingHttpServer.StartAsync();
        target.AnswerBodyBytes = long.MaxValue; // an answer that never ends
        var rules = $$$"""[{ "name": "fwd", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{{target.BaseUrl}}}hook" }] }]""";
        await using var app = await AppHarness.StartAsync(
            new() { ["Forward:AllowedHosts:0"] = $"127.0.0.1:{target.BaseUrl.Port}", ["Forward:Timeout"] = "00:00:10" }, rules: rules);
        var evt = await app.EnqueueEventAsync("ticket.created", new JsonObject { ["id"] = 3 });

        await app.Driver().DrainAsync();

        Assert.Single(target.Requests);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Succeeded, row!.Status);
    }
}
