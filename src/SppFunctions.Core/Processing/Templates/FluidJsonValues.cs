using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fluid;
using Fluid.Values;

namespace SppFunctions.Processing.Templates;

/// <summary>Records the paths a template read that were absent or null.</summary>
internal sealed class MissingValues
{
    public const string AmbientKey = "sppfn.missing";
    public List<string> Paths { get; } = new();

    public static MissingValues Of(TemplateContext context) => (MissingValues)context.AmbientValues[AmbientKey];
}

/// <summary>A JSON object exposed to Liquid; reading an absent or null member is recorded as missing.</summary>
internal sealed class JsonObjectValue(JsonObject value, string path, IReadOnlyDictionary<string, string>? secrets = null) : ObjectValueBase(value)
{
    // Printed as plain JSON; the template's encoder (HTML, URL) escapes it for where it goes.
    private static readonly JsonSerializerOptions Plain = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public override ValueTask<FluidValue> GetValueAsync(string name, TemplateContext context)
    {
        var full = path.Length == 0 ? name : $"{path}.{name}";
        if (secrets is not null && path.Length == 0 && name == TemplateEngine.SecretsName)
            return new ValueTask<FluidValue>(new SecretsValue(secrets));
        if (name == "size") return new ValueTask<FluidValue>(NumberValue.Create(value.Count));
        if (!value.TryGetPropertyValue(name, out var node) || node is null)
        {
            MissingValues.Of(context).Paths.Add(full);
            return new ValueTask<FluidValue>(new MissingValue(full, context));
        }
        return new ValueTask<FluidValue>(FluidJson.Convert(node, full));
    }

    public override ValueTask WriteToAsync(TextWriter writer, TextEncoder encoder, CultureInfo cultureInfo) =>
        new(writer.WriteAsync(encoder.Encode(value.ToJsonString(Plain))));

    public override string ToStringValue() => value.ToJsonString(Plain);
}

/// <summary>
/// The value of an absent member. Its path stays recorded as missing (an error for the action) unless the template
/// handles it: tested in a condition (<c>{% if data.note %}</c>, <c>{% unless %}</c>, <c>== nil</c>) or replaced by a
/// <c>default</c> filter.
/// </summary>
internal sealed class MissingValue(string path, TemplateContext context) : FluidValue
{
    private bool _handled;

    public string Path { get; } = path;
    public override FluidValues Type => FluidValues.Nil;
    public override bool IsNil() => true;

    public override bool Equals(FluidValue other)
    {
        Handled();
        return other.IsNil();
    }

    public override bool ToBooleanValue()
    {
        Handled();
        return false;
    }

    /// <summary>The template dealt with the absence: it is not an error.</summary>
    public void Handled()
    {
        if (_handled) return;
        _handled = true;
        MissingValues.Of(context).Paths.Remove(Path);
    }

    public override decimal ToNumberValue() => 0;
    public override string ToStringValue() => "";
    public override object ToObjectValue() => null!;
    public override ValueTask<FluidValue> GetValueAsync(string name, TemplateContext context) => new(this);
    public override ValueTask WriteToAsync(TextWriter writer, TextEncoder encoder, CultureInfo cultureInfo) => ValueTask.CompletedTask;
    public override bool Equals(object? obj) => obj is FluidValue f && Equals(f);
    public override int GetHashCode() => 0;
}

internal static class FluidJson
{
    public static FluidValue Convert(JsonNode? node, string path) => node switch
    {
        null => NilValue.Instance,
        JsonObject o => new JsonObjectValue(o, path),
        JsonArray a => new ArrayValue(a.Select((x, i) => Convert(x, $"{path}[{i}]")).ToArray()),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => new StringValue(v.GetValue<string>()),
            JsonValueKind.Number => v.TryGetValue<decimal>(out var d) ? NumberValue.Create(d) : new StringValue(v.ToJsonString()),
            JsonValueKind.True => BooleanValue.True,
            JsonValueKind.False => BooleanValue.False,
            _ => NilValue.Instance,
        },
        _ => NilValue.Instance,
    };
}

/// <summary><c>secrets.NAME</c>: the app setting <c>RuleSecrets__NAME</c>; an unset one is missing like any value.</summary>
internal sealed class SecretsValue(IReadOnlyDictionary<string, string> secrets) : ObjectValueBase(secrets)
{
    public override ValueTask<FluidValue> GetValueAsync(string name, TemplateContext context)
    {
        if (secrets.TryGetValue(name, out var value)) return new ValueTask<FluidValue>(new StringValue(value));
        var path = $"{TemplateEngine.SecretsName}.{name}";
        MissingValues.Of(context).Paths.Add(path);
        return new ValueTask<FluidValue>(new MissingValue(path, context));
    }

    public override ValueTask WriteToAsync(TextWriter writer, TextEncoder encoder, CultureInfo cultureInfo) => ValueTask.CompletedTask;
    public override string ToStringValue() => "";
}
