using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace SppFunctions.FakeSpp;

/// <summary>Laravel-style list handling: filters, sort, limit/page and the paginator envelope.</summary>
internal static partial class FakeSppQuery
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    [GeneratedRegex(@"^filters\[(?<field>[^\]]+)\]\[(?<op>[^\]]+)\](\[\])?$")]
    private static partial Regex FilterKey();

    /// <summary>Filters, sorts and pages <paramref name="items"/>; returns null and sets <paramref name="error"/> on bad input.</summary>
    public static JsonObject? Paginate(HttpRequest request, IEnumerable<JsonObject> items, out string? error, string defaultSort = "created_at:desc")
    {
        error = null;
        IEnumerable<JsonObject> result = items;
        foreach (var (key, values) in request.Query)
        {
            var m = FilterKey().Match(key);
            if (!m.Success) continue;
            var field = m.Groups["field"].Value;
            var op = m.Groups["op"].Value;
            var wanted = values.Where(v => v is not null).Select(v => v!).ToList();
            switch (op)
            {
                case "$eq": result = result.Where(i => Compare(i[field], wanted[0]) == 0).ToList(); break;
                case "$lt": result = result.Where(i => Compare(i[field], wanted[0]) < 0).ToList(); break;
                case "$gt": result = result.Where(i => Compare(i[field], wanted[0]) > 0).ToList(); break;
                case "$in": result = result.Where(i => wanted.Any(w => Compare(i[field], w) == 0)).ToList(); break;
                default: error = $"Unsupported filter operator '{op}'."; return null;
            }
        }

        var sort = request.Query["sort"].FirstOrDefault() ?? defaultSort;
        var parts = sort.Split(':');
        var sortField = parts[0];
        var descending = parts.Length > 1 && parts[1].Equals("desc", StringComparison.OrdinalIgnoreCase);
        if (parts.Length > 1 && !descending && !parts[1].Equals("asc", StringComparison.OrdinalIgnoreCase))
        {
            error = $"Invalid sort direction '{parts[1]}'."; return null;
        }
        var comparer = Comparer<JsonObject>.Create((a, b) =>
        {
            var c = CompareNodes(a[sortField], b[sortField]);
            return c != 0 ? c : CompareNodes(a["id"], b["id"]);
        });
        var sorted = descending ? result.OrderDescending(comparer).ToList() : result.Order(comparer).ToList();

        if (!TryInt(request.Query["limit"].FirstOrDefault(), DefaultPageSize, out var perPage) || perPage < 1)
        {
            error = "The limit must be a positive integer."; return null;
        }
        perPage = Math.Min(perPage, MaxPageSize);
        if (!TryInt(request.Query["page"].FirstOrDefault(), 1, out var page) || page < 1)
        {
            error = "The page must be a positive integer."; return null;
        }

        var total = sorted.Count;
        var lastPage = Math.Max(1, (int)Math.Ceiling(total / (double)perPage));
        var pageItems = sorted.Skip((page - 1) * perPage).Take(perPage).ToList();
        var from = pageItems.Count == 0 ? (int?)null : (page - 1) * perPage + 1;
        var to = pageItems.Count == 0 ? (int?)null : from + pageItems.Count - 1;
        var basePath = $"{request.Scheme}://{request.Host}{request.Path}";
        string PageUrl(int p) => $"{basePath}?page={p}";

        var metaLinks = new JsonArray
        {
            new JsonObject { ["url"] = page > 1 ? PageUrl(page - 1) : null, ["label"] = "&laquo; Previous", ["active"] = false },
        };
        for (var p = 1; p <= lastPage; p++)
            metaLinks.Add(new JsonObject { ["url"] = PageUrl(p), ["label"] = p.ToString(CultureInfo.InvariantCulture), ["active"] = p == page });
        metaLinks.Add(new JsonObject { ["url"] = page < lastPage ? PageUrl(page + 1) : null, ["label"] = "Next &raquo;", ["active"] = false });

        return new JsonObject
        {
            ["data"] = new JsonArray(pageItems.Select(i => (JsonNode)i.DeepClone()).ToArray()),
            ["links"] = new JsonObject
            {
                ["first"] = PageUrl(1),
                ["last"] = PageUrl(lastPage),
                ["prev"] = page > 1 ? PageUrl(page - 1) : null,
                ["next"] = page < lastPage ? PageUrl(page + 1) : null,
            },
            ["meta"] = new JsonObject
            {
                ["current_page"] = page,
                ["from"] = from,
                ["last_page"] = lastPage,
                ["links"] = metaLinks,
                ["path"] = basePath,
                ["per_page"] = perPage,
                ["to"] = to,
                ["total"] = total,
            },
        };
    }

    private static bool TryInt(string? text, int fallback, out int value)
    {
        if (string.IsNullOrEmpty(text)) { value = fallback; return true; }
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Compares a stored field with a query value: as numbers, then dates, then text.</summary>
    private static int Compare(JsonNode? node, string wanted)
    {
        if (node is null) return wanted is "" or "null" ? 0 : -1;
        var text = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();
        if (decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var a)
            && decimal.TryParse(wanted, NumberStyles.Number, CultureInfo.InvariantCulture, out var b)) return a.CompareTo(b);
        if (TryDate(text, out var da) && TryDate(wanted, out var db)) return da.CompareTo(db);
        if (node is JsonValue bv && bv.TryGetValue<bool>(out var flag))
            return string.Compare(flag ? "1" : "0", wanted is "true" ? "1" : wanted is "false" ? "0" : wanted, StringComparison.Ordinal);
        return string.Compare(text, wanted, StringComparison.OrdinalIgnoreCase);
    }

    private static int CompareNodes(JsonNode? a, JsonNode? b)
    {
        if (a is null && b is null) return 0;
        if (a is null) return -1;
        if (b is null) return 1;
        var sb = b is JsonValue v && v.TryGetValue<string>(out var s) ? s : b.ToJsonString();
        return Compare(a, sb);
    }

    private static bool TryDate(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value) && text.Contains('-');
}
