using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace SppFunctions.Events;

/// <summary>
/// Stable event ids. SPP sends none, so an id is derived from the event name, <c>data.id</c>, <c>created</c> and a
/// hash of the (token-free) body: a redelivery of the same event gets the same id. Format:
/// <c>{created, 10 digits}-{24 hex chars}</c>, so ids sort by SPP time (an event's row is partitioned by its id, so time ranges are key ranges).
/// </summary>
public static partial class EventIds
{
    [GeneratedRegex(@"^[0-9]{10}-[0-9a-f]{24}\z")]
    private static partial Regex Shape();

    public static string Create(string eventName, string? dataId, long created, ReadOnlySpan<byte> body)
    {
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(body));
        return Create(eventName, dataId, created, bodyHash);
    }

    /// <summary>An id from parts that already identify the event (the poller uses order and message ids).</summary>
    public static string Create(string eventName, string? dataId, long created, string discriminator)
    {
        var material = Encoding.UTF8.GetBytes($"{eventName}\n{dataId}\n{created}\n{discriminator}");
        var hash = Convert.ToHexStringLower(SHA256.HashData(material))[..24];
        return $"{Math.Clamp(created, 0, 9_999_999_999).ToString("D10", CultureInfo.InvariantCulture)}-{hash}";
    }

    /// <summary>Characters in an id: 10 digits, a dash, 24 hex characters.</summary>
    public const int Length = 35;

    public static bool IsValid(string? id) => id is not null && Shape().IsMatch(id);

    /// <summary>The event's SPP time (<c>created</c>) an id begins with.</summary>
    public static DateTimeOffset CreatedOf(string id) =>
        DateTimeOffset.FromUnixTimeSeconds(long.Parse(id.AsSpan(0, 10), CultureInfo.InvariantCulture));

    /// <summary>The event-log partition earlier versions used (UTC day of <c>created</c>); rows are now partitioned by id.</summary>
    public static string Partition(string id) =>
        PartitionOf(DateTimeOffset.FromUnixTimeSeconds(long.Parse(id.AsSpan(0, 10), CultureInfo.InvariantCulture)));

    public static string PartitionOf(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
