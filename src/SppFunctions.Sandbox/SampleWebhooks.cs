using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace SppFunctions.Events;

/// <summary>Which shape of <c>data</c> a sample carries.</summary>
public enum SampleStyle
{
    /// <summary>
    /// SPP's old-style (v1) webhook objects, as the help centre's example shows: an order's <c>id</c> is its hex number
    /// as a string, <c>date_added</c> with a <c>+0000</c> offset, <c>status</c> as a label, a nested <c>client{id,name,email}</c>.
    /// </summary>
    Webhook,

    /// <summary>The current API resources (shared/spp-api.md §5): integer ids, a separate <c>number</c>, <c>created_at</c>.</summary>
    Api,
}

/// <summary>
/// Realistic sample SPP webhooks for every event of <see cref="EventCatalog.All"/> (and a generic one for any other
/// name): the envelope <c>{event, created, token, data}</c> and a <c>data</c> object per event. Only <c>order.created</c>
/// and <c>invoice.paid</c> and the old-style order are documented by SPP; the other shapes follow the same conventions
/// and are guesses until captured from a live workspace. Used by the CLI's <c>send</c> command and by the tests.
/// </summary>
public static class SampleWebhooks
{
    /// <summary>A fixed <c>created</c> (2025-11-29T08:00:00Z) for reproducible samples.</summary>
    public const long Created = 1764403200;

    /// <summary>The order number of SPP's own example; variant 0 of every order-shaped sample uses it.</summary>
    public const string OrderNumber = "666AF315";

    /// <summary>The invoice number variant 0 of invoice and subscription samples uses.</summary>
    public const string InvoiceNumber = "E4A269FC";

    /// <summary>The names of every catalogue event, in catalogue order.</summary>
    public static IReadOnlyList<string> EventNames { get; } = EventCatalog.All.Select(e => e.Name).ToArray();

    /// <summary>The envelope SPP posts. <paramref name="data"/> defaults to <see cref="Data"/> of the event; no token leaves it out.</summary>
    public static JsonObject Envelope(string eventName, string? token, long created = Created, JsonNode? data = null)
    {
        var envelope = new JsonObject { ["event"] = eventName, ["created"] = created };
        if (token is not null) envelope["token"] = token;
        envelope["data"] = data?.DeepClone() ?? Data(eventName, at: DateTimeOffset.FromUnixTimeSeconds(created));
        return envelope;
    }

    /// <summary>The envelope as the UTF-8 JSON bytes SPP sends.</summary>
    public static byte[] Body(string eventName, string? token, long created = Created, JsonNode? data = null) =>
        Encoding.UTF8.GetBytes(Envelope(eventName, token, created, data).ToJsonString());

    /// <summary>
    /// A <c>data</c> object for the event. <paramref name="variant"/> shifts every id and number (0 gives the canonical
    /// sample: order 666AF315, client 12 Jane Doe), so a series of samples are distinct events rather than redeliveries.
    /// <paramref name="at"/> is the resource's time (default <see cref="Created"/>).
    /// </summary>
    public static JsonObject Data(string eventName, SampleStyle style = SampleStyle.Webhook, int variant = 0, DateTimeOffset? at = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        ArgumentOutOfRangeException.ThrowIfNegative(variant);
        var s = new Sample(style, variant, at ?? DateTimeOffset.FromUnixTimeSeconds(Created));
        var verb = eventName.Contains('.') ? eventName[(eventName.IndexOf('.') + 1)..].ToLowerInvariant() : "";
        return SppEventTopics.Classify(eventName) switch
        {
            SppEventTopics.Orders => s.Order(verb switch
            {
                "created" => "Pending",
                "status_changed" or "updated" => "Working",
                "completed" => "Complete",
                _ => "Submitted",
            }, tagged: verb == "tagged"),
            SppEventTopics.Forms => s.Order("Submitted", tagged: false, formData: true),
            SppEventTopics.Accounts => s.Client(deleted: verb == "deleted"),
            SppEventTopics.Invoices => s.Invoice(verb switch { "paid" => "Paid", "refunded" => "Refunded", _ => "Unpaid" }),
            SppEventTopics.Messages => s.Message(),
            SppEventTopics.Subscriptions => s.Subscription(verb switch
            {
                "paid" => "Active",
                "failed" or "payment_failed" => "Past due",
                "canceled" or "cancelled" => "Canceled",
                _ => "Active",
            }),
            SppEventTopics.Tickets => s.Ticket(),
            _ => new JsonObject { ["id"] = 1 + variant },
        };
    }

    /// <summary>Builds the objects of one sample; every id is offset by the variant.</summary>
    private sealed class Sample(SampleStyle style, int variant, DateTimeOffset at)
    {
        private bool Old => style == SampleStyle.Webhook;

