using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spp.Client.Models;

/// <summary>Base of SPP resources: keeps every field the model does not name.</summary>
public abstract class SppResource
{
    /// <summary>Fields SPP sent that this model has no property for, kept as they came.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement> AdditionalProperties { get; set; } = new();
}
