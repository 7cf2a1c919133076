using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Spp.Client.Serialization;

/// <summary>Reads a string from a string, a number or a boolean (old webhook payloads send ids as strings, new ones as numbers).</summary>
public sealed class LenientStringConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence
            ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence)
            : reader.ValueSpan.ToArray()),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => null,
        _ => throw new JsonException($"Expected a string, got {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>Reads a 64-bit integer from a number or a numeric string.</summary>
public sealed class LenientInt64Converter : JsonConverter<long>
{
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        LenientNumbers.ReadInt64(ref reader) ?? throw new JsonException("Expected an integer, got null or an empty string.");

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

/// <summary>Reads an optional 64-bit integer; null and "" become null.</summary>
public sealed class LenientNullableInt64Converter : JsonConverter<long?>
{
    public override bool HandleNull => true;

    public override long? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => LenientNumbers.ReadInt64(ref reader);

    public override void Write(Utf8JsonWriter writer, long? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteNumberValue(v); else writer.WriteNullValue();
    }
}

/// <summary>Reads an optional 32-bit integer; null and "" become null.</summary>
public sealed class LenientNullableInt32Converter : JsonConverter<int?>
{
    public override bool HandleNull => true;

    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        LenientNumbers.ReadInt64(ref reader) is { } v ? checked((int)v) : null;

    public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteNumberValue(v); else writer.WriteNullValue();
    }
}

/// <summary>Reads money from a number or a string such as "10.00"; null and "" become null.</summary>
public sealed class LenientNullableDecimalConverter : JsonConverter<decimal?>
{
    public override bool HandleNull => true;

    public override decimal? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.Number: return reader.GetDecimal();
            case JsonTokenType.String:
                var text = reader.GetString();
                if (string.IsNullOrWhiteSpace(text)) return null;
                if (decimal.TryParse(text.Replace(",", ""), NumberStyles.Number, CultureInfo.InvariantCulture, out var d)) return d;
                throw new JsonException($"'{text}' is not an amount.");
            default: throw new JsonException($"Expected an amount, got {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, decimal? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteNumberValue(v); else writer.WriteNullValue();
    }
}

/// <summary>Reads a boolean from true/false, 0/1, "0"/"1", "true"/"false", "yes"/"no".</summary>
public sealed class LenientBooleanConverter : JsonConverter<bool>
{
    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        LenientBooleans.Read(ref reader) ?? false;

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteBooleanValue(value);
}

/// <summary>Nullable variant of <see cref="LenientBooleanConverter"/>.</summary>
public sealed class LenientNullableBooleanConverter : JsonConverter<bool?>
{
    public override bool HandleNull => true;

    public override bool? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => LenientBooleans.Read(ref reader);

    public override void Write(Utf8JsonWriter writer, bool? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteBooleanValue(v); else writer.WriteNullValue();
    }
}

/// <summary>
/// Reads the date formats SPP uses (<c>2021-09-01T00:00:00+00:00</c>, <c>...+00</c>, <c>...+0000</c>,
/// <c>2024-01-01 15:00:00</c>, <c>2021-08-26T14:55:23.000000Z</c>) and Unix seconds; values without an offset are UTC.
/// </summary>
public sealed partial class LenientDateTimeOffsetConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.Number: return DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64());
            case JsonTokenType.String:
                var text = reader.GetString();
                if (string.IsNullOrWhiteSpace(text)) return null;
                return TryParse(text, out var value) ? value : throw new JsonException($"'{text}' is not a date.");
            default: throw new JsonException($"Expected a date, got {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteStringValue(v.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
        else writer.WriteNullValue();
    }

    /// <summary>Parses any of the formats SPP is known to send.</summary>
    public static bool TryParse(string text, out DateTimeOffset value)
    {
        var s = text.Trim();
        if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var unix))
        {
            value = DateTimeOffset.FromUnixTimeSeconds(unix);
            return true;
        }
        // "+0000" → "+00:00", "+00" → "+00:00"
        s = ShortOffset().Replace(s, m => m.Groups[2].Success
            ? $"{m.Groups[1].Value}:{m.Groups[2].Value}"
            : $"{m.Groups[1].Value}:00");
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out value);
    }

    [GeneratedRegex(@"(?<=T[\d:.]+|\s[\d:.]+)([+-]\d{2})(\d{2})?$")]
    private static partial Regex ShortOffset();
}

/// <summary>
/// Reads free-form PHP objects (<c>metadata</c>, <c>form_data</c>, <c>options</c>, <c>custom_fields</c>):
/// an empty PHP array arrives as <c>[]</c> and becomes an empty object; a list becomes an object keyed "0", "1", ...
/// </summary>
public sealed class PhpObjectConverter : JsonConverter<JsonObject>
{
    public override JsonObject? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var node = JsonNode.Parse(ref reader);
        switch (node)
        {
            case null: return null;
            case JsonObject obj: return obj;
            case JsonArray array:
                var result = new JsonObject();
                for (var i = 0; i < array.Count; i++) result[i.ToString(CultureInfo.InvariantCulture)] = array[i]?.DeepClone();
                return result;
            case JsonValue v when v.TryGetValue<string>(out var s) && string.IsNullOrEmpty(s): return new JsonObject();
            default: throw new JsonException($"Expected an object, got {node.GetValueKind()}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, JsonObject value, JsonSerializerOptions options) => value.WriteTo(writer, options);
}

internal static class LenientNumbers
{
    public static long? ReadInt64(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out var l)) return l;
                var d = reader.GetDecimal();
                if (d == decimal.Truncate(d)) return (long)d;
                throw new JsonException($"{d} is not an integer.");
            case JsonTokenType.String:
                var text = reader.GetString();
                if (string.IsNullOrWhiteSpace(text)) return null;
                if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) return parsed;
                throw new JsonException($"'{text}' is not an integer.");
            case JsonTokenType.True: return 1;
            case JsonTokenType.False: return 0;
            default: throw new JsonException($"Expected an integer, got {reader.TokenType}.");
        }
    }
}

internal static class LenientBooleans
{
    public static bool? Read(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.True: return true;
            case JsonTokenType.False: return false;
            case JsonTokenType.Number: return reader.GetDecimal() != 0;
            case JsonTokenType.String:
                var text = reader.GetString()?.Trim().ToLowerInvariant();
                return text switch
                {
                    null or "" => null,
                    "1" or "true" or "yes" or "on" => true,
                    "0" or "false" or "no" or "off" => false,
                    _ => throw new JsonException($"'{text}' is not a boolean."),
                };
            default: throw new JsonException($"Expected a boolean, got {reader.TokenType}.");
        }
    }
}
