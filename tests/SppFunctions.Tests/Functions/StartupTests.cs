using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Functions;

/// <summary>
/// Start-up as a user meets it: a generic host with the app's services (as Program.cs registers them), configured from
/// local.settings.sample.json. Validation runs when the host starts, and names every setting to fix.
/// </summary>
public class StartupTests
{
    private static Dictionary<string, string?> SampleSettings()
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "local.settings.sample.json")))!["Values"]!.AsObject();
        var values = sample.ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value?.GetValue<string>());
        values["AzureWebJobsStorage"] = TestStorage.ConnectionString;
        return values;
    }

    private static IHost Build(Dictionary<string, string?> values)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(values);
        builder.Services.AddSppFunctions(builder.Configuration);
        return builder.Build();
    }

    private static string Messages(Exception ex) => ex switch
    {
        AggregateException a => string.Join("\n", a.InnerExceptions.Select(Messages)),
        _ => ex.Message,
    };

    [Fact]
    public async Task The_unchanged_sample_settings_stop_start_up_naming_each_value_to_fill_in()
    {
        using var host = Build(SampleSettings());
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        var messages = Messages(ex);
        Assert.Contains("Spp__BaseUrl still holds the sample's placeholder", messages);
        Assert.Contains("Spp__ApiKey still holds the sample's placeholder", messages);
        Assert.Contains("Spp__WebhookTokens__0 still holds the sample's placeholder", messages);
        Assert.True(ex is OptionsValidationException
            || ex is AggregateException { InnerExceptions: var inner } && inner.All(e => e is OptionsValidationException), ex.ToString());
    }

    [Fact]
    public async Task The_sample_with_its_values_filled_in_starts()
    {
        var values = SampleSettings();
        values["Spp:BaseUrl"] = "https://acme.spp.co/api/";
        values["Spp:ApiKey"] = "a-real-looking-key";
        values["Spp:WebhookTokens:0"] = "a-webhook-token";
        using var host = Build(values);
        await host.StartAsync();
        await host.StopAsync();
    }

    [Theory]
    [InlineData("Polling:Schedule", "Polling__Schedule is required: the timer PollOrderMessages reads it as %Polling:Schedule%")]
    [InlineData("Housekeeping:Schedule", "Housekeeping__Schedule is required: the timer Housekeeping reads it as %Housekeeping:Schedule%")]
    public async Task A_missing_timer_schedule_stops_start_up_naming_the_setting(string key, string expected)
    {
        var values = SampleSettings();
        values["Spp:BaseUrl"] = "https://acme.spp.co/api/";
        values["Spp:ApiKey"] = "a-real-looking-key";
        values["Spp:WebhookTokens:0"] = "a-webhook-token";
        values.Remove(key);
        using var host = Build(values);
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        Assert.Contains(expected, Messages(ex));
    }

    [Theory]
    [InlineData("Rules:Path", "/nonexistent/rules.json", "rules.json does not exist")]
    [InlineData("Polling:Schedule", "every minute", "Polling__Schedule must be an NCRONTAB expression")]
    [InlineData("Webhooks:MaxBodyBytes", "10", "Webhooks__MaxBodyBytes must be between")]
    [InlineData("Forward:AllowedHosts:0", "https://hooks.slack.com/x", "Forward__AllowedHosts__0 must be a host name")]
    [InlineData("Spp:Retry:MaxRetries", "50", "Spp__Retry__MaxRetries must be between 0 and 10")]
    public async Task A_bad_setting_stops_start_up_with_a_message_naming_it(string key, string value, string expected)
    {
        var values = SampleSettings();
        values["Spp:BaseUrl"] = "https://acme.spp.co/api/";
        values["Spp:ApiKey"] = "a-real-looking-key";
        values["Spp:WebhookTokens:0"] = "a-webhook-token";
        values[key] = value;
        using var host = Build(values);
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        Assert.Contains(expected, Messages(ex));
    }
}
