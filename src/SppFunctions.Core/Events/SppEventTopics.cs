namespace SppFunctions.Events;

/// <summary>
/// The Watch topics of Make's SPP app, and how an event name maps to one. Event names are data (only
/// <c>order.created</c> and <c>invoice.paid</c> are confirmed), so the part before the dot decides; unknown names
/// belong to <see cref="Other"/> and are still accepted.
/// </summary>
public static class SppEventTopics
{
    public const string Orders = "orders";
    public const string Forms = "forms";
    public const string Accounts = "accounts";
    public const string Invoices = "invoices";
    public const string Messages = "messages";
    public const string Subscriptions = "subscriptions";
    public const string Tickets = "tickets";
    public const string Other = "other";

    /// <summary>The topics that have a webhook route of their own (Make's seven Watch modules).</summary>
    public static readonly IReadOnlyList<string> Routed = new[] { Orders, Forms, Accounts, Invoices, Messages, Subscriptions, Tickets };

    /// <summary>The topic of an event name: <c>order.created</c> → orders, <c>order_message.created</c> → messages.</summary>
    public static string Classify(string eventName)
    {
        var dot = eventName.IndexOf('.');
        var noun = (dot < 0 ? eventName : eventName[..dot]).ToLowerInvariant();
        if (noun == "message" || noun.EndsWith("_message", StringComparison.Ordinal) || noun.EndsWith("_messages", StringComparison.Ordinal))
            return Messages;
        return noun switch
        {
            "order" or "orders" => Orders,
            "form" or "forms" or "form_data" => Forms,
            "client" or "clients" or "account" or "accounts" or "user" => Accounts,
            "invoice" or "invoices" => Invoices,
            "subscription" or "subscriptions" => Subscriptions,
            "ticket" or "tickets" => Tickets,
            _ => Other,
        };
    }

    public static bool IsRouted(string topic) => Routed.Contains(topic);
}
