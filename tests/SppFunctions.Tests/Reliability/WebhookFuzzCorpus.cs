using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;

namespace SppFunctions.Tests.Reliability;

/// <summary>One generated bad request.</summary>
/// <param name="ContentLength">-1: the body's length; null: none (chunked); else the declared length.</param>
/// <param name="Field">The field the error must name, when the case breaks exactly one known field.</param>
/// <param name="Secrets">Token-like values the request carried: they must not be logged either.</param>
public sealed record FuzzCase(string Category, string Name, byte[] Body, string? ContentType = "application/json",
    long? ContentLength = -1, string? Topic = null, string? Field = null, IReadOnlyList<string>? Secrets = null)
{
    public override string ToString() => $"{Category}: {Name}";
}

/// <summary>
/// A reproducible (seeded) corpus of webhook requests that must all be refused: broken JSON, truncations, every field
/// with every wrong type, huge numbers, deep nesting, invalid UTF-8, BOMs, control characters, wrong content types,
/// oversized bodies with and without Content-Length, random bytes, and valid envelopes with one field broken.
/// Nothing in it is a valid webhook: a generated candidate that might be one is discarded.
/// </summary>
public static class WebhookFuzzCorpus
{
    public const int MaxBodyBytes = 4096;

    private static readonly string[] Fields = ["event", "created", "token", "data"];
    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    public static IReadOnlyList<FuzzCase> Generate(int seed)
    {
        var random = new Random(seed);
        var cases = new List<FuzzCase>();
        void Add(FuzzCase c) => cases.Add(c);

        // ---- every field, every wrong type (systematic) ----
        foreach (var field in Fields)
        {
            foreach (var (kind, value) in WrongValues(field, random))
            {
                var envelope = Valid(random);
                envelope[field] = value;
                var secrets = field == "token" && value is JsonValue v && v.TryGetValue<string>(out var s) ? new[] { s } : null;
                Add(new("wrong type", $"{field} = {kind}", Utf8(envelope.ToJsonString()), Field: field, Secrets: secrets));
            }
            var missing = Valid(random);
            missing.Remove(field);
            Add(new("wrong type", $"{field} missing", Utf8(missing.ToJsonString()), Field: field));
        }

        // ---- valid envelopes with one field mutated at random ----
        for (var i = 0; i < 40; i++)
        {
            var field = Fields[random.Next(Fields.Length)];
            var options = WrongValues(field, random).ToList();
            var (kind, value) = options[random.Next(options.Count)];
            var envelope = Valid(random);
            envelope[field] = value;
            var secrets = field == "token" && value is JsonValue v && v.TryGetValue<string>(out var s) ? new[] { s } : null;
            Add(new("one field mutated", $"#{i} {field} = {kind}", Utf8(envelope.ToJsonString()),
                Field: field, Secrets: secrets));
        }

        // ---- huge numbers ----
        foreach (var number in new[]
            {
                "1e308", "1e400", "-1e400", "99999999999999999999999999999", "1764403200.0000000000000000001",
                "17644032000000000000000e-13", "-0", "4102444801",
            })
        {
            Add(new("huge number", $"created = {number}",
                Utf8(Valid(random).ToJsonString().Replace($"\"created\":{WebhookTestKit.Created}", $"\"created\":{number}")),
                Field: "created"));
        }
        Add(new("huge number", "token = 1e400",
            Utf8(Valid(random).ToJsonString().Replace($"\"token\":\"{AppHarness.Token}\"", "\"token\":1e400")), Field: "token"));
        Add(new("huge number", "event = 1e400",
            Utf8(Valid(random).ToJsonString().Replace("\"event\":\"order.created\"", "\"event\":1e400")), Field: "event"));

        // ---- broken JSON ----
        var structural = "{}[]:,\"";
        for (var i = 0; cases.Count(c => c.Category == "broken JSON") < 30 && i < 1000; i++)
        {
            var text = Valid(random).ToJsonString();
            var at = random.Next(text.Length);
            var broken = random.Next(4) switch
            {
                0 => text.Remove(at, 1),
                1 => text.Insert(at, structural[random.Next(structural.Length)].ToString()),
                2 => text.Replace('"', '\''),
                _ => text[..^1] + ",}",
            };
            if (!IsInvalidJson(Utf8(broken))) continue;
            Add(new("broken JSON", $"#{i} {Show(broken, at)}", Utf8(broken)));
        }
        foreach (var text in new[]
            {
                "{", "}", "{\"event\"", "{\"event\":}", "{,}", "{\"a\":1,,\"b\":2}", "[1,2", "nul", "tru",
                "{\"event\":\"order.created\" \"created\":1}", "/* comment */ {}", "{\"event\":'x'}", "NaN", "{\"created\":NaN}",
                "{\"created\":Infinity}", "\"unterminated",
            })
        {
            Add(new("broken JSON", text, Utf8(text)));
        }
        Add(new("broken JSON", "duplicate event", Utf8(
            $"{{\"event\":\"order.created\",\"event\":\"order.created\",\"created\":1,\"token\":\"{AppHarness.Token}\",\"data\":{{}}}}")));
        Add(new("broken JSON", "duplicate token", Utf8(
            $"{{\"token\":\"x\",\"token\":\"{AppHarness.Token}\",\"event\":\"order.created\",\"created\":1,\"data\":{{}}}}")));

        // ---- truncations ----
        for (var i = 0; i < 25; i++)
        {
            var envelope = Valid(random);
            envelope["data"]!["note"] = "Zoë – ünïcødé ✓ 中文";
            var bytes = Utf8(envelope.ToJsonString());
            var cut = random.Next(1, bytes.Length);
            Add(new("truncation", $"{cut} of {bytes.Length} bytes", bytes[..cut]));
        }

        // ---- deep nesting ----
        foreach (var depth in new[] { 65, 66, 100, 1000, 10_000 })
        {
            var open = random.Next(2) == 0 ? "[" : "{\"a\":";
            var close = open == "[" ? "]" : "}";
            var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
            if (Utf8(nested).Length <= MaxBodyBytes) Add(new("deep nesting", $"root {depth} deep", Utf8(nested)));
            var inData = Valid(random).ToJsonString().Replace("\"data\":{", $"\"data\":{{\"deep\":{nested},");
            if (Utf8(inData).Length <= MaxBodyBytes) Add(new("deep nesting", $"data {depth} deep", Utf8(inData)));
        }

        // ---- invalid UTF-8 ----
        byte[][] invalid =
        [
            [0xC0, 0x80], [0xC1, 0xBF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xFE], [0x80], [0xE2, 0x82],
            [0xF0, 0x9F, 0x98], [0xF8, 0x88, 0x80, 0x80, 0x80],
        ];
        foreach (var sequence in invalid)
        {
            foreach (var field in new[] { "event", "token", "data" })
            {
                var text = Valid(random).ToJsonString();
                var marker = field switch { "event" => "\"order.created\"", "token" => $"\"{AppHarness.Token}\"", _ => "\"Jane Doe\"" };
                var at = text.IndexOf(marker, StringComparison.Ordinal) + 2;
                var bytes = Utf8(text[..at]).Concat(sequence).Concat(Utf8(text[at..])).ToArray();
                Add(new("invalid UTF-8", $"{Convert.ToHexString(sequence)} in {field}", bytes));
            }
        }

        // ---- BOMs (always with something else wrong: a BOM alone may be ignored, RFC 8259 §8.1) ----
        var bom8 = new byte[] { 0xEF, 0xBB, 0xBF };
        var validText = Valid(random).ToJsonString();
        Add(new("BOM", "UTF-8 BOM + truncated envelope", bom8.Concat(Utf8(validText[..^5])).ToArray()));
        Add(new("BOM", "UTF-8 BOM twice + envelope", bom8.Concat(bom8).Concat(Utf8(validText)).ToArray()));
        Add(new("BOM", "UTF-8 BOM inside the envelope", Utf8(validText[..10]).Concat(bom8).Concat(Utf8(validText[10..])).ToArray()));
        Add(new("BOM", "UTF-16 LE BOM + UTF-16 envelope", Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(validText)).ToArray()));
        Add(new("BOM", "UTF-16 BE BOM + UTF-16 envelope",
            Encoding.BigEndianUnicode.GetPreamble().Concat(Encoding.BigEndianUnicode.GetBytes(validText)).ToArray()));
        Add(new("BOM", "UTF-16 envelope without BOM", Encoding.Unicode.GetBytes(validText)));
        Add(new("BOM", "UTF-32 BOM + UTF-32 envelope",
            new UTF32Encoding(false, true).GetPreamble().Concat(new UTF32Encoding(false, false).GetBytes(validText)).ToArray()));
        Add(new("BOM", "UTF-8 BOM + envelope with a wrong token",
            bom8.Concat(Utf8(Valid(random, token: "tok_fuzz_bom_0123456789").ToJsonString())).ToArray(), Secrets: ["tok_fuzz_bom_0123456789"]));
        Add(new("BOM", "U+FEFF as the event name",
            Utf8(Valid(random).ToJsonString().Replace("\"order.created\"", "\"\\uFEFForder.created\"")), Field: "event"));

