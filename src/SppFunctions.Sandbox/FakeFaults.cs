namespace SppFunctions.FakeSpp;

/// <summary>What a fault does to a matching request.</summary>
public enum FaultKind
{
    /// <summary>Answer with <see cref="FaultRule.Status"/> (and Retry-After when set) instead of handling the request.</summary>
    Status,
    /// <summary>Wait <see cref="FaultRule.Delay"/>, then handle the request normally.</summary>
    Delay,
    /// <summary>Abort the connection without answering, before handling the request (SPP did not act).</summary>
    Drop,
    /// <summary>Handle the request (its side effect happens), then abort the connection: the answer is lost.</summary>
    DropAfterHandling,
    /// <summary>Handle the request (its side effect happens), then answer <see cref="FaultRule.Status"/> instead.</summary>
    StatusAfterHandling,
}

/// <summary>
/// A fault to inject: which requests it matches, what it does and how many times. Rules are checked in the order
/// they were added; the first one that matches and still has uses applies.
/// </summary>
public sealed class FaultRule
{
    private int _remaining = -1;
    private int _skipped;

    public FaultRule(FaultKind kind) => Kind = kind;

    public FaultKind Kind { get; }
    /// <summary>HTTP method to match (null: any).</summary>
    public string? Method { get; init; }
    /// <summary>Path prefix to match, e.g. <c>/api/order_messages</c> (null: any).</summary>
    public string? PathPrefix { get; init; }
    /// <summary>Status for <see cref="FaultKind.Status"/> / <see cref="FaultKind.StatusAfterHandling"/>.</summary>
    public int Status { get; init; } = 500;
    /// <summary>Retry-After header value to send (seconds or an HTTP date), if any.</summary>
    public string? RetryAfter { get; init; }
    /// <summary>Delay for <see cref="FaultKind.Delay"/>.</summary>
    public TimeSpan Delay { get; init; }
    /// <summary>How many requests it applies to; null for every matching request.</summary>
    public int? Times { get => _remaining < 0 ? null : _remaining; init => _remaining = value ?? -1; }
    /// <summary>Matching requests let through before the fault starts (a "throttle after N requests" switch).</summary>
    public int SkipFirst { get; init; }
    /// <summary>Probability (0..1) that a matching request is hit, for chaos runs. Uses the server's seeded random.</summary>
    public double Probability { get; init; } = 1.0;

    /// <summary>Applies a 429 with <c>Retry-After</c>.</summary>
    public static FaultRule Throttle(string retryAfter = "1", int? times = 1, string? method = null, string? pathPrefix = null, int skipFirst = 0) =>
        new(FaultKind.Status)
        {
            Status = 429, RetryAfter = retryAfter, Times = times, Method = method, PathPrefix = pathPrefix, SkipFirst = skipFirst,
        };

    /// <summary>Answers an error status.</summary>
    public static FaultRule Fail(int status, int? times = 1, string? method = null, string? pathPrefix = null) =>
        new(FaultKind.Status) { Status = status, Times = times, Method = method, PathPrefix = pathPrefix };

    internal bool TryConsume(string method, string path, Random random)
    {
        if (Method is not null && !string.Equals(Method, method, StringComparison.OrdinalIgnoreCase)) return false;
        if (PathPrefix is not null && !path.StartsWith(PathPrefix, StringComparison.OrdinalIgnoreCase)) return false;
        if (_remaining == 0) return false;
        if (_skipped < SkipFirst) { _skipped++; return false; }
        if (Probability < 1.0 && random.NextDouble() >= Probability) return false;
        if (_remaining > 0) _remaining--;
        return true;
    }
}

/// <summary>One request as the fake server saw it.</summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    int Status,
    FaultKind? Fault,
    DateTimeOffset At)
{
    /// <summary>
    /// The workspace's endpoint ran (its side effect happened), whatever answer followed. False when the client gave up
    /// before that, e.g. while its body was read, even if a fault was planned for the request.
    /// </summary>
    public bool Handled { get; init; }

    /// <summary>A query parameter's values (keys as sent, e.g. <c>filters[id][$in][]</c>).</summary>
    public IReadOnlyList<string> Query(string key) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(QueryString).TryGetValue(key, out var v)
            ? v.Select(x => x ?? "").ToArray()
            : Array.Empty<string>();
}
