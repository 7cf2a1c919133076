using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;
using Xunit.Abstractions;

namespace SppFunctions.Tests.Reliability;

/// <summary>
/// A seeded corpus of bad webhook requests (<see cref="WebhookFuzzCorpus"/>) through the webhook function: each gets a
/// 4xx with a JSON body <c>{error, field}</c>, none a 500 or 503, nothing is stored, nothing is logged as an error or
/// with an exception, and no token it carried appears in a log.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public class WebhookFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261129;

    [Fact]
    public void The_corpus_is_reproducible_and_covers_every_category()
    {
        var corpus = WebhookFuzzCorpus.Generate(Seed);
        Assert.True(corpus.Count >= 200, $"only {corpus.Count} cases");
        Assert.Equal(WebhookFuzzCorpus.Digest(corpus), WebhookFuzzCorpus.Digest(WebhookFuzzCorpus.Generate(Seed)));
        Assert.NotEqual(WebhookFuzzCorpus.Digest(corpus), WebhookFuzzCorpus.Digest(WebhookFuzzCorpus.Generate(Seed + 1)));
        var categories = corpus.GroupBy(c => c.Category).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{corpus.Count} cases: " + string.Join(", ", categories.Select(kv => $"{kv.Key} {kv.Value}")));
        foreach (var category in new[]
            {
                "wrong type", "one field mutated", "huge number", "broken JSON", "truncation", "deep nesting", "invalid UTF-8", "BOM",
                "control character", "content type", "oversized", "random bytes", "not an object", "wrong route",
            })
        {
            Assert.True(categories.GetValueOrDefault(category) > 0, $"no case of {category}");
        }
        Assert.Contains(corpus, c => c.Category == "oversized" && c.ContentLength is null);
        Assert.Contains(corpus, c => c.Category == "oversized" && c.ContentLength == -1);
    }

    [Fact]
    public async Task Every_bad_request_of_the_corpus_gets_a_4xx_with_error_and_field_and_nothing_is_stored_or_logged_as_an_error()
    {
        var corpus = WebhookFuzzCorpus.Generate(Seed);
        await using var app = await AppHarness.StartAsync(new() { ["Webhooks:MaxBodyBytes"] = WebhookFuzzCorpus.MaxBodyBytes.ToString() });
        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();

        foreach (var bad in corpus)
        {
            WebhookTestKit.Answer answer;
            try
            {
                answer = await WebhookTestKit.PostAsync(app, bad.Body, bad.Topic, bad.ContentType, bad.ContentLength);
            }
            catch (Exception ex)
            {
                failures.Add($"{bad}: threw {ex.GetType().Name}: {ex.Message}");
                continue;
            }
            statuses[answer.Status] = statuses.GetValueOrDefault(answer.Status) + 1;
            var error = answer.Body["error"] is JsonValue e && e.TryGetValue<string>(out var text) ? text : null;
            if (answer.Status is < 400 or > 499) failures.Add($"{bad}: status {answer.Status} {answer.Body.ToJsonString()}");
            else if (string.IsNullOrWhiteSpace(error)) failures.Add($"{bad}: no error text in {answer.Body.ToJsonString()}");
            else if (!answer.Body.ContainsKey("field") || answer.Body["field"] is not (null or JsonValue))
                failures.Add($"{bad}: no field in {answer.Body.ToJsonString()}");
            else if (bad.Field is not null && answer.Body["field"]?.GetValue<string>() != bad.Field)
                failures.Add($"{bad}: field {answer.Body["field"]?.ToJsonString() ?? "null"} instead of {bad.Field}: {error}");
            foreach (var secret in LogSecrets.Of(app).Concat(bad.Secrets ?? []).Where(s => s.Length >= 8))
            {
                if (answer.Body.ToJsonString().Contains(secret, StringComparison.Ordinal)) failures.Add($"{bad}: the answer repeats a token");
            }
            try
            {
                await app.AssertNothingStoredAsync(bad.ToString());
            }
            catch (Exception ex)
            {
                failures.Add($"{bad}: {ex.Message}");
                break; // storage is no longer empty: later cases would all report it
            }
        }

        output.WriteLine($"{corpus.Count} requests: " +
            string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} x{kv.Value}")));
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {corpus.Count} bad requests were mishandled:\n" + string.Join("\n", failures.Take(40)));

        var errors = LogSecrets.Errors(app);
        Assert.True(errors.Count == 0,
            "logged as errors: " + string.Join("\n", errors.Take(5).Select(r => $"{r.Level} {r.Category}: {r.Message} {r.Exception}")));
        // refusals are logged
        Assert.Contains(app.Logs.GetSnapshot(),
            r => r.Level == LogLevel.Warning && r.Message.StartsWith("Webhook refused", StringComparison.Ordinal));
        var logged = LogSecrets.AssertNoneLogged(app, corpus.SelectMany(c => c.Secrets ?? []));
        output.WriteLine($"Checked {logged} log records for tokens");
    }
}
