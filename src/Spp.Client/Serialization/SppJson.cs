using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spp.Client.Serialization;

/// <summary>
/// JSON settings for SPP payloads. Reading is lenient, as SPP's own examples are inconsistent:
/// ids and money arrive as numbers or strings, booleans as 0/1, dates in several formats, empty objects as [].
/// Unknown fields are kept in each model's <c>AdditionalProperties</c>.
/// </summary>
public static class SppJson
{
    /// <summary>Options used for every SPP request and response body.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        };
        options.Converters.Add(new LenientStringConverter());
        options.Converters.Add(new LenientInt64Converter());
        options.Converters.Add(new LenientNullableInt64Converter());
        options.Converters.Add(new LenientNullableInt32Converter());
        options.Converters.Add(new LenientNullableDecimalConverter());
        options.Converters.Add(new LenientBooleanConverter());
        options.Converters.Add(new LenientNullableBooleanConverter());
        options.Converters.Add(new LenientDateTimeOffsetConverter());
        options.Converters.Add(new PhpObjectConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