        // ---- control characters ----
        for (var c = 0; c < 0x20; c += random.Next(1, 4))
        {
            var ch = (char)c;
            var text = Valid(random).ToJsonString();
            Add(new("control character", $"raw U+{c:X4} in a string", Utf8(text.Replace("Jane Doe", $"Jane{ch}Doe"))));
            Add(new("control character", $"escaped U+{c:X4} in the event",
                Utf8(text.Replace("\"order.created\"", $"\"order.\\u{c:x4}created\"")), Field: "event"));
        }
        Add(new("control character", "NUL before the envelope", new byte[] { 0 }.Concat(Utf8(validText)).ToArray()));
        Add(new("control character", "NUL after the envelope", Utf8(validText).Concat(new byte[] { 0 }).ToArray()));
        Add(new("control character", "DEL in the event",
            Utf8(validText.Replace("\"order.created\"", "\"order.\u007fcreated\"")), Field: "event"));
        Add(new("control character", "escaped lone surrogate in the event",
            Utf8(validText.Replace("\"order.created\"", "\"order.\\ud800created\"")), Field: "event"));
        Add(new("control character", "escaped lone surrogate in the token",
            Utf8(validText.Replace($"\"{AppHarness.Token}\"", "\"\\udc00tok\"")), Field: "token"));
        Add(new("control character", "escaped lone surrogate as the token",
            Utf8(validText.Replace($"\"{AppHarness.Token}\"", "\"\\ud800\"")), Field: "token"));
        Add(new("control character", "escaped lone surrogate in data",
            Utf8(validText.Replace("Jane Doe", "Jane \\ud800 Doe")), Field: "data"));
        Add(new("control character", "escaped lone low surrogate as data.id",
            Utf8(Valid(random).ToJsonString().Replace("\"data\":{\"id\":", "\"data\":{\"id\":\"\\udfff\",\"id0\":")), Field: "data"));
        Add(new("control character", "escaped surrogates in the wrong order in data",
            Utf8(validText.Replace("Jane Doe", "\\ude00\\ud83d")), Field: "data"));
        Add(new("control character", "escaped high surrogate before a letter in data",
            Utf8(validText.Replace("Jane Doe", "\\ud83d\\u0041")), Field: "data"));
        Add(new("control character", "escaped lone surrogate in a property name in data",
            Utf8(validText.Replace("\"name\":", "\"n\\udbffame\":")), Field: "data"));
        Add(new("control character", "escaped lone surrogate as a top-level property name",
            Utf8(validText.Replace("{\"event\"", "{\"\\ud800\":1,\"event\"")), Field: null));

