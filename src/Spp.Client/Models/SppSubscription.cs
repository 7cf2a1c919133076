namespace Spp.Client.Models;

/// <summary>A subscription (created by SPP from a paid recurring invoice).</summary>
public class SppSubscription : SppResource
{
    public long Id { get; set; }
    public string? Number { get; set; }
    /// <summary>Legacy: the invoice number as a string.</summary>
    public string? InvoiceId { get; set; }
    public string? Status { get; set; }
    public string? ProcessorId { get; set; }
    public DateTimeOffset? CurrentPeriodEnd { get; set; }
    public List<string>? Orders { get; set; }
    public int? PaymentCount { get; set; }
    public SppUser? Client { get; set; }
}
