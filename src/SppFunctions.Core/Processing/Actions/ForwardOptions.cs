using Microsoft.Extensions.Options;

namespace SppFunctions.Processing.Actions;

/// <summary>Where the <c>forward</c> action may send events (<c>Forward__AllowedHosts__0</c>, ...).</summary>
public sealed class ForwardOptions
{
    public const string SectionName = "Forward";

    /// <summary>
    /// Host names a forward may go to, e.g. <c>hooks.slack.com</c>, or <c>*.webhook.office.com</c> for any subdomain,
    /// on port 443; a host with a port (<c>hooks.example.com:8443</c>) allows that port only.
    /// Empty: forwarding is off. URLs must be https (http only for a loopback host, for local testing).
    /// </summary>
    public List<string> AllowedHosts { get; set; } = new();

    /// <summary>Longest wait for the target's answer.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Why <paramref name="url"/> may not be forwarded to, or null when it may.</summary>
    public string? Refusal(Uri url)
    {
        if (!url.IsAbsoluteUri) return "the URL is not absolute";
        var loopback = url.IsLoopback;
        if (url.Scheme != Uri.UriSchemeHttps && !(url.Scheme == Uri.UriSchemeHttp && loopback)) return $"the URL must be https (got {url.Scheme})";
        if (!string.IsNullOrEmpty(url.UserInfo)) return "the URL must not contain user info";
        var host = url.IdnHost.ToLowerInvariant();
        var hostListed = false;
        foreach (var allowed in AllowedHosts)
        {
            var (pattern, port) = Split(allowed);
            if (pattern.StartsWith("*.", StringComparison.Ordinal)
                    ? host.EndsWith(pattern[1..], StringComparison.Ordinal) && host.Length > pattern.Length - 1
                    : host == pattern)
            {
                // A listed host alone allows port 443 only: another port is a service of its own, listed as host:port.
                if (url.Port == (port ?? 443)) return null;
                hostListed = true;
            }
        }
        return hostListed
            ? $"port {url.Port} of {host} is not on Forward__AllowedHosts (only 443 unless listed as {host}:{url.Port})"
            : $"host {host} is not on Forward__AllowedHosts";
    }

    /// <summary>An allow-list entry as its host pattern (lower case) and its port, when it names one.</summary>
    internal static (string Host, int? Port) Split(string entry)
    {
        var text = entry.Trim().ToLowerInvariant();
        var colon = text.LastIndexOf(':');
        if (colon < 0) return (text, null);
        return int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? (text[..colon], port)
            : (text, -1);
    }
}

internal sealed class ForwardOptionsValidator : IValidateOptions<ForwardOptions>
{
    public ValidateOptionsResult Validate(string? name, ForwardOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AllowedHosts.Count; i++)
        {
            var entry = options.AllowedHosts[i]?.Trim() ?? "";
            var (host, port) = ForwardOptions.Split(entry);
            var bare = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
            if (bare.Length == 0 || Uri.CheckHostName(bare) == UriHostNameType.Unknown || host.Contains('/') || host.Contains(':')
                || port is < 1 or > 65535)
            {
                failures.Add($"Forward__AllowedHosts__{i} must be a host name such as hooks.slack.com or *.webhook.office.com, " +
                    $"optionally with a port other than 443 (hooks.example.com:8443) (got '{entry}').");
            }
        }
        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(5))
            failures.Add("Forward__Timeout must be between 00:00:01 and 00:05:00.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
