using System.Text;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Intake;

public sealed class IntakeFixture : IAsyncLifetime
{
    public AppHarness App { get; private set; } = null!;
    public async Task InitializeAsync() => App = await AppHarness.StartAsync(new() { ["Webhooks:MaxBodyBytes"] = "4096" });
    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>
/// Every kind of bad request gets its 4xx with <c>{error, field}</c> naming the problem, and nothing is stored:
/// no queue message, no event-log or dedupe row, no blob.
/// </summary>
public class WebhookBadInputTests(IntakeFixture fixture) : IClassFixture<IntakeFixture>
{
    public sealed record BadRequest(string Name, byte[] Body, int Status, string? Field, string ErrorContains,
        string? ContentType = "application/json", long? ContentLength = -1, string? Topic = null, bool Chunked = false)
    {
        public override string ToString() => Name;
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
    private static string Valid(Action<System.Text.Json.Nodes.JsonObject> change)
    {
        var envelope = Envelope();
        change(envelope);
        return envelope.ToJsonString();
    }

    public static IEnumerable<object[]> Cases()
    {
        var ok = Utf8(Envelope().ToJsonString());
        var cases = new List<BadRequest>
        {
            // Content type
            new("no content type", ok, 415, "Content-Type", "missing", ContentType: null),
            new("text/plain", ok, 415, "Content-Type", "text/plain is not supported", ContentType: "text/plain"),
            new("form urlencoded", ok, 415, "Content-Type", "not supported", ContentType: "application/x-www-form-urlencoded"),
            new("multipart", ok, 415, "Content-Type", "not supported", ContentType: "multipart/form-data; boundary=x"),
            new("xml", ok, 415, "Content-Type", "not supported", ContentType: "application/xml"),
            new("latin1 charset", ok, 415, "Content-Type", "charset", ContentType: "application/json; charset=iso-8859-1"),
            new("garbage content type", ok, 415, "Content-Type", "not a valid media type", ContentType: "???"),
            // Size
            new("content-length over the limit", ok, 413, null, "limit is 4096", ContentLength: 5000),
            new("chunked body over the limit", Utf8(Valid(e => e["data"]!["pad"] = new string('x', 5000))), 413, null, "exceeds the limit",
                Chunked: true),
            // Not JSON / not an object
            new("empty body", Array.Empty<byte>(), 400, null, "empty"),
            new("whitespace body", Utf8("   \n "), 400, null, "not valid JSON"),
            new("plain text", Utf8("hello"), 400, null, "not valid JSON"),
            new("truncated object", Utf8("{\"event\":\"order.created\""), 400, null, "not valid JSON"),
            new("trailing garbage", Utf8(Envelope().ToJsonString() + " x"), 400, null, "not valid JSON"),
            new("single quotes", Utf8("{'event':'order.created'}"), 400, null, "not valid JSON"),
            new("invalid UTF-8",
                Utf8("{\"event\":\"order.created\",\"x\":\"").Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Utf8("\"}")).ToArray(),
                400, null, "not valid"),
            new("nested too deeply", Utf8(new string('[', 200) + new string(']', 200)), 400, null, "nested too deeply"),
            new("duplicate token property",
                Utf8($"{{\"token\":\"x\",\"token\":\"{AppHarness.Token}\",\"event\":\"order.created\",\"created\":1,\"data\":{{}}}}"),
                400, null, "repeats a property"),
            new("array", Utf8("[]"), 400, null, "must be a JSON object"),
            new("string", Utf8("\"order.created\""), 400, null, "must be a JSON object"),
            new("number", Utf8("42"), 400, null, "must be a JSON object"),
            new("null", Utf8("null"), 400, null, "must be a JSON object"),
            new("boolean", Utf8("true"), 400, null, "must be a JSON object"),
            // Token
            new("missing token", Utf8(Envelope(token: null).ToJsonString()), 401, "token", "missing"),
            new("null token", Utf8(Valid(e => e["token"] = null)), 401, "token", "missing"),
            new("wrong token", Utf8(Envelope(token: "nope").ToJsonString()), 401, "token", "not accepted"),
            new("empty token", Utf8(Envelope(token: "").ToJsonString()), 401, "token", "not accepted"),
            new("token in other case", Utf8(Envelope(token: AppHarness.Token.ToUpperInvariant()).ToJsonString()), 401, "token", "not accepted"),
            new("token prefix", Utf8(Envelope(token: AppHarness.Token[..10]).ToJsonString()), 401, "token", "not accepted"),
            new("token with extra char", Utf8(Envelope(token: AppHarness.Token + "x").ToJsonString()), 401, "token", "not accepted"),
            new("numeric token", Utf8(Valid(e => e["token"] = 12345)), 401, "token", "not accepted"),
            new("token as object", Utf8(Valid(e => e["token"] = new System.Text.Json.Nodes.JsonObject { ["v"] = AppHarness.Token })),
                401, "token", "not accepted"),
            // event
            new("missing event", Utf8(Valid(e => e.Remove("event"))), 400, "event", "'event' is required"),
            new("null event", Utf8(Valid(e => e["event"] = null)), 400, "event", "'event' is required"),
            new("numeric event", Utf8(Valid(e => e["event"] = 5)), 400, "event", "must be a string, not a number"),
            new("object event", Utf8(Valid(e => e["event"] = new System.Text.Json.Nodes.JsonObject())), 400, "event",
                "must be a string, not an object"),
            new("empty event", Utf8(Valid(e => e["event"] = "")), 400, "event", "event name"),
            new("event with spaces", Utf8(Valid(e => e["event"] = "order created")), 400, "event", "event name"),
            new("event with slash", Utf8(Valid(e => e["event"] = "../order")), 400, "event", "event name"),
            new("event too long", Utf8(Valid(e => e["event"] = "order." + new string('x', 120))), 400, "event", "event name"),
            // created
            new("missing created", Utf8(Valid(e => e.Remove("created"))), 400, "created", "'created' is required"),
            new("created as string", Utf8(Valid(e => e["created"] = "1558608668")), 400, "created", "not a string"),
            new("created as boolean", Utf8(Valid(e => e["created"] = true)), 400, "created", "not a boolean"),
            new("created fractional", Utf8(Valid(e => e["created"] = 1558608668.5)), 400, "created", "whole number"),
            new("created negative", Utf8(Valid(e => e["created"] = -5)), 400, "created", "whole number"),
            new("created huge", Utf8(Envelope().ToJsonString().Replace("1764403200", "1e300")), 400, "created", "whole number"),
            new("created after 2100", Utf8(Valid(e => e["created"] = 99999999999)), 400, "created", "between 1970 and 2100"),
            // data
            new("missing data", Utf8(Valid(e => e.Remove("data"))), 400, "data", "'data' is required"),
            new("null data", Utf8(Valid(e => e["data"] = null)), 400, "data", "'data' is required"),
            new("data array", Utf8(Valid(e => e["data"] = new System.Text.Json.Nodes.JsonArray())), 400, "data", "not an array"),
            new("data string", Utf8(Valid(e => e["data"] = "666AF315")), 400, "data", "not a string"),
            new("data number", Utf8(Valid(e => e["data"] = 1)), 400, "data", "not a number"),
            // topic routes
            new("invoice.paid on the orders route", Utf8(Envelope("invoice.paid").ToJsonString()), 422, "event",
                "belongs to the invoices topic", Topic: "orders"),
            new("unknown event on the tickets route", Utf8(Envelope("widget.spun").ToJsonString()), 422, "event",
                "belongs to the other topic", Topic: "tickets"),
            new("order message on the orders route", Utf8(Envelope("order_message.created").ToJsonString()), 422, "event",
                "belongs to the messages topic", Topic: "orders"),
            new("unknown route topic", ok, 404, "topic", "Unknown topic", Topic: "widgets"),
        };
        return cases.Select(c => new object[] { c });
    }

    [Fact]
    public void The_table_has_at_least_40_cases() => Assert.True(Cases().Count() >= 40);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Is_refused_with_a_clear_error_and_nothing_is_stored(BadRequest bad)
    {
        var answer = await PostAsync(fixture.App, bad.Body, bad.Topic, bad.ContentType, bad.Chunked ? null : bad.ContentLength);

        Assert.Equal(bad.Status, answer.Status);
        Assert.Contains(bad.ErrorContains, answer.Body["error"]!.GetValue<string>());
        Assert.Equal(bad.Field, answer.Body["field"]?.GetValue<string>());
        await fixture.App.AssertNothingStoredAsync(bad.Name);
        Assert.DoesNotContain(AppHarness.Token, answer.Body.ToJsonString());
    }
}
