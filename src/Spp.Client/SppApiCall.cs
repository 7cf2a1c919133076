using System.Text.Json.Nodes;

namespace Spp.Client;

/// <summary>
/// A raw call, like Make's "Make an API Call": a method and a path relative to the API root, optional query,
/// headers and JSON body. The path may not leave the API root (no absolute URLs, no <c>..</c>).
/// </summary>
public sealed class SppApiRequest
{
    public SppApiRequest(HttpMethod method, string path)
    {
        Method = method ?? throw new ArgumentNullException(nameof(method));
        Path = path ?? throw new ArgumentNullException(nameof(path));
    }

    public HttpMethod Method { get; }

    /// <summary>Relative to the API root, for example <c>orders</c> or <c>/order_messages/E4A269FC</c>.</summary>
    public string Path { get; }

    /// <summary>Query parameters; a key may repeat (<c>filters[id][$in][]</c>).</summary>
    public IList<KeyValuePair<string, string>> Query { get; init; } = new List<KeyValuePair<string, string>>();

    /// <summary>Extra request headers. <c>Authorization</c> and <c>Host</c> are set by the client and refused here.</summary>
    public IDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>JSON body, sent as <c>application/json</c>.</summary>
    public JsonNode? Body { get; init; }
}

/// <summary>What SPP answered to a raw call, whatever the status.</summary>
public sealed class SppApiResponse
{
    public SppApiResponse(int status, IReadOnlyDictionary<string, IReadOnlyList<string>> headers, string body)
    {
        Status = status;
        Headers = headers;
        Body = body;
    }

    public int Status { get; }
    public bool IsSuccess => Status is >= 200 and < 300;
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Headers { get; }
    /// <summary>The body as text ("" for 204).</summary>
    public string Body { get; }

    /// <summary>The body parsed as JSON, or null when it is empty or not JSON.</summary>
    public JsonNode? Json
    {
        get
        {
            if (string.IsNullOrWhiteSpace(Body)) return null;
            try { return JsonNode.Parse(Body); }
            catch (System.Text.Json.JsonException) { return null; }
        }
    }

    /// <summary>The <c>X-Api-Identifier</c> header.</summary>
    public string? ApiIdentifier => Headers.TryGetValue("X-Api-Identifier", out var v) && v.Count > 0 ? v[0] : null;
}
