using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using SppFunctions.Events;
using SppFunctions.Intake;

namespace SppFunctions.Functions.Webhooks;

/// <summary>
/// The URLs to paste into SPP (Modules → Webhooks), each with its function key (<c>?code=...</c>):
/// <c>POST /api/webhooks/spp</c> takes every event; <c>POST /api/webhooks/spp/{topic}</c> takes only its topic's
/// events, like Make's seven Watch modules. One function per route, so each SPP webhook can get a key of its own.
/// </summary>
public sealed class WebhookFunctions(WebhookIntake intake, ILogger<WebhookFunctions> logger)
{
    public const string Route = "webhooks/spp";

    [Function("SppWebhook")]
    public Task<IActionResult> All(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route)] HttpRequest request, CancellationToken cancellationToken) =>
        Accept(request, null, cancellationToken);

    [Function("SppWebhookOrders")]
    public Task<IActionResult> Orders(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route + "/orders")] HttpRequest request, CancellationToken cancellationToken) =>
        Accept(request, SppEventTopics.Orders, cancellationToken);

    [Function("SppWebhookForms")]
    public Task<IActionResult> Forms(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route + "/forms")] HttpRequest request, CancellationToken cancellationToken) =>
        Accept(request, SppEventTopics.Forms, cancellationToken);

    [Function("SppWebhookAccounts")]
    public Task<IActionResult> Accounts(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route + "/accounts")] HttpRequest request, CancellationToken cancellationToken) =>
        Accept(request, SppEventTopics.Accounts, cancellationToken);

    [Function("SppWebhookInvoices")]
    public Task<IActionResult> Invoices(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route + "/invoices")] HttpRequest request, CancellationToken cancellationToken) =>
        Accept(request, SppEventTopics.Invoices, cancellationToken);

    [Function("SppWebhookMessages")]
    public Task<IActionResult> Messages(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route + "/messages")] HttpRequest request, CancellationToken cancellationToken) =>
        Accept(request, SppEventTopics.Messages, cancellationToken);

    [Function("SppWebhookSubscriptions")]
    public Task<IActionResult> Subscriptions(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route + "/subscriptions")] HttpRequest request,
        CancellationToken cancellationToken) =>
        Accept(request, SppEventTopics.Subscriptions, cancellationToken);

    [Function("SppWebhookTickets")]
    public Task<IActionResult> Tickets(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Route + "/tickets")] HttpRequest request, CancellationToken cancellationToken) =>
        Accept(request, SppEventTopics.Tickets, cancellationToken);

    /// <summary>The one adapter all routes share (public so a test host can route to it).</summary>
    public async Task<IActionResult> Accept(HttpRequest request, string? topic, CancellationToken cancellationToken)
    {
        IntakeResult result;
        try
        {
            result = await intake.AcceptAsync(new WebhookRequest(request.ContentType, request.ContentLength, request.Body, topic), cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // A bug, not an outage (storage failures are answered 503 by the intake): an error with its stack, and 500.
            // Nothing was stored: the publisher rolled back what it had written.
            logger.LogError(ex, "Webhook intake failed unexpectedly");
            result = IntakeResult.Error(500, "The webhook could not be processed because of an internal error; it was not stored.", null);
        }
        return JsonResults.Create(request.HttpContext.Response, result.Status, result.Body, result.RetryAfter);
    }
}
