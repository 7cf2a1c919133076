using System.Net;

namespace Spp.Client;

/// <summary>
/// The one exception the SPP client throws for a failed call: an error status from SPP, or no answer at all
/// (timeout, connection failure, open circuit; then <see cref="Status"/> is 0). Its message never contains the API key.
/// </summary>
public class SppRequestFailedException : Exception
{
    public SppRequestFailedException(
        string message,
        int status,
        string? sppMessage = null,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? errors = null,
        string? rawBody = null,
        string? apiIdentifier = null,
        TimeSpan? retryAfter = null,
        Exception? innerException = null,
        bool serverReached = true)
        : base(message, innerException)
    {
        ServerReached = serverReached;
        Status = status;
        SppMessage = sppMessage;
        Errors = errors ?? new Dictionary<string, IReadOnlyList<string>>();
        RawBody = rawBody;
        ApiIdentifier = apiIdentifier;
        RetryAfter = retryAfter;
    }

    /// <summary>HTTP status SPP answered with, or 0 when no answer arrived.</summary>
    public int Status { get; }

    /// <summary>SPP's <c>message</c> field, when the body had one.</summary>
    public string? SppMessage { get; }

    /// <summary>SPP's validation <c>errors</c> (field → messages), empty when none.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Errors { get; }

    /// <summary>The response body as received.</summary>
    public string? RawBody { get; }

    /// <summary>The <c>X-Api-Identifier</c> response header: quote it to SPP support.</summary>
    public string? ApiIdentifier { get; }

    /// <summary>The <c>Retry-After</c> SPP asked for, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>
    /// False when SPP certainly never received the request: no connection could be made, or the circuit breaker
    /// refused the call. Then even a non-idempotent call (a POST that creates something) is safe to repeat.
    /// </summary>
    public bool ServerReached { get; }

    /// <summary>True when SPP certainly did not act on the request: it never got it, or it answered 429 (throttled).</summary>
    public bool CertainlyNotActed => !ServerReached || Status == (int)HttpStatusCode.TooManyRequests;

    /// <summary>True when trying again later may succeed: no answer, 408, 429 or a 5xx.</summary>
    public bool IsTransient => IsTransientStatus(Status);

    /// <summary>Whether a status (0 = no answer) is worth retrying later.</summary>
    public static bool IsTransientStatus(int status) =>
        status is 0 or (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests || status >= 500;
}
