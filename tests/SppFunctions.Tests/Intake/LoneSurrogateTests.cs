using System.Text;
using Microsoft.Extensions.Logging;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Intake;

/// <summary>
/// "\ud800" (half a surrogate pair) is valid JSON syntax but no text: System.Text.Json throws when it is read as a
/// string. The fuzzed corpus of the reliability suite found such a token or event name answered 503 (SPP would retry it
/// for ever) with the exception logged as an error. It is bad input: a 4xx naming the field, nothing stored.
/// </summary>
public class LoneSurrogateTests
{
    public static TheoryData<string, string, string, int, string?> Cases => new()
    {
        { "event name", "\"order.created\"", "\"order.\\ud800created\"", 400, "event" },
        { "token", $"\"{AppHarness.Token}\"", "\"\\udc00\"", 401, "token" },
        { "token with the real one after it", $"\"{AppHarness.Token}\"", $"\"\\ud800{AppHarness.Token}\"", 401, "token" },
        { "a value in data", "\"Jane Doe\"", "\"Jane \\ud800 Doe\"", 400, "data" },
        { "surrogates in the wrong order in data", "\"Jane Doe\"", "\"\\ude00\\ud83d\"", 400, "data" },
        { "a property name in data", "\"name\":", "\"n\\udbffame\":", 400, "data" },
        { "a top-level property name", "{\"event\"", "{\"\\ud800\":1,\"event\"", 400, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Is_refused_with_a_4xx_naming_the_field_and_nothing_is_stored_or_logged_as_an_error(
        string where, string find, string replace, int status, string? field)
    {
        await using var app = await AppHarness.StartAsync();
        var json = Envelope().ToJsonString();
        Assert.Contains(find, json);

        var answer = await PostAsync(app, Encoding.UTF8.GetBytes(json.Replace(find, replace)));

        Assert.Equal(status, answer.Status);
        Assert.Equal(field, answer.Body["field"]?.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(answer.Body["error"]!.GetValue<string>()));
        await app.AssertNothingStoredAsync(where);
        Assert.DoesNotContain(app.Logs.GetSnapshot(), r => r.Level >= LogLevel.Error || r.Exception is not null);
    }

    [Fact]
    public async Task A_valid_surrogate_pair_is_accepted()
    {
        await using var app = await AppHarness.StartAsync();
        var json = Envelope().ToJsonString().Replace("\"Jane Doe\"", "\"Jane \\ud83d\\ude00 Doe\"");
        Assert.Equal(202, (await PostAsync(app, Encoding.UTF8.GetBytes(json))).Status);
    }
}
