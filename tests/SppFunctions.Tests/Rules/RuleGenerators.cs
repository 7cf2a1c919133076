using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace SppFunctions.Tests.Rules;

/// <summary>FsCheck generators of hostile event data and of valid conditions, shared by the property tests.</summary>
public static class RuleGenerators
{
    /// <summary>Numbers as JSON text, so their exact form (1e30, big integers, -0) reaches the parser as SPP would send it.</summary>
    private static readonly string[] NumberTexts =
    {
        "0", "-0", "5", "5.0", "5.00", "-1", "1e30", "-1e30", "1e-30", "1E+400", "1e308", "-1e308", "4.9e-324",
        "79228162514264337593543950335", "79228162514264337593543950336", "-79228162514264337593543950336",
        "123456789012345678901234567890123456789", "9223372036854775807", "9223372036854775808", "0.1", "100.005",
        "1764403200", "253402300800", "-62135596801",
    };

    private static readonly string[] Strings =
    {
        "", " ", "5", "5.00", " 7 ", "10.00", "1,000.00", "NaN", "Infinity", "-Infinity", "1e30", "0x10", "true", "null",
        "Complete", "complete", "Pending", "[tmp] note", "URGENT please", "2026-11-02T09:00:00+0000", "2024-01-01 15:00:00",
        "2021-08-26T14:55:23.000000Z", "2021-01-01T00:00:00+00", "9999-12-31T23:59:59Z", "0001-01-01", "yesterday",
        "x\r\n\u0000y", "{{ data.x }}", "{% raw %}", "<script>alert(1)</script>", "../../admin", "é漢字🙂", "\uD800",
        new string('a', 5000), new string('(', 300) + "a",
    };

    private static readonly string[] Keys =
    {
        "id", "total", "status", "items", "client", "email", "date_added", "tags", "staff_only", "message", "metadata",
        "order_id", "price", "x", "", "a.b", "0",
    };

    public static Gen<JsonNode?> Scalar { get; } = Gen.OneOf(
        Gen.Elements(NumberTexts).Select(t => JsonNode.Parse(t)),
        Gen.Choose(-1000, 1000).Select(i => (JsonNode?)JsonValue.Create(i)),
        Gen.Elements(Strings).Select(s => (JsonNode?)JsonValue.Create(s)),
        ArbMap.Default.GeneratorFor<string>().Where(s => s is not null).Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.Constant<JsonNode?>(null));

    /// <summary>Any JSON value, nested up to the size.</summary>
    public static Gen<JsonNode?> Value { get; } = Gen.Sized(Sized);

    private static Gen<JsonNode?> Sized(int size)
    {
        if (size <= 1) return Scalar;
        var child = Gen.Sized(Sized).Resize(size / 3);
        var array = Gen.ListOf(child, Math.Min(size, 6)).Select(items => (JsonNode?)new JsonArray(items.Select(i => i?.DeepClone()).ToArray()));
        var obj = Gen.ListOf(Gen.Zip(Gen.Elements(Keys), child), Math.Min(size, 6)).Select(pairs =>
        {
            var o = new JsonObject();
            foreach (var (k, v) in pairs) o[k] = v?.DeepClone();
            return (JsonNode?)o;
        });
        return Gen.Frequency(new (int, Gen<JsonNode?>)[] { (3, Scalar), (2, array), (3, obj) });
    }

    /// <summary>An event's <c>data</c>: an object, often with the fields conditions and templates read.</summary>
    public static Gen<JsonObject> Data { get; } = Gen.Zip(
            Gen.ListOf(Gen.Zip(Gen.Elements(Keys), Value), 8),
            Gen.ListOf(Value, 3))
        .Select(t =>
        {
            var data = new JsonObject();
            foreach (var (k, v) in t.Item1) data[k] = v?.DeepClone();
            data["items"] = new JsonArray(t.Item2.Select(v => v?.DeepClone()).ToArray());
            return data;
        });

    private static readonly string[] Fields =
    {
        "data.total", "data.status", "data.items", "data.items[0]", "data.items.0.id", "data.client.email", "data.date_added",
        "data.tags", "data.staff_only", "data.message", "data.metadata.x", "data.missing.deeper", "data.id", "data",
        "event", "id", "topic", "source", "created",
    };

