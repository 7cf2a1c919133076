namespace Spp.Client.Models;

/// <summary>A message on an order or a ticket. Lists come newest first.</summary>
public class SppMessage : SppResource
{
    public long Id { get; set; }
    /// <summary>The author (a client or a staff member).</summary>
    public long? UserId { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    /// <summary>The text, usually HTML.</summary>
    public string? Message { get; set; }
    /// <summary>An internal note that the client does not see.</summary>
    public bool StaffOnly { get; set; }
    public List<string>? Files { get; set; }
    public SppOrder? Order { get; set; }
    public SppTicket? Ticket { get; set; }
    public SppUser? Client { get; set; }
}

/// <summary>A new order or ticket message (Make's "Create an Order Message").</summary>
public class SppNewMessage
{
    /// <summary>The text (HTML is accepted). Required.</summary>
    public required string Message { get; set; }
    /// <summary>The author; SPP uses the API key's user when left out.</summary>
    public long? UserId { get; set; }
    /// <summary>Post as an internal note.</summary>
    public bool? StaffOnly { get; set; }
}
