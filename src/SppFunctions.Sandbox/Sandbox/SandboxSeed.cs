using System.Text.Json.Nodes;
using SppFunctions.Events;
using SppFunctions.FakeSpp;

namespace SppFunctions.Sandbox;

/// <summary>What a seed put in the sandbox, for the banner.</summary>
public sealed record SandboxContents(int Clients, IReadOnlyList<string> Orders, int Invoices, int Subscriptions, int Tickets, int Messages)
{
    public override string ToString() =>
        $"{Clients} clients, {Orders.Count} orders ({string.Join(", ", Orders)}), {Invoices} invoices, {Subscriptions} subscriptions, " +
        $"{Tickets} tickets, {Messages} messages";
}

/// <summary>
/// The sandbox's sample workspace, built from the same shapes as <see cref="SampleWebhooks"/> (API style), so the
/// samples <c>sppfn send</c> posts name resources that exist: variant 0 is client 12 Jane Doe with order 666AF315,
/// invoice E4A269FC and ticket A1B2C300, variants 1 and 2 the next numbers. Order 666AF315 has a short conversation.
/// </summary>
public static class SandboxSeed
{
    /// <summary>How many sample variants are seeded (<c>sppfn send --count</c> up to this finds its orders).</summary>
    public const int Variants = 3;

    /// <summary>The staff member seeded messages are posted as, and the API key's user (the app's messages).</summary>
    public const long StaffUserId = 1;

    private static readonly string[] OrderStatuses = ["Working", "Pending", "Submitted"];

    public static SandboxContents Apply(FakeSppStore store, DateTimeOffset now)
    {
        store.ApiUserId = StaffUserId;
        var orders = new List<string>();
        var messages = 0;
        for (var variant = 0; variant < Variants; variant++)
        {
            var at = now.AddDays(variant - Variants);
            var order = SampleWebhooks.Data("order.created", SampleStyle.Api, variant, at);
            order["status"] = OrderStatuses[variant];
            store.Import(FakeSppResource.Client, (JsonObject)order["client"]!.DeepClone());
            store.Import(FakeSppResource.Order, order);
            orders.Add(order["number"]!.GetValue<string>());

            store.Import(FakeSppResource.Invoice,
                SampleWebhooks.Data(variant == 0 ? "invoice.paid" : "invoice.created", SampleStyle.Api, variant, at));
            store.Import(FakeSppResource.Subscription, SampleWebhooks.Data("subscription.paid", SampleStyle.Api, variant, at));
            var ticket = SampleWebhooks.Data("ticket.created", SampleStyle.Api, variant, at);
            ticket["last_message_at"] = null;
            store.Import(FakeSppResource.Ticket, ticket);
            store.AddTicketMessage(ticket["number"]!.GetValue<string>(), "<p>The download link in my invoice does not work.</p>");
            messages++;
        }

        var first = orders[0];
        store.AddOrderMessage(first, "<p>Hi! Here is my brief: a modern logo in blue and white.</p>", createdAt: now.AddDays(-2));
        store.AddOrderMessage(first, "<p>Thanks Jane, we are on it. First drafts by Friday.</p>", StaffUserId, createdAt: now.AddDays(-1));
        store.AddOrderMessage(first, "<p>Internal: client prefers navy over royal blue.</p>", StaffUserId, staffOnly: true,
            createdAt: now.AddDays(-1).AddMinutes(5));
        messages += 3;
        return new SandboxContents(Variants, orders, Variants, Variants, Variants, messages);
    }
}