    private static readonly (string Op, Gen<JsonNode?> Operand)[] Operators =
    {
        ("equals", Scalar), ("notEquals", Scalar),
        ("oneOf", Gen.NonEmptyListOf(Scalar).Select(l => (JsonNode?)new JsonArray(l.Select(x => x?.DeepClone()).ToArray()))),
        ("exists", Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b))),
        ("empty", Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b))),
        ("contains", Gen.Elements("5", "tmp", "", "Complete", "é").Select(s => (JsonNode?)JsonValue.Create(s))),
        ("notContains", Gen.Elements("5", "tmp").Select(s => (JsonNode?)JsonValue.Create(s))),
        ("startsWith", Gen.Elements("[tmp]", "1", "").Select(s => (JsonNode?)JsonValue.Create(s))),
        ("endsWith", Gen.Elements("00", "z").Select(s => (JsonNode?)JsonValue.Create(s))),
        ("matches", Gen.Elements("^\\d+(\\.\\d+)?$", "(a+)+$", "(?i)urgent", "^$", "[\\s\\S]*").Select(s => (JsonNode?)JsonValue.Create(s))),
        ("gt", Gen.Elements("0", "5", "100.00", "1e30", "-1e-30").Select(t => JsonNode.Parse(t))),
        ("gte", Gen.Elements("\"10.00\"", "0").Select(t => JsonNode.Parse(t))),
        ("lt", Gen.Elements("5", "\"-1\"").Select(t => JsonNode.Parse(t))),
        ("lte", Gen.Elements("79228162514264337593543950335", "1").Select(t => JsonNode.Parse(t))),
        ("before", Gen.Elements("\"-2h\"", "\"now\"", "\"2026-01-01\"", "1764403200", "\"+1w\"").Select(t => JsonNode.Parse(t))),
        ("after", Gen.Elements("\"-30d\"", "\"2021-08-26T14:55:23.000000Z\"", "0").Select(t => JsonNode.Parse(t))),
        ("length", Gen.Elements("0", "3", "{\"gt\": 0}", "{\"gte\": 1, \"lt\": 10}").Select(t => JsonNode.Parse(t))),
    };

    private static Gen<JsonObject> FieldCondition { get; } =
        from field in Gen.Elements(Fields)
        from op in Gen.Elements(Operators)
        from operand in op.Operand
        from ignoreCase in Gen.Frequency(new (int, Gen<bool>)[] { (4, Gen.Constant(false)), (1, Gen.Constant(true)) })
        select Condition(field, op.Op, operand,
            ignoreCase && op.Op is "equals" or "notEquals" or "contains" or "startsWith" or "endsWith" or "matches" or "oneOf");

    private static JsonObject Condition(string field, string op, JsonNode? operand, bool ignoreCase)
    {
        var c = new JsonObject { ["field"] = field, [op] = operand?.DeepClone() };
        if (ignoreCase) c["ignoreCase"] = true;
        return c;
    }

    /// <summary>A condition as written in a rules file: a field condition, or any/all/not of them, nested.</summary>
    public static Gen<JsonObject> ConditionJson { get; } = Gen.Sized(ConditionSized);

    private static Gen<JsonObject> ConditionSized(int size)
    {
        if (size <= 2) return FieldCondition;
        var child = Gen.Sized(ConditionSized).Resize(size / 2);
        return Gen.Frequency(new (int, Gen<JsonObject>)[]
        {
            (4, FieldCondition),
            (1, Gen.NonEmptyListOf(child).Select(l => new JsonObject { ["any"] = new JsonArray(l.Select(x => (JsonNode)x.DeepClone()).ToArray()) })),
            (1, Gen.NonEmptyListOf(child).Select(l => new JsonObject { ["all"] = new JsonArray(l.Select(x => (JsonNode)x.DeepClone()).ToArray()) })),
            (1, child.Select(x => new JsonObject { ["not"] = x.DeepClone() })),
        });
    }
}
