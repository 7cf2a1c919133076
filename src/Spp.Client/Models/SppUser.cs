using System.Text.Json.Nodes;

namespace Spp.Client.Models;

/// <summary>A client account (SPP's User resource; Make calls these accounts).</summary>
public class SppUser : SppResource
{
    public long? Id { get; set; }
    public string? Name { get; set; }
    public string? NameF { get; set; }
    public string? NameL { get; set; }
    public string? Email { get; set; }
    public string? Company { get; set; }
    public string? Phone { get; set; }
    public string? Note { get; set; }
    public decimal? Balance { get; set; }
    public decimal? Spent { get; set; }
    public int? Status { get; set; }
    public long? RoleId { get; set; }
    public JsonObject? CustomFields { get; set; }
    public DateTimeOffset? CreatedAt { get; set; }
}
