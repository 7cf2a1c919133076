namespace Spp.Client;

/// <summary>
/// Resolves a caller-supplied path beneath the API root and refuses anything that could send the request
/// (and the API key) elsewhere: absolute or protocol-relative URLs, other schemes, <c>.</c>/<c>..</c> segments
/// (also percent-encoded), backslashes, control characters, and query or fragment parts inside the path.
/// </summary>
public static class SppPathGuard
{
    /// <summary>The absolute URI of <paramref name="path"/> under <paramref name="apiRoot"/>.</summary>
    /// <exception cref="ArgumentException">The path is empty or escapes the API root.</exception>
    public static Uri Resolve(Uri apiRoot, string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw Refuse(path, "it is empty");
        if (path.Any(c => char.IsControl(c) || c == '\\')) throw Refuse(path, "it contains a backslash or a control character");
        if (path.StartsWith("//", StringComparison.Ordinal)) throw Refuse(path, "it is a protocol-relative URL");
        if (path.Contains('?') || path.Contains('#')) throw Refuse(path, "it contains '?' or '#'; pass query parameters separately");
        var relative = path.TrimStart('/');
        var firstSegment = relative.Split('/')[0];
        if (firstSegment.Contains(':')) throw Refuse(path, "it is an absolute URL; give a path relative to the API root");

        var decoded = relative;
        for (var i = 0; i < 3; i++) decoded = Uri.UnescapeDataString(decoded);
        if (decoded.Contains('\\') || decoded.Any(char.IsControl)) throw Refuse(path, "it contains an encoded backslash or control character");
        if (decoded.Split('/').Any(segment => segment is "." or "..")) throw Refuse(path, "it contains '.' or '..' segments");

        var resolved = new Uri(apiRoot, relative);
        var sameOrigin = Uri.Compare(resolved, apiRoot, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0;
        if (!sameOrigin || !resolved.AbsolutePath.StartsWith(apiRoot.AbsolutePath, StringComparison.Ordinal))
        {
            throw Refuse(path, "it resolves outside the API root");
        }
        return resolved;
    }

    private static ArgumentException Refuse(string? path, string why) =>
        new($"The path '{Shorten(path)}' is refused: {why}. " +
            $"Paths are relative to the SPP API root, e.g. 'orders' or 'order_messages/123'.", nameof(path));

    private static string Shorten(string? path) => path is null ? "" : path.Length > 200 ? path[..200] + "…" : path;
}
