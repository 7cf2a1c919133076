using System.Text;

namespace Spp.Client;

/// <summary>
/// Refuses request headers that could change the shape of a request: a name that is not an HTTP token, or a name or
/// value with a control character (CR, LF, NUL, any other C0 character, DEL, C1); also a value outside ASCII, which
/// HttpClient would refuse only halfway through sending. Headers are added without the
/// framework's validation, so a CR/LF from event data would otherwise end the header block and smuggle a second
/// request in. The error names the header, never its value (which may hold a secret).
/// </summary>
public static class SppHeaderGuard
{
    /// <summary>Throws when <paramref name="name"/> or <paramref name="value"/> may not be sent.</summary>
    /// <exception cref="ArgumentException">The header is refused; the message names it and says why.</exception>
    public static void Validate(string name, string? value)
    {
        if (Refusal(name, value) is { } why) throw new ArgumentException(why, nameof(name));
    }

    /// <summary>Why the header is refused, or null when it may be sent.</summary>
    public static string? Refusal(string? name, string? value)
    {
        if (string.IsNullOrEmpty(name)) return "A header name is empty.";
        if (!name.All(IsTokenChar))
        {
            return $"The header name '{Printable(name)}' is refused: names are letters, digits and !#$%&'*+-.^_`|~ only.";
        }
        if (value is not null && value.Any(char.IsControl))
        {
            return $"The header '{name}' is refused: its value contains a control character (CR, LF, NUL or another); nothing was sent.";
        }
        if (value is not null && !Ascii.IsValid(value))
        {
            // HttpClient would refuse it only while sending, which looks like a lost connection and would be retried.
            return $"The header '{name}' is refused: its value contains a character outside ASCII " +
                $"(encode it, e.g. with | url_encode); nothing was sent.";
        }
        return null;
    }

    // RFC 9110 §5.6.2: tchar.
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    private static string Printable(string name)
    {
        var shown = new string(name.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return shown.Length > 100 ? shown[..100] + "…" : shown;
    }
}
