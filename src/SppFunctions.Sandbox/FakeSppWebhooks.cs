using System.Text;
using System.Text.Json.Nodes;

namespace SppFunctions.FakeSpp;

/// <summary>
/// SPP's webhook emitter: POSTs <c>{event, created, token, data}</c> to a URL, with v1-style <c>data</c>
/// (order id as the hex number, <c>date_added</c>, a status label, nested <c>client</c>) as SPP's own example shows.
/// </summary>
public static class FakeSppWebhooks
{
    /// <summary>The envelope SPP posts.</summary>
    public static JsonObject Envelope(string eventName, JsonNode? data, string token, DateTimeOffset created) => new()
    {
        ["event"] = eventName,
        ["created"] = created.ToUnixTimeSeconds(),
        ["token"] = token,
        ["data"] = data?.DeepClone(),
    };

    /// <summary>An order as old-style webhooks carry it: <c>id</c> is the order number.</summary>
    public static JsonObject OldStyleOrder(JsonObject apiOrder)
    {
        var client = apiOrder["client"] as JsonObject;
        return new JsonObject
        {
            ["id"] = apiOrder["number"]?.DeepClone() ?? apiOrder["id"]?.ToString(),
            ["service"] = apiOrder["service"]?.DeepClone(),
            ["status"] = apiOrder["status"]?.DeepClone(),
            ["price"] = apiOrder["price"]?.ToString(),
            ["date_added"] = ToOldDate(apiOrder["created_at"]),
            ["date_completed"] = ToOldDate(apiOrder["date_completed"]),
            ["tags"] = apiOrder["tags"]?.DeepClone() ?? new JsonArray(),
            ["client"] = client is null ? null : new JsonObject
            {
                ["id"] = client["id"]?.DeepClone(),
                ["name"] = client["name"]?.DeepClone(),
                ["email"] = client["email"]?.DeepClone(),
                ["company"] = client["company"]?.DeepClone(),
            },
        };
    }

    /// <summary>Posts one webhook and returns the answer.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, Uri url, string eventName, JsonNode? data, string token,
        DateTimeOffset created, CancellationToken cancellationToken = default)
    {
        var body = Envelope(eventName, data, token, created).ToJsonString();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await http.PostAsync(url, content, cancellationToken).ConfigureAwait(false);
    }

    private static JsonNode? ToOldDate(JsonNode? apiDate) =>
        apiDate is JsonValue v && v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, out var d)
            ? d.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss",
                System.Globalization.CultureInfo.InvariantCulture) + "+0000" // 2010-12-30T15:00:00+0000
            : null;
}
