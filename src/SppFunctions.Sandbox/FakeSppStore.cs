using System.Globalization;
using System.Text.Json.Nodes;

namespace SppFunctions.FakeSpp;

/// <summary>
/// The fake workspace's data. Resources are kept as JSON objects shaped like SPP's API resources (§5 of the
/// reference). Orders, invoices and tickets have an integer <c>id</c> and a hex <c>number</c>; paths accept either.
/// Thread-safe: every access takes one lock.
/// </summary>
public sealed partial class FakeSppStore
{
    /// <summary>Order status integers (write side) and the labels SPP reads back. SPP's mapping is per workspace; this is the fake's.</summary>
    public static readonly IReadOnlyDictionary<int, string> OrderStatuses = new Dictionary<int, string>
    {
        [0] = "Unpaid", [1] = "Pending", [2] = "Submitted", [3] = "Working", [4] = "Complete", [5] = "Cancelled",
    };

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly List<JsonObject> _orders = new();
    private readonly List<JsonObject> _messages = new();
    private readonly List<JsonObject> _invoices = new();
    private readonly List<JsonObject> _subscriptions = new();
    private readonly List<JsonObject> _tickets = new();
    private readonly List<JsonObject> _clients = new();
    private readonly List<JsonObject> _tags = new();
    private long _nextId = 1;
    private long _nextMessageId = 1000;
    private long _nextNumber = 0xE4A26900;

    public FakeSppStore(TimeProvider time) => _time = time;

    internal object Gate => _gate;

