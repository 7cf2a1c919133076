using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SppFunctions.Processing;

/// <summary>Reads a replay request body <c>{ids?, from?, to?, limit?}</c>, with a clear error per field.</summary>
public static class ReplayRequestReader
{
    private static readonly string[] KnownFields = ["ids", "from", "to", "limit"];

    public static async Task<(ReplayRequest? Request, string? Error, string? Field)> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return (null, "The body must be JSON: {\"ids\": [...]} or {\"from\": ..., \"to\": ...}.", null);
        }
        if (node is not JsonObject obj) return (null, "The body must be a JSON object {ids?, from?, to?, limit?}.", null);

        var unknown = obj.Select(p => p.Key).Except(KnownFields).FirstOrDefault();
        if (unknown is not null) return (null, $"'{unknown}' is not a known field (ids, from, to, limit).", unknown);

        List<string>? ids = null;
        if (obj["ids"] is { } idsNode)
        {
            if (idsNode is not JsonArray array || array.Any(x => x is not JsonValue v || !v.TryGetValue<string>(out _)))
                return (null, "ids must be a list of event ids.", "ids");
            ids = array.Select(x => x!.GetValue<string>()).ToList();
        }
        DateTimeOffset? Date(string key, out string? err)
        {
            err = null;
            if (obj[key] is null) return null;
            if (obj[key] is JsonValue v && v.TryGetValue<string>(out var s)
                && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d)) return d;
            err = $"{key} must be a date-time such as 2026-11-01T00:00:00Z.";
            return null;
        }
        var from = Date("from", out var fromError);
        if (fromError is not null) return (null, fromError, "from");
        var to = Date("to", out var toError);
        if (toError is not null) return (null, toError, "to");
        if (from is not null && to is not null && from >= to) return (null, "from must be before to.", "from");
        if ((ids is null || ids.Count == 0) && from is null && to is null)
            return (null, "Name the events to replay: ids, or a time range (from and/or to).", "ids");
        var limit = ReplayService.MaxPerRequest;
        if (obj["limit"] is { } limitNode
            && (limitNode is not JsonValue lv || !lv.TryGetValue<int>(out limit) || limit < 1 || limit > ReplayService.MaxPerRequest))
        {
            return (null, $"limit must be between 1 and {ReplayService.MaxPerRequest}.", "limit");
        }
        return (new ReplayRequest(ids, from, to, limit), null, null);
    }
}
