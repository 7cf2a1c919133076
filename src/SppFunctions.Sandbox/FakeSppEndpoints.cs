using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace SppFunctions.FakeSpp;

/// <summary>The SPP routes the fake serves (the §4 subset SppFunctions uses).</summary>
internal static class FakeSppEndpoints
{
    public static void Map(IEndpointRouteBuilder app, FakeSppStore store)
    {
        var api = app.MapGroup("/api");

        // Orders
        api.MapGet("/orders", (HttpRequest r) => List(r, store, () => store.LiveOrders));
        api.MapGet("/orders/{order}", (string order) => WithLock(store, () =>
            store.FindOrder(order) is { } o ? Ok(OrderDetail(store, o)) : NotFound("No query results for model [App\\Models\\Order].")));
        api.MapPost("/orders", (HttpRequest r) => CreateOrder(r, store));
        api.MapPut("/orders/{order}", (string order, HttpRequest r) => UpdateOrder(order, r, store));
        api.MapDelete("/orders/{order}", (string order) =>
            store.DeleteOrder(order) ? Results.StatusCode(204) : NotFound("No query results for model [App\\Models\\Order]."));

        // Order messages
        api.MapGet("/order_messages/{order}", (string order, HttpRequest r) => WithLock(store, () =>
            store.FindOrder(order) is { } o
                ? Paged(r, store.MessagesOf(o).Select(m => MessageView(m, o)))
                : NotFound("No query results for model [App\\Models\\Order].")));
        api.MapPost("/order_messages/{order}", (string order, HttpRequest r) => CreateOrderMessage(order, r, store));
        api.MapDelete("/order_messages/{message}", (string message) => WithLock(store, () =>
            long.TryParse(message, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && store.DeleteMessage(id)
                ? Results.StatusCode(204)
                : NotFound("No query results for model [App\\Models\\Message].")));

        // Invoices, subscriptions, tickets, clients, tags
        api.MapGet("/invoices", (HttpRequest r) => List(r, store, () => store.Invoices));
        api.MapGet("/invoices/{invoice}", (string invoice) => Get(store, () => FakeSppStore.Find(store.Invoices, invoice), "Invoice"));
        api.MapGet("/subscriptions", (HttpRequest r) => List(r, store, () => store.Subscriptions));
        api.MapGet("/subscriptions/{id}", (string id) => Get(store, () =>
            long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? store.Subscriptions.FirstOrDefault(s => s["id"]!.GetValue<long>() == n)
                : null, "Subscription"));
        api.MapGet("/tickets", (HttpRequest r) => List(r, store, () => store.Tickets));
        api.MapGet("/tickets/{ticket}", (string ticket) => WithLock(store, () =>
            FakeSppStore.Find(store.Tickets, ticket) is { } t
                ? Ok(WithMessages(t, store.TicketMessages(t)))
                : NotFound("No query results for model [App\\Models\\Ticket].")));
        api.MapGet("/ticket_messages/{ticket}", (string ticket, HttpRequest r) => WithLock(store, () =>
            FakeSppStore.Find(store.Tickets, ticket) is { } t
                ? Paged(r, store.TicketMessages(t))
                : NotFound("No query results for model [App\\Models\\Ticket].")));
        api.MapGet("/clients", (HttpRequest r) => List(r, store, () => store.Clients));
        api.MapGet("/clients/{user}", (string user) => Get(store, () =>
            long.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? store.Clients.FirstOrDefault(c => c["id"]!.GetValue<long>() == n)
                : null, "User"));
        api.MapGet("/tags", () => WithLock(store, () => Results.Content(
            new JsonArray(store.Tags.OrderByDescending(t => t["id"]!.GetValue<long>()).Select(t => (JsonNode)t.DeepClone()).ToArray()).ToJsonString(),
            "application/json")));
    }

    // ---- handlers ----

    private static IResult CreateOrderMessage(string order, HttpRequest request, FakeSppStore store)
    {
        var form = ReadBody(request, out var parseError);
        if (parseError is not null) return BadRequest(parseError);
        var errors = new JsonObject();
        var text = form.GetValueOrDefault("message");
        if (string.IsNullOrWhiteSpace(text)) errors["message"] = new JsonArray("The message field is required.");
        long? userId = null;
        if (form.GetValueOrDefault("user_id") is { Length: > 0 } u)
        {
            if (long.TryParse(u, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)) userId = parsed;
            else errors["user_id"] = new JsonArray("The user id must be an integer.");
        }
        var staffOnly = false;
        if (form.GetValueOrDefault("staff_only") is { Length: > 0 } s)
        {
            if (s is "1" or "true") staffOnly = true;
            else if (s is not ("0" or "false")) errors["staff_only"] = new JsonArray("The staff only field must be true or false.");
        }

        lock (store.Gate)
        {
            var o = store.FindOrder(order);
            if (o is null) return NotFound("No query results for model [App\\Models\\Order].");
            if (errors.Count > 0) return Validation(errors);
            var message = store.CreateMessage(o, text!, userId ?? store.ApiUserId ?? o["user_id"]!.GetValue<long>(), staffOnly);
            return Json(201, MessageView(message, o));
        }
    }

    private static IResult CreateOrder(HttpRequest request, FakeSppStore store)
    {
        var body = ReadBody(request, out var parseError);
        if (parseError is not null) return BadRequest(parseError);
        if (!long.TryParse(body.GetValueOrDefault("user_id"), NumberStyles.None, CultureInfo.InvariantCulture, out var userId)
            || store.GetClient(userId) is null)
        {
            return Validation(new JsonObject { ["user_id"] = new JsonArray("The selected user id is invalid.") });
        }
        var order = store.AddOrder(userId: userId, status: "Pending", customize: o =>
        {
            if (body.GetValueOrDefault("service") is { } service) o["service"] = service;
            if (body.GetValueOrDefault("note") is { } note) o["note"] = note;
        });
        lock (store.Gate) return Json(201, OrderDetail(store, store.FindOrder(order["id"]!.ToString())!));
    }

    private static IResult UpdateOrder(string key, HttpRequest request, FakeSppStore store)
    {
        JsonObject? body;
        try { body = JsonNode.Parse(new StreamReader(request.Body).ReadToEndAsync().GetAwaiter().GetResult()) as JsonObject; }
        catch (JsonException) { return BadRequest("Malformed JSON."); }
        if (body is null) return BadRequest("The body must be a JSON object.");

        lock (store.Gate)
        {
            var order = store.FindOrder(key);
            if (order is null) return NotFound("No query results for model [App\\Models\\Order].");
            var errors = new JsonObject();
            string? newStatus = null;
            if (body["status"] is JsonNode status)
            {
                if (status is JsonValue v && v.TryGetValue<int>(out var code) && FakeSppStore.OrderStatuses.TryGetValue(code, out var label))
                    newStatus = label;
                else errors["status"] = new JsonArray("The selected status is invalid.");
            }
            if (body["tags"] is JsonNode tags && tags is not JsonArray) errors["tags"] = new JsonArray("The tags must be an array.");
            if (body["note"] is JsonNode note && note.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Null))
                errors["note"] = new JsonArray("The note must be a string.");
            if (errors.Count > 0) return Validation(errors);

            if (newStatus is not null)
            {
                order["status"] = newStatus;
                if (newStatus == "Complete") order["date_completed"] = store.NowText();
            }
            if (body["tags"] is JsonArray newTags) order["tags"] = newTags.DeepClone();
            if (body.ContainsKey("note")) order["note"] = body["note"]?.DeepClone() ?? "";
            if (body["employees"] is JsonArray employees)
                order["employees"] = new JsonArray(employees.Select(e => (JsonNode)new JsonObject { ["id"] = e?.DeepClone() }).ToArray());
            order["updated_at"] = store.NowText();
            return Ok(OrderDetail(store, order));
        }
    }

