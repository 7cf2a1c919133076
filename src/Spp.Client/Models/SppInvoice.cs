using System.Text.Json.Nodes;

namespace Spp.Client.Models;

/// <summary>An invoice. Money fields read from numbers or strings such as "10.00".</summary>
public class SppInvoice : SppResource
{
    public string Id { get; set; } = "";
    public string? Number { get; set; }
    public string? NumberPrefix { get; set; }
    public SppUser? Client { get; set; }
    public List<SppInvoiceItem>? Items { get; set; }
    public string? Status { get; set; }
    public int? StatusId { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    public DateTimeOffset? DateDue { get; set; }
    public DateTimeOffset? DatePaid { get; set; }
    public decimal? Credit { get; set; }
    public decimal? Tax { get; set; }
    public decimal? Subtotal { get; set; }
    public decimal? Total { get; set; }
    public string? Currency { get; set; }
    public string? Note { get; set; }
    public string? Paysys { get; set; }
    public string? TransactionId { get; set; }
    public JsonObject? Recurring { get; set; }
    public string? ViewLink { get; set; }
}

/// <summary>A line of an invoice.</summary>
public class SppInvoiceItem : SppResource
{
    public long? Id { get; set; }
    public long? OrderId { get; set; }
    public long? ServiceId { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public decimal? Amount { get; set; }
    public decimal? Discount { get; set; }
    public decimal? Total { get; set; }
    public int? Quantity { get; set; }
    public JsonObject? Options { get; set; }
}
