using System.Text.Json;
using System.Text.Json.Nodes;

namespace SppFunctions.Processing.Actions;

/// <summary>What an action run produced: its result for the record (e.g. a message id) and, if kept, its step output.</summary>
public sealed record ActionResult(string? Result, JsonObject? Output);

/// <summary>
/// The output of a rule step, as later steps read it: <c>steps.&lt;id&gt;.status</c> (the HTTP status),
/// <c>.headers</c> (lower-case names, values joined with ", ") and <c>.body</c> (parsed JSON when the body is JSON,
/// else its text; absent when empty).
/// </summary>
public static class StepOutput
{
    public static JsonObject Of(int status, IReadOnlyDictionary<string, IReadOnlyList<string>>? headers, JsonNode? body)
    {
        var output = new JsonObject { ["status"] = status };
        if (headers is not null)
        {
            var map = new JsonObject();
            foreach (var (name, values) in headers) map[name.ToLowerInvariant()] = string.Join(", ", values);
            output["headers"] = map;
        }
        if (body is not null) output["body"] = body;
        return output;
    }

    /// <summary>The body as JSON when it parses as JSON, else as a string; null when empty.</summary>
    public static JsonNode? ParseBody(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return JsonValue.Create(body);
        }
    }
}
