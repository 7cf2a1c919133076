using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using SppFunctions.Events;
using SppFunctions.Functions.Webhooks;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Intake;

/// <summary>Builds SPP webhook bodies and posts them through the webhook function class.</summary>
public static class WebhookTestKit
{
    public const long Created = 1764403200; // 2025-11-29T08:00:00Z

    public static JsonObject Envelope(string eventName = "order.created", JsonNode? data = null, string? token = AppHarness.Token, long created = Created)
    {
        var envelope = new JsonObject { ["event"] = eventName, ["created"] = created };
        if (token is not null) envelope["token"] = token;
        envelope["data"] = data ?? SampleData(eventName);
        return envelope;
    }

    /// <summary>An old-style data object (as SPP's help-centre example) for the event's topic.</summary>
    public static JsonObject SampleData(string eventName) => SppEventTopics.Classify(eventName) switch
    {
        SppEventTopics.Orders or SppEventTopics.Forms => new JsonObject
        {
            ["id"] = "666AF315", ["service"] = "Logo design", ["status"] = "Pending", ["date_added"] = "2010-12-30T15:00:00+0000",
            ["date_completed"] = null, ["client"] = new JsonObject { ["id"] = 12, ["name"] = "Jane Doe", ["email"] = "jane.doe@example.com" },
        },
        SppEventTopics.Invoices => new JsonObject { ["id"] = 41, ["number"] = "E4A269FC", ["status"] = "Paid", ["total"] = "99.00", ["client"] = new JsonObject { ["id"] = 12, ["email"] = "jane.doe@example.com" } },
        SppEventTopics.Messages => new JsonObject { ["id"] = 1001, ["message"] = "<p>Hello</p>", ["user_id"] = 12, ["staff_only"] = 0, ["order"] = new JsonObject { ["id"] = "666AF315" } },
        SppEventTopics.Accounts => new JsonObject { ["id"] = 12, ["name_f"] = "Jane", ["name_l"] = "Doe", ["email"] = "jane.doe@example.com" },
        SppEventTopics.Subscriptions => new JsonObject { ["id"] = 7, ["status"] = "Active", ["invoice_id"] = "E4A269FC" },
        SppEventTopics.Tickets => new JsonObject { ["id"] = 3, ["subject"] = "Broken link", ["user_id"] = 12 },
        _ => new JsonObject { ["id"] = 1 },
    };

    public sealed record Answer(int Status, JsonObject Body, string? RetryAfter);

    /// <summary>Posts raw bytes through the function (route = topic, or null for the route that takes every event).</summary>
    public static async Task<Answer> PostAsync(AppHarness app, byte[] body, string? topic = null, string? contentType = "application/json", long? contentLength = -1, Stream? stream = null)
    {
        var function = app.Function<WebhookFunctions>();
        var request = app.Request("POST", null, contentType, contentLength == -1 ? (stream is null ? body.Length : null) : contentLength, stream ?? new MemoryStream(body));
        var result = (ContentResult)await function.Accept(request, topic, CancellationToken.None);
        var retryAfter = request.HttpContext.Response.Headers.RetryAfter.ToString();
        return new Answer(result.StatusCode!.Value, JsonNode.Parse(result.Content!)!.AsObject(), retryAfter.Length == 0 ? null : retryAfter);
    }

    public static Task<Answer> PostAsync(AppHarness app, JsonNode body, string? topic = null) =>
        PostAsync(app, System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()), topic);
}
