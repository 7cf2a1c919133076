using System.Globalization;
using System.Text.Json.Nodes;

namespace SppFunctions.FakeSpp;

/// <summary>The kinds of resource <see cref="FakeSppStore.Import"/> puts in as they are.</summary>
public enum FakeSppResource
{
    Client,
    Order,
    Invoice,
    Subscription,
    Ticket,
}

public sealed partial class FakeSppStore
{
    /// <summary>
    /// The author of a message posted through the API without <c>user_id</c>: SPP takes the API key's user (a staff
    /// member). Null keeps the tests' simplification, the order's client.
    /// </summary>
    public long? ApiUserId { get; set; }

    /// <summary>
    /// Puts a resource in as it is, with its own integer <c>id</c> and hex <c>number</c> (a seed such as the sandbox's
    /// sample data). Ids and numbers the store hands out later start above every imported one, so they never collide.
    /// </summary>
    public void Import(FakeSppResource kind, JsonObject resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        // Through text: the endpoints read ids as long, which values built from ints would refuse.
        var copy = JsonNode.Parse(resource.ToJsonString())!.AsObject();
        if (copy["id"] is not JsonValue idValue || !idValue.TryGetValue<long>(out var id))
        {
            throw new ArgumentException($"A {kind} to import needs an integer id.", nameof(resource));
        }
        lock (_gate)
        {
            var list = kind switch
            {
                FakeSppResource.Client => _clients,
                FakeSppResource.Order => _orders,
                FakeSppResource.Invoice => _invoices,
                FakeSppResource.Subscription => _subscriptions,
                _ => _tickets,
            };
            if (list.Any(r => r["id"]!.GetValue<long>() == id))
                throw new ArgumentException($"A {kind} with id {id} exists already.", nameof(resource));
            list.Add(copy);
            _nextId = Math.Max(_nextId, id + 1);
            if (copy["number"] is JsonValue numberValue && numberValue.TryGetValue<string>(out var number)
                && long.TryParse(number, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var n))
            {
                _nextNumber = Math.Max(_nextNumber, n + 1);
            }
        }
    }
}