    /// <summary>Formats a date the way SPP's API does: <c>2021-09-01T00:00:00+00:00</c>.</summary>
    public static string FormatDate(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private string Now() => FormatDate(_time.GetUtcNow());

    private string NextNumber() => (_nextNumber++).ToString("X8", CultureInfo.InvariantCulture);

    // ---- clients ----

    /// <summary>Adds a client account and returns a copy of it.</summary>
    public JsonObject AddClient(string? email = null, string nameF = "Jane", string nameL = "Doe", Action<JsonObject>? customize = null)
    {
        lock (_gate)
        {
            var id = _nextId++;
            var client = new JsonObject
            {
                ["id"] = id,
                ["name_f"] = nameF,
                ["name_l"] = nameL,
                ["name"] = $"{nameF} {nameL}",
                ["email"] = email ?? $"client{id}@example.com",
                ["company"] = "Example Co",
                ["phone"] = "+1 555 0100",
                ["balance"] = "0.00",
                ["spent"] = "0.00",
                ["status"] = 1,
                ["role_id"] = 2,
                ["custom_fields"] = new JsonArray(),
                ["address"] = new JsonObject { ["line_1"] = "1 Main St", ["city"] = "Springfield", ["country"] = "US", ["postcode"] = "12345" },
                ["created_at"] = Now(),
            };
            customize?.Invoke(client);
            _clients.Add(client);
            return (JsonObject)client.DeepClone();
        }
    }

    // ---- orders ----

    /// <summary>Adds an order (with a new client unless <paramref name="userId"/> names one) and returns a copy.</summary>
    public JsonObject AddOrder(string status = "Working", long? userId = null, Action<JsonObject>? customize = null)
    {
        var client = userId is { } uid ? GetClient(uid) ?? AddClient() : AddClient();
        lock (_gate)
        {
            var now = Now();
            var order = new JsonObject
            {
                ["id"] = _nextId++,
                ["number"] = NextNumber(),
                ["status"] = status,
                ["user_id"] = client["id"]!.GetValue<long>(),
                ["client"] = client.DeepClone(),
                ["tags"] = new JsonArray(),
                ["price"] = 99.0,
                ["quantity"] = 1,
                ["currency"] = "USD",
                ["invoice_id"] = null,
                ["service"] = "Logo design",
                ["service_id"] = 7,
                ["employees"] = new JsonArray(),
                ["note"] = "",
                ["form_data"] = new JsonArray(),
                ["metadata"] = new JsonArray(),
                ["paysys"] = "Stripe",
                ["created_at"] = now,
                ["updated_at"] = now,
                ["last_message_at"] = null,
                ["date_started"] = now,
                ["date_completed"] = null,
                ["date_due"] = null,
            };
            customize?.Invoke(order);
            _orders.Add(order);
            return (JsonObject)order.DeepClone();
        }
    }

    /// <summary>A copy of the order with this id or number, or null (also for deleted orders).</summary>
    public JsonObject? GetOrder(string key)
    {
        lock (_gate) return (JsonObject?)FindOrder(key)?.DeepClone();
    }

    /// <summary>All live orders (copies).</summary>
    public IReadOnlyList<JsonObject> Orders
    {
        get { lock (_gate) return _orders.Where(o => o["deleted_at"] is null).Select(o => (JsonObject)o.DeepClone()).ToList(); }
    }

    /// <summary>Soft-deletes an order: later calls on it answer 404.</summary>
    public bool DeleteOrder(string key)
    {
        lock (_gate)
        {
            var order = FindOrder(key);
            if (order is null) return false;
            order["deleted_at"] = Now();
            return true;
        }
    }

    /// <summary>Sets an order's status label (as the SPP admin would).</summary>
    public void SetOrderStatus(string key, string status)
    {
        lock (_gate)
        {
            var order = FindOrder(key) ?? throw new KeyNotFoundException($"No order {key}.");
            order["status"] = status;
            order["updated_at"] = Now();
        }
    }

    internal JsonObject? FindOrder(string key) =>
        Find(_orders, key) is { } o && o["deleted_at"] is null ? o : null;

    internal IEnumerable<JsonObject> LiveOrders => _orders.Where(o => o["deleted_at"] is null);

    // ---- order messages ----

    /// <summary>Posts a message on an order (as a client or staff member would in SPP) and returns a copy.</summary>
    public JsonObject AddOrderMessage(string orderKey, string message, long? userId = null, bool staffOnly = false, DateTimeOffset? createdAt = null)
    {
        lock (_gate)
        {
            var order = FindOrder(orderKey) ?? throw new KeyNotFoundException($"No order {orderKey}.");
            return (JsonObject)CreateMessage(order, message, userId ?? order["user_id"]!.GetValue<long>(), staffOnly, createdAt).DeepClone();
        }
    }

    internal JsonObject CreateMessage(JsonObject order, string text, long userId, bool staffOnly, DateTimeOffset? createdAt = null)
    {
        var at = FormatDate(createdAt ?? _time.GetUtcNow());
        var message = new JsonObject
        {
            ["id"] = _nextMessageId++,
            ["user_id"] = userId,
            ["created_at"] = at,
            ["message"] = text,
            ["staff_only"] = staffOnly,
            ["files"] = new JsonArray(),
            ["order_id"] = order["id"]!.GetValue<long>(),
            ["ticket"] = null,
        };
        _messages.Add(message);
        order["last_message_at"] = at;
        order["updated_at"] = at;
        return message;
    }

    /// <summary>An order's messages, newest first (copies).</summary>
    public IReadOnlyList<JsonObject> GetOrderMessages(string orderKey)
    {
        lock (_gate)
        {
            var order = FindOrder(orderKey);
            if (order is null) return Array.Empty<JsonObject>();
            return MessagesOf(order).Select(m => (JsonObject)m.DeepClone()).ToList();
        }
    }

    /// <summary>Every order message in the workspace (copies).</summary>
    public IReadOnlyList<JsonObject> AllOrderMessages
    {
        get { lock (_gate) return _messages.Where(m => m["order_id"] is not null).Select(m => (JsonObject)m.DeepClone()).ToList(); }
    }

    internal IEnumerable<JsonObject> MessagesOf(JsonObject order)
    {
        var id = order["id"]!.GetValue<long>();
        return _messages.Where(m => m["order_id"] is JsonValue v && v.GetValue<long>() == id)
            .OrderByDescending(m => m["created_at"]!.GetValue<string>(), StringComparer.Ordinal)
            .ThenByDescending(m => m["id"]!.GetValue<long>());
    }

    internal bool DeleteMessage(long messageId)
    {
        var message = _messages.FirstOrDefault(m => m["id"]!.GetValue<long>() == messageId);
        if (message is null) return false;
        _messages.Remove(message);
        return true;
    }

    /// <summary>Deletes a message as an SPP user would in the UI.</summary>
    public bool DeleteOrderMessage(long messageId)
    {
        lock (_gate) return DeleteMessage(messageId);
    }

    // ---- invoices, subscriptions, tickets, tags ----

    /// <summary>Adds an invoice and returns a copy.</summary>
    public JsonObject AddInvoice(string status = "Unpaid", decimal total = 99m, long? userId = null)
    {
        var client = userId is { } uid ? GetClient(uid) ?? AddClient() : AddClient();
        lock (_gate)
        {
            var invoice = new JsonObject
            {
                ["id"] = _nextId++,
                ["number"] = NextNumber(),
                ["number_prefix"] = "SPP-",
                ["client"] = client.DeepClone(),
                ["user_id"] = client["id"]!.GetValue<long>(),
                ["items"] = new JsonArray(new JsonObject
                {
                    ["id"] = _nextId++, ["name"] = "Logo design", ["quantity"] = 1,
                    ["amount"] = total.ToString("0.00", CultureInfo.InvariantCulture),
                    ["discount"] = "0.00", ["total"] = total.ToString("0.00", CultureInfo.InvariantCulture), ["options"] = new JsonArray(),
                }),
                ["status"] = status,
                ["status_id"] = status == "Paid" ? 2 : 1,
                ["created_at"] = Now(),
                ["date_due"] = null,
                ["date_paid"] = status == "Paid" ? Now() : null,
                ["subtotal"] = total,
                ["tax"] = 0,
                ["total"] = total,
                ["currency"] = "USD",
                ["recurring"] = new JsonArray(),
                ["paysys"] = "Stripe",
            };
            _invoices.Add(invoice);
            return (JsonObject)invoice.DeepClone();
        }
    }

    /// <summary>Adds a subscription and returns a copy.</summary>
    public JsonObject AddSubscription(string status = "Active")
    {
        var client = AddClient();
        lock (_gate)
        {
            var subscription = new JsonObject
            {
                ["id"] = _nextId++,
                ["number"] = NextNumber(),
                ["invoice_id"] = NextNumber(),
                ["status"] = status,
                ["processor_id"] = "sub_123",
                ["current_period_end"] = FormatDate(_time.GetUtcNow().AddMonths(1)),
                ["payments"] = new JsonArray(),
                ["orders"] = new JsonArray(),
                ["payment_count"] = 1,
                ["client"] = client.DeepClone(),
                ["created_at"] = Now(),
            };
            _subscriptions.Add(subscription);
            return (JsonObject)subscription.DeepClone();
        }
    }

    /// <summary>Adds a ticket and returns a copy.</summary>
    public JsonObject AddTicket(string subject = "Help needed", string status = "Open")
    {
        var client = AddClient();
        lock (_gate)
        {
            var now = Now();
            var ticket = new JsonObject
            {
                ["id"] = _nextId++,
                ["number"] = NextNumber(),
                ["subject"] = subject,
                ["user_id"] = client["id"]!.GetValue<long>(),
                ["client"] = client.DeepClone(),
                ["status"] = status,
                ["source"] = "Email",
                ["tags"] = new JsonArray(),
                ["note"] = "",
                ["form_data"] = new JsonArray(),
                ["metadata"] = new JsonArray(),
                ["employees"] = new JsonArray(),
                ["order_id"] = null,
                ["created_at"] = now,
                ["updated_at"] = now,
                ["last_message_at"] = null,
                ["date_closed"] = null,
            };
            _tickets.Add(ticket);
            return (JsonObject)ticket.DeepClone();
        }
    }

    /// <summary>Posts a message on a ticket and returns a copy.</summary>
    public JsonObject AddTicketMessage(string ticketKey, string text, bool staffOnly = false)
    {
        lock (_gate)
        {
            var ticket = Find(_tickets, ticketKey) ?? throw new KeyNotFoundException($"No ticket {ticketKey}.");
            var at = Now();
            var message = new JsonObject
            {
                ["id"] = _nextMessageId++,
                ["user_id"] = ticket["user_id"]!.GetValue<long>(),
                ["created_at"] = at,
                ["message"] = text,
                ["staff_only"] = staffOnly,
                ["files"] = new JsonArray(),
                ["order"] = null,
                ["ticket_id"] = ticket["id"]!.GetValue<long>(),
            };
            _messages.Add(message);
            ticket["last_message_at"] = at;
            return (JsonObject)message.DeepClone();
        }
    }

    /// <summary>Adds a tag.</summary>
    public void AddTag(string name)
    {
        lock (_gate) _tags.Add(new JsonObject { ["id"] = _nextId++, ["name"] = name, ["created_at"] = Now(), ["updated_at"] = Now() });
    }

    public JsonObject? GetClient(long id)
    {
        lock (_gate) return (JsonObject?)_clients.FirstOrDefault(c => c["id"]!.GetValue<long>() == id)?.DeepClone();
    }

    internal List<JsonObject> Invoices => _invoices;
    internal List<JsonObject> Subscriptions => _subscriptions;
    internal List<JsonObject> Tickets => _tickets;
    internal List<JsonObject> Clients => _clients;
    internal List<JsonObject> Tags => _tags;

    internal IEnumerable<JsonObject> TicketMessages(JsonObject ticket)
    {
        var id = ticket["id"]!.GetValue<long>();
        return _messages.Where(m => m["ticket_id"] is JsonValue v && v.GetValue<long>() == id)
            .OrderByDescending(m => m["created_at"]!.GetValue<string>(), StringComparer.Ordinal)
            .ThenByDescending(m => m["id"]!.GetValue<long>());
    }

    /// <summary>Finds by integer id or by number (case-insensitive), as SPP's route binding does.</summary>
    internal static JsonObject? Find(List<JsonObject> items, string key) =>
        long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? items.FirstOrDefault(i => i["id"]!.GetValue<long>() == id)
                ?? items.FirstOrDefault(i => string.Equals(i["number"]?.GetValue<string>(), key, StringComparison.OrdinalIgnoreCase))
            : items.FirstOrDefault(i => string.Equals(i["number"]?.GetValue<string>(), key, StringComparison.OrdinalIgnoreCase));

    internal string NowText() => Now();
}
