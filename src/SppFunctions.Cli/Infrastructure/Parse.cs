using System.Globalization;
using System.Text.RegularExpressions;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>Argument parsing shared by the commands; every failure is a usage error naming the option.</summary>
internal static partial class Parse
{
    [GeneratedRegex(@"^(\d+)\s*(s|m|h|d|w)$", RegexOptions.IgnoreCase)]
    private static partial Regex Relative();

    /// <summary>
    /// A point in time: an ISO 8601 date or date-time (UTC unless it has an offset), a Unix time in seconds, or a
    /// duration before now such as <c>30m</c>, <c>6h</c>, <c>2d</c>, <c>1w</c>.
    /// </summary>
    public static DateTimeOffset? Time(string? text, string option, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        if (Relative().Match(text) is { Success: true } m)
        {
            var n = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var span = char.ToLowerInvariant(m.Groups[2].Value[0]) switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => TimeSpan.FromDays(7 * n),
            };
            return now - span;
        }
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) && text.Length >= 9)
        {
            return DateTimeOffset.FromUnixTimeSeconds(unix);
        }
        if (DateTimeOffset.TryParse(
            text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        throw CliException.Usage($"{option} '{text}' is not a time: use e.g. 2026-11-01T00:00:00Z, 2026-11-01, a Unix time, or 6h / 2d (ago).");
    }

    /// <summary>Checks that from is before to.</summary>
    public static void Range(DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } f && to is { } t && f >= t) throw CliException.Usage($"--from ({f:u}) must be before --to ({t:u}).");
    }

    /// <summary><c>key=value</c> pairs of a repeatable option.</summary>
    public static List<KeyValuePair<string, string>> Pairs(IEnumerable<string>? items, string option)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var item in items ?? Array.Empty<string>())
        {
            var eq = item.IndexOf('=');
            if (eq <= 0) throw CliException.Usage($"{option} '{item}' must be key=value.");
            pairs.Add(new(item[..eq], item[(eq + 1)..]));
        }
        return pairs;
    }
}