        // ---- content types (the body is a valid envelope: only the type is wrong) ----
        foreach (var type in new string?[]
            {
                null, "", " ", "text/plain", "text/json", "text/html; charset=utf-8", "application/xml", "application/jsonp",
                "application/json-patch", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream",
                "json", "application", "*/*", "application/*", "application/json; charset=utf-16", "application/json; charset=iso-8859-1",
                "application/json; charset=\"latin1\"", "application/json; charset=", "application/json;;", "application/json, text/plain",
                "appl ication/json", "\"application/json\"", "application/json\u0001", new string('a', 300) + "/json", "image/png",
                "application/vnd.api",
            })
        {
            Add(new("content type", type is null ? "missing" : $"'{type}'", Utf8(Valid(random).ToJsonString()), ContentType: type));
        }

        // ---- oversized bodies, with and without Content-Length ----
        foreach (var size in new[] { MaxBodyBytes + 1, MaxBodyBytes + 100, 3 * MaxBodyBytes, 64 * 1024, 1024 * 1024 })
        {
            var envelope = Valid(random);
            envelope["data"]!["pad"] = new string('x', size);
            var bytes = Utf8(envelope.ToJsonString());
            Add(new("oversized", $"{bytes.Length} bytes with Content-Length", bytes));
            Add(new("oversized", $"{bytes.Length} bytes, chunked", bytes, ContentLength: null));
            Add(new("oversized", $"{bytes.Length} bytes, Content-Length says 100", bytes, ContentLength: 100));
        }
        Add(new("oversized", "Content-Length of 1 TB", Utf8(Valid(random).ToJsonString()), ContentLength: 1L << 40));
        Add(new("oversized", "Content-Length of long.MaxValue", Utf8(Valid(random).ToJsonString()),
            ContentLength: long.MaxValue));

