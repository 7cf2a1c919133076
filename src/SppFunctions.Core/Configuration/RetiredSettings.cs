using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SppFunctions.Configuration;

/// <summary>
/// Settings earlier versions read and this one ignores. An app upgraded in place keeps its old settings, so start-up
/// names each one still set, once, as a warning: the app runs on, and the owner learns the setting does nothing.
/// </summary>
public static class RetiredSettings
{
    /// <summary>Each retired setting (configuration key, as <c>Section:Name</c>) and what replaced it.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Webhooks:DedupeWindow"] = "an event's row in SppEvents is its dedupe record now, kept for Housekeeping__EventRetention "
            + "(see docs/UPGRADING.md)",
    };

    /// <summary>The warning for each retired setting <paramref name="configuration"/> sets (app setting names, <c>__</c>).</summary>
    public static IReadOnlyList<string> Warnings(IConfiguration configuration) =>
        All.Where(retired => configuration[retired.Key] is not null)
            .Select(retired => $"{retired.Key.Replace(":", "__", StringComparison.Ordinal)} is no longer used and is ignored: "
                + $"{retired.Value}. Remove it from the app settings.")
            .ToList();
}

/// <summary>Logs <see cref="RetiredSettings.Warnings"/> when the app starts.</summary>
internal sealed partial class RetiredSettingsWarning(IConfiguration configuration, ILogger<RetiredSettingsWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var warning in RetiredSettings.Warnings(configuration)) LogRetired(warning);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private partial void LogRetired(string warning);
}