    // ---- views ----

    private static JsonObject OrderDetail(FakeSppStore store, JsonObject order)
    {
        var detail = (JsonObject)order.DeepClone();
        detail["messages"] = new JsonArray(store.MessagesOf(order).Take(10).Select(m => (JsonNode)MessageView(m, null)).ToArray());
        return detail;
    }

    private static JsonObject MessageView(JsonObject message, JsonObject? order)
    {
        var view = (JsonObject)message.DeepClone();
        view.Remove("order_id");
        view["order"] = order is null ? null : new JsonObject
        {
            ["id"] = order["id"]!.DeepClone(), ["number"] = order["number"]!.DeepClone(), ["status"] = order["status"]!.DeepClone(),
        };
        return view;
    }

    private static JsonObject WithMessages(JsonObject resource, IEnumerable<JsonObject> messages)
    {
        var view = (JsonObject)resource.DeepClone();
        view["messages"] = new JsonArray(messages.Select(m => (JsonNode)m.DeepClone()).ToArray());
        return view;
    }

    // ---- helpers ----

    private static IResult List(HttpRequest request, FakeSppStore store, Func<IEnumerable<JsonObject>> items) =>
        WithLock(store, () => Paged(request, items()));

    private static IResult Paged(HttpRequest request, IEnumerable<JsonObject> items)
    {
        var page = FakeSppQuery.Paginate(request, items, out var error);
        return page is null ? BadRequest(error!) : Ok(page);
    }

