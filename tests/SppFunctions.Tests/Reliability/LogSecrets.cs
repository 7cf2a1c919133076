using Microsoft.Extensions.Logging;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Reliability;

/// <summary>
/// Every test of the reliability suite ends by checking what the app logged during it: no secret (the SPP API key,
/// the configured webhook tokens, plus whatever the test adds: tokens it sent, a storage account key) appears in any
/// message, state value, scope or exception, and nothing was logged above the level the test allows.
/// </summary>
public static class LogSecrets
{
    /// <summary>The secrets every harness has: the fake SPP API key and both configured webhook tokens.</summary>
    public static IReadOnlyList<string> Of(AppHarness app) => [app.Spp.ApiKey, AppHarness.Token, AppHarness.SecondToken];

    /// <summary>Asserts that no captured log record of the harness contains any of the secrets.</summary>
    public static int AssertNoneLogged(AppHarness app, IEnumerable<string>? more = null)
    {
        var secrets = Of(app).Concat(more ?? []).Where(s => s.Length >= 8).Distinct().ToList();
        var records = app.Logs.GetSnapshot();
        Assert.True(records.Count > 0, "no log record was captured: the check would prove nothing");
        foreach (var record in records)
        {
            var text = Render(record);
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal),
                    $"A secret ({secret[..4]}…, {secret.Length} chars) was logged by {record.Category} at {record.Level}: {Redact(text, secret)}");
            }
        }
        return records.Count;
    }

    /// <summary>Log records at Error or above, or carrying an exception.</summary>
    public static IReadOnlyList<Microsoft.Extensions.Logging.Testing.FakeLogRecord> Errors(AppHarness app) =>
        app.Logs.GetSnapshot().Where(r => r.Level >= LogLevel.Error || r.Exception is not null).ToList();

    private static string Render(Microsoft.Extensions.Logging.Testing.FakeLogRecord record)
    {
        var parts = new List<string> { record.Category ?? "", record.Message, record.Exception?.ToString() ?? "" };
        if (record.StructuredState is { } state) parts.AddRange(state.Select(kv => $"{kv.Key}={kv.Value}"));
        foreach (var scope in record.Scopes)
        {
            if (scope is IEnumerable<KeyValuePair<string, object?>> pairs) parts.AddRange(pairs.Select(kv => $"{kv.Key}={kv.Value}"));
            else if (scope is IEnumerable<KeyValuePair<string, object>> objects) parts.AddRange(objects.Select(kv => $"{kv.Key}={kv.Value}"));
            else parts.Add(scope?.ToString() ?? "");
        }
        return string.Join('\n', parts);
    }

    private static string Redact(string text, string secret)
    {
        var redacted = text.Replace(secret, "<SECRET>", StringComparison.Ordinal);
        return redacted.Length > 600 ? redacted[..600] + "…" : redacted;
    }
}
