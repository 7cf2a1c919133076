namespace SppFunctions.Events;

/// <summary>A webhook event name SPP may send (shared/spp-api.md §6.5).</summary>
public sealed record KnownEvent(string Name, string Topic, bool Confirmed, string Trigger);

/// <summary>
/// The event catalogue: names confirmed by SPP's help centre and the names inferred from Make's Watch modules.
/// Inferred names are guesses until captured from a live workspace; the app accepts any name anyway.
/// </summary>
public static class EventCatalog
{
    /// <summary>The event the poller emits for a new order message.</summary>
    public const string OrderMessageCreated = "order_message.created";

    public static readonly IReadOnlyList<KnownEvent> All = new KnownEvent[]
    {
        new("order.created", SppEventTopics.Orders, true, "order created"),
        new("order.status_changed", SppEventTopics.Orders, false, "order status changed"),
        new("order.updated", SppEventTopics.Orders, false, "order status changed"),
        new("order.tagged", SppEventTopics.Orders, false, "order tagged"),
        new("form.submitted", SppEventTopics.Forms, false, "form submitted"),
        new("client.created", SppEventTopics.Accounts, false, "account created"),
        new("account.created", SppEventTopics.Accounts, false, "account created"),
        new("client.deleted", SppEventTopics.Accounts, false, "account deleted"),
        new("account.deleted", SppEventTopics.Accounts, false, "account deleted"),
        new("invoice.created", SppEventTopics.Invoices, false, "invoice created"),
        new("invoice.paid", SppEventTopics.Invoices, true, "invoice paid"),
        new("invoice.refunded", SppEventTopics.Invoices, false, "invoice refunded"),
        new("message.created", SppEventTopics.Messages, false, "message posted"),
        new(OrderMessageCreated, SppEventTopics.Messages, false, "message posted"),
        new("message.posted", SppEventTopics.Messages, false, "message posted"),
        new("subscription.paid", SppEventTopics.Subscriptions, false, "subscription paid"),
        new("subscription.failed", SppEventTopics.Subscriptions, false, "subscription failed"),
        new("subscription.payment_failed", SppEventTopics.Subscriptions, false, "subscription failed"),
        new("subscription.canceled", SppEventTopics.Subscriptions, false, "subscription canceled"),
        new("subscription.cancelled", SppEventTopics.Subscriptions, false, "subscription canceled"),
        new("ticket.created", SppEventTopics.Tickets, false, "ticket created"),
    };
}
