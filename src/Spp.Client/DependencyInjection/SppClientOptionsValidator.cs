using Microsoft.Extensions.Options;

namespace Spp.Client.DependencyInjection;

/// <summary>
/// Checks <see cref="SppClientOptions"/> at start-up. Messages name the app setting to fix and never echo the API key.
/// </summary>
public sealed class SppClientOptionsValidator : IValidateOptions<SppClientOptions>
{
    /// <summary>True for values still holding a sample's placeholder: <c>FILL-IN: ...</c> or a <c>YOUR-WORKSPACE</c> URL.</summary>
    public static bool IsPlaceholder(string? value) =>
        value is not null && (value.TrimStart().StartsWith("FILL-IN", StringComparison.OrdinalIgnoreCase)
            || value.Contains("YOUR-WORKSPACE", StringComparison.OrdinalIgnoreCase));

    public ValidateOptionsResult Validate(string? name, SppClientOptions options)
    {
        var failures = new List<string>();
        if (IsPlaceholder(options.BaseUrl))
        {
            failures.Add("Spp__BaseUrl still holds the sample's placeholder: set it to your workspace's API root, e.g. https://acme.spp.co/api/.");
        }
        else if (string.IsNullOrWhiteSpace(options.BaseUrl))
        {
            failures.Add("Spp__BaseUrl is required: set it to your workspace's API root, e.g. https://acme.spp.co/api/.");
        }
        else if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"Spp__BaseUrl must be an absolute https URL such as https://acme.spp.co/api/ (got '{options.BaseUrl}').");
        }
        else if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            failures.Add("Spp__BaseUrl must use https: the API key would otherwise cross the network in clear text " +
                "(http is accepted for loopback only).");
        }
        else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            failures.Add("Spp__BaseUrl must not contain a query string, fragment or user info.");
        }

        if (IsPlaceholder(options.ApiKey))
        {
            failures.Add("Spp__ApiKey still holds the sample's placeholder: copy the key from SPP under Modules → API → Settings.");
        }
        else if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            failures.Add("Spp__ApiKey is required: copy the key from SPP under Modules → API → Settings.");
        }
        else if (options.ApiKey.Any(char.IsWhiteSpace))
        {
            failures.Add("Spp__ApiKey must not contain whitespace (check for a stray space or line break).");
        }

        if (string.IsNullOrWhiteSpace(options.ApiVersion)) failures.Add("Spp__ApiVersion must not be empty (default 2024-03-05).");
        if (options.AttemptTimeout <= TimeSpan.Zero) failures.Add("Spp__AttemptTimeout must be positive.");
        if (options.MaxConcurrentRequests is < 1 or > 64) failures.Add("Spp__MaxConcurrentRequests must be between 1 and 64.");
        if (options.Retry.MaxRetries is < 0 or > 10) failures.Add("Spp__Retry__MaxRetries must be between 0 and 10.");
        if (options.Retry.BaseDelay < TimeSpan.Zero) failures.Add("Spp__Retry__BaseDelay must not be negative.");
        if (options.Retry.MaxDelay < options.Retry.BaseDelay) failures.Add("Spp__Retry__MaxDelay must not be less than Spp__Retry__BaseDelay.");
        if (options.Retry.MaxRetryAfter < TimeSpan.Zero) failures.Add("Spp__Retry__MaxRetryAfter must not be negative.");
        if (options.CircuitBreaker.FailureRatio is <= 0 or > 1) failures.Add("Spp__CircuitBreaker__FailureRatio must be in (0, 1].");
        if (options.CircuitBreaker.MinimumThroughput < 2) failures.Add("Spp__CircuitBreaker__MinimumThroughput must be at least 2.");
        if (options.CircuitBreaker.SamplingDuration < TimeSpan.FromMilliseconds(20))
            failures.Add("Spp__CircuitBreaker__SamplingDuration must be at least 20 ms.");
        if (options.CircuitBreaker.BreakDuration <= TimeSpan.Zero) failures.Add("Spp__CircuitBreaker__BreakDuration must be positive.");

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
