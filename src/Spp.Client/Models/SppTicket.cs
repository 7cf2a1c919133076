using System.Text.Json.Nodes;

namespace Spp.Client.Models;

/// <summary>A support ticket.</summary>
public class SppTicket : SppResource
{
    public string Id { get; set; } = "";
    public string? Number { get; set; }
    public string? Subject { get; set; }
    public long? UserId { get; set; }
    public SppUser? Client { get; set; }
    public string? Status { get; set; }
    public string? Source { get; set; }
    public long? OrderId { get; set; }
    public List<string>? Tags { get; set; }
    public string? Note { get; set; }
    public JsonObject? FormData { get; set; }
    public JsonObject? Metadata { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    public DateTimeOffset? LastMessageAt { get; set; }
    public DateTimeOffset? DateClosed { get; set; }
    public List<SppMessage>? Messages { get; set; }
}
