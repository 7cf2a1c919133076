using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using SppFunctions.Configuration;
using static SppFunctions.Tests.Functions.KeyVaultReferenceStartupTests;

namespace SppFunctions.Tests.Functions;

/// <summary>
/// An app upgraded in place keeps settings this version no longer reads: it starts as before, and says once, as a
/// warning, which ones do nothing. Built like <see cref="KeyVaultReferenceStartupTests"/> (the sample's settings).
/// </summary>
public class RetiredSettingsStartupTests
{
    private static async Task<IReadOnlyList<FakeLogRecord>> StartAndStop(Dictionary<string, string?> values)
    {
        using var host = Build(values, services => services.AddLogging(b => b.ClearProviders().AddFakeLogging()));
        await host.StartAsync();
        await host.StopAsync();
        return host.Services.GetFakeLogCollector().GetSnapshot();
    }

    [Fact]
    public async Task A_retired_setting_still_set_starts_the_app_with_a_warning_that_names_it()
    {
        var values = FilledInSample();
        values["Webhooks:DedupeWindow"] = "7.00:00:00";

        var logs = await StartAndStop(values);

        var warning = Assert.Single(logs, r => r.Message.Contains("DedupeWindow", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Webhooks__DedupeWindow is no longer used and is ignored", warning.Message);
        Assert.Contains("Housekeeping__EventRetention", warning.Message);
        Assert.Contains("Remove it from the app settings.", warning.Message);
    }

    [Fact]
    public async Task A_retired_setting_with_a_value_the_old_version_refused_does_not_stop_start_up()
    {
        // The old validation (at least a minute) is gone with the setting: nothing reads the value.
        var values = FilledInSample();
        values["Webhooks:DedupeWindow"] = "00:00:01";

        var logs = await StartAndStop(values);

        Assert.Contains(logs, r => r.Level == LogLevel.Warning && r.Message.Contains("Webhooks__DedupeWindow", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_retired_settings_start_up_warns_about_none()
    {
        var logs = await StartAndStop(FilledInSample());

        Assert.DoesNotContain(logs, r => r.Message.Contains("no longer used", StringComparison.Ordinal));
        Assert.Empty(RetiredSettings.Warnings(new ConfigurationBuilder().AddInMemoryCollection(FilledInSample()).Build()));
    }
}
