namespace Spp.Client;

/// <summary>
/// Settings of <see cref="SppClient"/>, bound from the <c>Spp</c> configuration section
/// (app settings <c>Spp__BaseUrl</c>, <c>Spp__ApiKey</c>, <c>Spp__ApiVersion</c>, ...).
/// </summary>
public class SppClientOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Spp";

    /// <summary>The version SPP's API reference documents; sent as <c>X-Api-Version</c>.</summary>
    public const string DefaultApiVersion = "2024-03-05";

    /// <summary>API root of the workspace, for example <c>https://acme.spp.co/api/</c> (required).</summary>
    public string? BaseUrl { get; set; }

    /// <summary>The workspace API key (Modules → API → Settings in SPP). Required; never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Value of the <c>X-Api-Version</c> request header.</summary>
    public string ApiVersion { get; set; } = DefaultApiVersion;

    /// <summary>
    /// Most SPP calls this client has in flight at once (one per process: an app instance); more wait their turn.
    /// SPP asks for few concurrent calls per workspace: the bound for a deployment is this times its instances.
    /// </summary>
    public int MaxConcurrentRequests { get; set; } = 4;

    /// <summary>How long one attempt may take before it is abandoned (and, for safe methods, retried).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retry behaviour for transient failures.</summary>
    public SppRetryOptions Retry { get; set; } = new();

    /// <summary>Circuit breaker that stops calling SPP while it keeps failing.</summary>
    public SppCircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>The API root as a URI ending in a slash, so relative paths resolve beneath it.</summary>
    public Uri GetBaseUri()
    {
        var text = BaseUrl ?? throw new InvalidOperationException("Spp__BaseUrl is not set.");
        if (!text.EndsWith('/')) text += "/";
        return new Uri(text, UriKind.Absolute);
    }
}

/// <summary>Retry settings (<c>Spp__Retry__*</c>).</summary>
public class SppRetryOptions
{
    /// <summary>Retries after the first attempt. 0 turns retries off.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Median delay before the first retry; later retries back off exponentially with jitter.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Upper bound of a computed back-off delay.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest <c>Retry-After</c> the client waits for in-process. A longer one is not waited for: the call
    /// fails as transient (carrying the Retry-After) so a queue can try again later.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Circuit breaker settings (<c>Spp__CircuitBreaker__*</c>).</summary>
public class SppCircuitBreakerOptions
{
    /// <summary>Share of failed calls in the sampling window that opens the circuit.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Window over which the failure ratio is measured.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Calls needed in the window before the ratio counts.</summary>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>How long the circuit stays open before one trial call is let through.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
