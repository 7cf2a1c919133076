using System.Text.Json.Nodes;

namespace Spp.Client.Models;

/// <summary>
/// An order (IndexOrder in lists, Order when retrieved). <see cref="Id"/> is a string: the API sends an integer,
/// old-style webhook payloads send the order number (for example "666AF315"); both work as a path identifier.
/// </summary>
public class SppOrder : SppResource
{
    public string Id { get; set; } = "";
    public string? Number { get; set; }
    /// <summary>Status label, for example "Working" (SPP writes status as an integer, reads it as a label).</summary>
    public string? Status { get; set; }
    public long? UserId { get; set; }
    public SppUser? Client { get; set; }
    public List<string>? Tags { get; set; }
    public decimal? Price { get; set; }
    public int? Quantity { get; set; }
    public string? Currency { get; set; }
    public long? InvoiceId { get; set; }
    public string? Service { get; set; }
    public long? ServiceId { get; set; }
    public List<SppEmployee>? Employees { get; set; }
    public string? Note { get; set; }
    public string? Paysys { get; set; }
    public JsonObject? FormData { get; set; }
    public JsonObject? Metadata { get; set; }
    public JsonObject? Options { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    /// <summary>Old-style webhook payloads call the creation date <c>date_added</c>.</summary>
    public DateTimeOffset? DateAdded { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    public DateTimeOffset? LastMessageAt { get; set; }
    public DateTimeOffset? DateStarted { get; set; }
    public DateTimeOffset? DateCompleted { get; set; }
    public DateTimeOffset? DateDue { get; set; }
    public List<SppMessage>? Messages { get; set; }
}

/// <summary>A staff member assigned to an order or ticket.</summary>
public class SppEmployee : SppResource
{
    public long? Id { get; set; }
    public string? NameF { get; set; }
    public string? NameL { get; set; }
    public long? GroupId { get; set; }
    public long? RoleId { get; set; }
}

/// <summary>Partial update of an order (<c>PUT /orders/{order}</c>): only the properties set are sent.</summary>
public class SppOrderUpdate
{
    /// <summary>Status as SPP's integer value (the label-to-number mapping is per workspace).</summary>
    public int? Status { get; set; }
    /// <summary>The full tag set: SPP most likely replaces the tags with this list.</summary>
    public List<string>? Tags { get; set; }
    public string? Note { get; set; }
    public List<long>? Employees { get; set; }
    public DateTimeOffset? DateDue { get; set; }
}