        private long ClientId => 12 + variant;
        private long OrderId => 1042 + variant;
        private string OrderNo => Hex(0x666AF315, variant);
        private long InvoiceId => 41 + variant;
        private string InvoiceNo => Hex(0xE4A269FC, variant);

        private static string Hex(uint start, int variant) => unchecked(start + (uint)variant).ToString("X8", CultureInfo.InvariantCulture);

        /// <summary>SPP's old webhook date: <c>2010-12-30T15:00:00+0000</c>.</summary>
        private static string OldDate(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "+0000";

        /// <summary>The API's date: <c>2021-09-01T00:00:00+00:00</c>.</summary>
        private static string ApiDate(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "+00:00";

        private string Name => variant == 0 ? "Jane Doe" : $"Jane Doe {variant}";
        private string Email => variant == 0 ? "jane.doe@example.com" : $"jane.doe+{variant}@example.com";

        private JsonObject ClientRef() => Old
            ? new JsonObject { ["id"] = ClientId, ["name"] = Name, ["email"] = Email }
            : FullClient();

        private JsonObject FullClient() => new()
        {
            ["id"] = ClientId,
            ["name_f"] = "Jane",
            ["name_l"] = variant == 0 ? "Doe" : $"Doe {variant}",
            ["name"] = Name,
            ["email"] = Email,
            ["company"] = "Example Co",
            ["phone"] = "+1 555 0100",
            ["balance"] = "0.00",
            ["status"] = 1,
            ["role_id"] = 2,
            ["custom_fields"] = new JsonArray(),
            ["address"] = new JsonObject { ["line_1"] = "1 Main St", ["city"] = "Springfield", ["country"] = "US", ["postcode"] = "12345" },
            ["created_at"] = ApiDate(at.AddDays(-30)),
        };

        public JsonObject Order(string status, bool tagged, bool formData = false)
        {
            var tags = tagged ? new JsonArray("vip", "rush") : new JsonArray();
            var form = formData
                ? new JsonObject { ["Website"] = "https://example.com", ["Brief"] = "A modern logo in blue and white.", ["Deadline"] = "2025-12-15" }
                : null;
            if (Old)
            {
                var order = new JsonObject
                {
                    ["id"] = OrderNo,
                    ["service"] = "Logo design",
                    ["status"] = status,
                    ["price"] = "99.00",
                    ["date_added"] = OldDate(at),
                    ["date_completed"] = status == "Complete" ? OldDate(at) : null,
                    ["tags"] = tags,
                    ["client"] = ClientRef(),
                };
                if (form is not null) order["form_data"] = form;
                return order;
            }
            return new JsonObject
            {
                ["id"] = OrderId,
                ["number"] = OrderNo,
                ["status"] = status,
                ["user_id"] = ClientId,
                ["client"] = FullClient(),
                ["tags"] = tags,
                ["price"] = 99.0,
                ["quantity"] = 1,
                ["currency"] = "USD",
                ["invoice_id"] = InvoiceId,
                ["service"] = "Logo design",
                ["service_id"] = 7,
                ["employees"] = new JsonArray(),
                ["note"] = "",
                ["form_data"] = form ?? new JsonObject(),
                ["paysys"] = "Stripe",
                ["created_at"] = ApiDate(at),
                ["updated_at"] = ApiDate(at),
                ["last_message_at"] = null,
                ["date_started"] = ApiDate(at),
                ["date_completed"] = status == "Complete" ? ApiDate(at) : null,
                ["date_due"] = null,
            };
        }

        public JsonObject Client(bool deleted)
        {
            if (Old)
            {
                var client = new JsonObject
                {
                    ["id"] = ClientId,
                    ["name_f"] = "Jane",
                    ["name_l"] = variant == 0 ? "Doe" : $"Doe {variant}",
                    ["name"] = Name,
                    ["email"] = Email,
                    ["company"] = "Example Co",
                    ["date_added"] = OldDate(at),
                };
                if (deleted) client["date_deleted"] = OldDate(at);
                return client;
            }
            var full = FullClient();
            full["created_at"] = ApiDate(at);
            if (deleted) full["deleted_at"] = ApiDate(at);
            return full;
        }

        public JsonObject Invoice(string status)
        {
            var paid = status is "Paid" or "Refunded";
            var item = new JsonObject
            {
                ["name"] = "Logo design", ["quantity"] = 1, ["amount"] = "99.00", ["discount"] = "0.00", ["total"] = "99.00",
            };
            if (Old)
            {
                return new JsonObject
                {
                    ["id"] = InvoiceId,
                    ["number"] = InvoiceNo,
                    ["status"] = status,
                    ["total"] = "99.00",
                    ["currency"] = "USD",
                    ["date_added"] = OldDate(at),
                    ["date_paid"] = paid ? OldDate(at) : null,
                    ["items"] = new JsonArray(item),
                    ["client"] = ClientRef(),
                };
            }
            item["id"] = 9000 + variant;
            item["invoice_id"] = InvoiceId;
            item["order_id"] = OrderId;
            return new JsonObject
            {
                ["id"] = InvoiceId,
                ["number"] = InvoiceNo,
                ["number_prefix"] = "SPP-",
                ["client"] = FullClient(),
                ["items"] = new JsonArray(item),
                ["status"] = status,
                ["status_id"] = status switch { "Paid" => 2, "Refunded" => 4, _ => 1 },
                ["created_at"] = ApiDate(at),
                ["date_due"] = null,
                ["date_paid"] = paid ? ApiDate(at) : null,
                ["subtotal"] = 99.0,
                ["tax"] = 0,
                ["total"] = 99.0,
                ["currency"] = "USD",
                ["paysys"] = "Stripe",
            };
        }

        public JsonObject Message()
        {
            var id = 1001 + variant;
            var text = variant == 0
                ? "<p>Hello, is there any update on my order?</p>"
                : $"<p>Hello, is there any update on my order? ({variant})</p>";
            if (Old)
            {
                return new JsonObject
                {
                    ["id"] = id,
                    ["message"] = text,
                    ["user_id"] = ClientId,
                    ["staff_only"] = 0,
                    ["date_added"] = OldDate(at),
                    ["files"] = new JsonArray(),
                    ["order_id"] = OrderNo,
                    ["order"] = new JsonObject { ["id"] = OrderNo, ["service"] = "Logo design", ["status"] = "Working" },
                    ["client"] = ClientRef(),
                };
            }
            return new JsonObject
            {
                ["id"] = id,
                ["user_id"] = ClientId,
                ["created_at"] = ApiDate(at),
                ["message"] = text,
                ["staff_only"] = false,
                ["files"] = new JsonArray(),
                ["order_id"] = OrderId,
                ["order"] = new JsonObject { ["id"] = OrderId, ["number"] = OrderNo, ["status"] = "Working", ["user_id"] = ClientId },
                ["ticket"] = null,
            };
        }

        public JsonObject Subscription(string status)
        {
            var id = 7 + variant;
            if (Old)
            {
                return new JsonObject
                {
                    ["id"] = id,
                    ["status"] = status,
                    ["invoice_id"] = InvoiceNo,
                    ["service"] = "SEO retainer",
                    ["price"] = "299.00",
                    ["date_added"] = OldDate(at.AddMonths(-2)),
                    ["next_payment"] = status == "Canceled" ? null : OldDate(at.AddMonths(1)),
                    ["client"] = ClientRef(),
                };
            }
            return new JsonObject
            {
                ["id"] = id,
                ["number"] = Hex(0x5B5C1200, variant),
                ["invoice_id"] = InvoiceNo,
                ["status"] = status,
                ["processor_id"] = $"sub_{id}",
                ["current_period_end"] = ApiDate(at.AddMonths(1)),
                ["payments"] = new JsonArray(new JsonObject
                {
                    ["invoice_id"] = InvoiceId, ["created_at"] = ApiDate(at), ["amount"] = "299.00", ["paysys"] = "Stripe",
                }),
                ["orders"] = new JsonArray(OrderNo),
                ["payment_count"] = 3,
                ["client"] = FullClient(),
            };
        }

        public JsonObject Ticket()
        {
            var id = 3 + variant;
            var number = Hex(0xA1B2C300, variant);
            if (Old)
            {
                return new JsonObject
                {
                    ["id"] = number,
                    ["subject"] = "Broken download link",
                    ["status"] = "Open",
                    ["user_id"] = ClientId,
                    ["message"] = "<p>The download link in my invoice does not work.</p>",
                    ["date_added"] = OldDate(at),
                    ["client"] = ClientRef(),
                };
            }
            return new JsonObject
            {
                ["id"] = id,
                ["number"] = number,
                ["subject"] = "Broken download link",
                ["user_id"] = ClientId,
                ["client"] = FullClient(),
                ["status"] = "Open",
                ["source"] = "Email",
                ["tags"] = new JsonArray(),
                ["note"] = "",
                ["form_data"] = new JsonObject(),
                ["employees"] = new JsonArray(),
                ["order_id"] = null,
                ["created_at"] = ApiDate(at),
                ["updated_at"] = ApiDate(at),
                ["last_message_at"] = ApiDate(at),
                ["date_closed"] = null,
            };
        }
    }
}