        // ---- random bytes ----
        for (var i = 0; i < 25; i++)
        {
            var bytes = new byte[random.Next(1, 3000)];
            random.NextBytes(bytes);
            if (i % 5 == 0) bytes[0] = (byte)'{';
            Add(new("random bytes", $"#{i} {bytes.Length} bytes", bytes, ContentLength: i % 2 == 0 ? -1 : null));
        }
        for (var i = 0; i < 10; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(1, 200)).Select(_ => (char)random.Next(0x20, 0x7F)).ToArray());
            if (!IsInvalidJson(Utf8(text)) && JsonNode.Parse(text) is JsonObject) continue;
            Add(new("random bytes", $"#{i} printable ASCII", Utf8(text)));
        }

        // ---- not an object, wrong route ----
        foreach (var root in new[] { "[]", "[{}]", "\"order.created\"", "42", "null", "true", "[" + validText + "]" })
        {
            Add(new("not an object", root.Length > 20 ? "array of an envelope" : root, Utf8(root)));
        }
        Add(new("wrong route", "invoice.paid on the orders route", Utf8(Valid(random, "invoice.paid").ToJsonString()),
            Topic: "orders", Field: "event"));
        Add(new("wrong route", "order.created on the tickets route", Utf8(Valid(random).ToJsonString()),
            Topic: "tickets", Field: "event"));
        Add(new("wrong route", "unknown route", Utf8(Valid(random).ToJsonString()), Topic: "widgets", Field: "topic"));
        Add(new("wrong route", "route with a slash", Utf8(Valid(random).ToJsonString()), Topic: "../orders", Field: "topic"));

        return cases;
    }

    /// <summary>Wrong values for one field: every JSON type it must not have, and invalid values of the type it has.</summary>
    private static IEnumerable<(string Kind, JsonNode? Value)> WrongValues(string field, Random random)
    {
        var fuzzToken = "tok_fuzz_" + Convert.ToHexStringLower(RandomBytes(random, 8));
        var common = new List<(string, JsonNode?)>
        {
            ("null", null), ("true", true), ("false", false), ("array", new JsonArray(1, "a")), ("empty array", new JsonArray()),
        };
        switch (field)
        {
            case "event":
                return common.Concat([
                    ("number", 42), ("object", new JsonObject { ["name"] = "order.created" }), ("empty string", ""),
                    ("spaces", "order created"), ("slash", "../order.created"), ("leading dot", ".order.created"),
                    ("double dot", "order..created"), ("trailing dot", "order.created."), ("unicode", "órder.created"), ("CJK", "订单.创建"),
                    ("too long", "order." + new string('x', 95 + random.Next(100))), ("tab", "order.\tcreated"), ("newline", "order.created\n"),
                    ("html", "<script>order</script>"), ("sql", "order.created'; DROP TABLE x;--"), ("emoji", "order.🎉"),
                    ("random", "o" + Convert.ToBase64String(RandomBytes(random, 12)) + "/")]);
            case "created":
                return common.Concat([
                    ("string", "1764403200"), ("date string", "2025-11-29T08:00:00Z"), ("object", new JsonObject { ["ts"] = 1 }),
                    ("fraction", 1764403200.5), ("negative", -1764403200), ("zero", 0), ("after 2100", 4102444801L),
                    ("long.MaxValue", long.MaxValue), ("long.MinValue", long.MinValue), ("ulong.MaxValue", ulong.MaxValue),
                    ("double.MaxValue", double.MaxValue), ("tiny", double.Epsilon),
                    ("random fraction", Math.Round(random.NextDouble() * 1e9, 3) + 0.25)]);
            case "token":
                return common.Concat([
                    ("number", 12345), ("object", new JsonObject { ["value"] = AppHarness.Token }),
                    ("array with the token", new JsonArray(AppHarness.Token)), ("empty string", ""), ("wrong token", fuzzToken),
                    ("token in upper case", AppHarness.Token.ToUpperInvariant()), ("token prefix", AppHarness.Token[..^1]),
                    ("token with a space", AppHarness.Token + " "), ("token with NUL", AppHarness.Token + "\0"),
                    ("both tokens", AppHarness.Token + AppHarness.SecondToken)]);
            default:
                return common.Concat([
                    ("string", "666AF315"), ("number", 666), ("empty string", ""),
                    ("array of an object", new JsonArray(new JsonObject { ["id"] = 1 }))]);
        }
    }

    private static JsonObject Valid(Random random, string eventName = "order.created", string token = AppHarness.Token) =>
        WebhookTestKit.Envelope(eventName, new JsonObject
        {
            ["id"] = Convert.ToHexString(RandomBytes(random, 4)),
            ["status"] = "Pending",
            ["client"] = new JsonObject { ["id"] = random.Next(1, 1000), ["name"] = "Jane Doe" },
        }, token, WebhookTestKit.Created);

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static bool IsInvalidJson(byte[] bytes)
    {
        try
        {
            using var _ = JsonDocument.Parse(bytes, Strict);
            return false;
        }
        catch (JsonException)
        {
            return true;
        }
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Show(string text, int at) =>
        text.Substring(Math.Max(0, at - 12), Math.Min(24, text.Length - Math.Max(0, at - 12)));

    /// <summary>A digest of the corpus: the same seed must give the same requests.</summary>
    public static string Digest(IEnumerable<FuzzCase> cases) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
            cases.Select(c => $"{c.Name}|{c.ContentType}|{c.ContentLength}|{c.Topic}|{Convert.ToBase64String(c.Body)}")))));
}
