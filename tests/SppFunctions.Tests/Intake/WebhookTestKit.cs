using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using SppFunctions.Events;
using SppFunctions.Functions.Webhooks;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Intake;

/// <summary>Builds SPP webhook bodies (from <see cref="SampleWebhooks"/>) and posts them through the webhook function class.</summary>
public static class WebhookTestKit
{
    public const long Created = SampleWebhooks.Created; // 2025-11-29T08:00:00Z

    public static JsonObject Envelope(
        string eventName = "order.created", JsonNode? data = null, string? token = AppHarness.Token, long created = Created) =>
        SampleWebhooks.Envelope(eventName, token, created, data ?? SampleData(eventName));

    /// <summary>An old-style data object (as SPP's help-centre example) for the event (the product's <see cref="SampleWebhooks"/>).</summary>
    public static JsonObject SampleData(string eventName) => SampleWebhooks.Data(eventName);

    public sealed record Answer(int Status, JsonObject Body, string? RetryAfter);

    /// <summary>Posts raw bytes through the function (route = topic, or null for the route that takes every event).</summary>
    public static async Task<Answer> PostAsync(AppHarness app, byte[] body, string? topic = null, string? contentType = "application/json",
        long? contentLength = -1, Stream? stream = null)
    {
        var function = app.Function<WebhookFunctions>();
        var request = app.Request("POST", null, contentType, contentLength == -1 ? (stream is null ? body.Length : null) : contentLength,
            stream ?? new MemoryStream(body));
        var result = (ContentResult)await function.Accept(request, topic, CancellationToken.None);
        var retryAfter = request.HttpContext.Response.Headers.RetryAfter.ToString();
        return new Answer(result.StatusCode!.Value, JsonNode.Parse(result.Content!)!.AsObject(), retryAfter.Length == 0 ? null : retryAfter);
    }

    public static Task<Answer> PostAsync(AppHarness app, JsonNode body, string? topic = null) =>
        PostAsync(app, System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()), topic);
}