    private static IResult Get(FakeSppStore store, Func<JsonObject?> find, string model) =>
        WithLock(store, () =>
            find() is { } item ? Ok((JsonObject)item.DeepClone()) : NotFound($"No query results for model [App\\Models\\{model}]."));

    private static IResult WithLock(FakeSppStore store, Func<IResult> action)
    {
        lock (store.Gate) return action();
    }

    /// <summary>Reads a JSON, form-urlencoded or multipart body into field → text.</summary>
    private static Dictionary<string, string?> ReadBody(HttpRequest request, out string? error)
    {
        error = null;
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (request.HasFormContentType)
        {
            var form = request.ReadFormAsync().GetAwaiter().GetResult();
            foreach (var (k, v) in form) fields[k] = v.ToString();
            return fields;
        }
        var text = new StreamReader(request.Body).ReadToEndAsync().GetAwaiter().GetResult();
        if (string.IsNullOrWhiteSpace(text)) return fields;
        try
        {
            if (JsonNode.Parse(text) is not JsonObject obj) { error = "The body must be a JSON object."; return fields; }
            foreach (var (k, v) in obj)
            {
                fields[k] = v switch
                {
                    null => null,
                    JsonValue value when value.GetValueKind() == JsonValueKind.True => "1",
                    JsonValue value when value.GetValueKind() == JsonValueKind.False => "0",
                    JsonValue value when value.TryGetValue<string>(out var s) => s,
                    _ => v.ToJsonString(),
                };
            }
        }
        catch (JsonException)
        {
            error = "Malformed JSON.";
        }
        return fields;
    }

    internal static IResult Ok(JsonNode body) => Json(200, body);

    internal static IResult Json(int status, JsonNode body) => Results.Content(body.ToJsonString(), "application/json", statusCode: status);

    internal static IResult NotFound(string message) => Json(404, new JsonObject { ["message"] = message });

    private static IResult BadRequest(string message) => Json(400, new JsonObject { ["message"] = message });

    private static IResult Validation(JsonObject errors)
    {
        var first = errors.First().Value![0]!.GetValue<string>();
        var more = errors.Count > 1 ? $" (and {errors.Count - 1} more error{(errors.Count > 2 ? "s" : "")})" : "";
        return Json(400, new JsonObject { ["message"] = first + more, ["errors"] = errors });
    }

    internal static async Task WriteJson(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }
}
