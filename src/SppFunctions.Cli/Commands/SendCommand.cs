using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spectre.Console;
using Spectre.Console.Cli;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Cli.Sending;
using SppFunctions.Events;

namespace SppFunctions.Cli.Commands;

public sealed partial class SendSettings : CliSettings
{
    public const string DefaultUrl = "http://localhost:7071/api/webhooks/spp";

    [CommandOption("--url <URL>")]
    [Description("The webhook endpoint (default: the local Functions host, " + DefaultUrl + "). A function key goes in ?code=.")]
    public string Url { get; init; } = DefaultUrl;

    [CommandOption("--token <TOKEN>")]
    [Description("The webhook token to put in the bodies (default: Spp__WebhookTokens__0 from the settings).")]
    public string? Token { get; init; }

    [CommandOption("-e|--event <NAME>")]
    [Description("An event to send (repeatable; default: every event of the catalogue). Unknown names get generic data.")]
    public string[] Events { get; init; } = [];

    [CommandOption("-n|--count <N>")]
    [Description("How many times each event is sent (each a distinct event).")]
    [DefaultValue(1)]
    public int Count { get; init; } = 1;

    [CommandOption("--rate <PER_SECOND>")]
    [Description("Most webhooks started per second (default 0: as fast as --concurrency allows).")]
    [DefaultValue(0d)]
    public double Rate { get; init; }

    [CommandOption("--concurrency <N>")]
    [Description("Most requests in flight at once.")]
    [DefaultValue(8)]
    public int Concurrency { get; init; } = 8;

    [CommandOption("--style <STYLE>")]
    [Description("Shape of data: webhook (SPP's old-style objects, as its help centre shows) or api (the API's resources).")]
    [DefaultValue("webhook")]
    public string Style { get; init; } = "webhook";

    [CommandOption("--topic-routes")]
    [Description("Post each event to its topic's route (URL/orders, URL/invoices, ...) instead of URL itself.")]
    public bool TopicRoutes { get; init; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("Longest wait for one answer.")]
    [DefaultValue(30d)]
    public double Timeout { get; init; } = 30;

    [GeneratedRegex(@"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")]
    internal static partial Regex EventNameShape();

    public override ValidationResult Validate()
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return ValidationResult.Error($"--url '{Url}' must be an absolute http or https URL, e.g. {DefaultUrl}.");
        }
        if (Count is < 1 or > 1_000_000) return ValidationResult.Error("--count must be between 1 and 1000000.");
        if (Rate < 0 || double.IsNaN(Rate) || Rate > 100_000)
            return ValidationResult.Error("--rate must be between 0 (no limit) and 100000 per second.");
        if (Concurrency is < 1 or > 256) return ValidationResult.Error("--concurrency must be between 1 and 256.");
        if (Timeout is <= 0 or > 600 || double.IsNaN(Timeout)) return ValidationResult.Error("--timeout must be between 0 and 600 seconds.");
        if (ParseStyle(Style) is null) return ValidationResult.Error($"--style '{Style}' must be webhook or api.");
        if (Events.FirstOrDefault(e => e.Length is 0 or > 100 || !EventNameShape().IsMatch(e)) is { } bad)
        {
            return ValidationResult.Error($"--event '{bad}' is not an event name such as order.created.");
        }
        return ValidationResult.Success();
    }

    internal static SampleStyle? ParseStyle(string style) => style.ToLowerInvariant() switch
    {
        "webhook" or "old" or "v1" => SampleStyle.Webhook,
        "api" => SampleStyle.Api,
        _ => null,
    };
}

/// <summary><c>sppfn send</c>: posts sample webhooks and summarises status codes and latencies.</summary>
public sealed class SendCommand(CliContext cli) : CliCommand<SendSettings>(cli)
{
    protected override async Task<int> RunAsync(SendSettings settings, CancellationToken cancellationToken)
    {
        var configuration = Cli.Settings(settings);
        var token = settings.Token;
        string? sandboxNote = null;
        if (string.IsNullOrEmpty(token))
        {
            token = configuration["Spp__WebhookTokens__0"];
            if (string.IsNullOrEmpty(token))
            {
                throw CliException.Settings(
                    $"Spp__WebhookTokens__0 is not set: pass --token or set it to the token the app accepts. {configuration.Origin}");
            }
            if (CliConfiguration.IsPlaceholder(token))
            {
                // The app refuses to start on it; an app started with real tokens answers 401.
                Output.Warn("Spp__WebhookTokens__0 still holds the placeholder of local.settings.sample.json: the app refuses to start on it " +
                    "and answers 401 to it. Fill it in (or pass --token).");
            }
            else if (configuration.Sandbox is { } sandbox && token == sandbox.WebhookToken)
            {
                sandboxNote = "Spp__WebhookTokens__0 is not filled in: sending with the SPP sandbox's token, which run-local.sh gives the app.";
            }
        }
        else
        {
            Output.AddSecrets([token]);
        }

        var events = settings.Events.Length > 0 ? settings.Events.Distinct(StringComparer.Ordinal).ToList() : SampleWebhooks.EventNames.ToList();
        var plan = new SendPlan(new Uri(settings.Url), token, events, settings.Count, settings.Rate, settings.Concurrency,
            SendSettings.ParseStyle(settings.Style)!.Value, settings.TopicRoutes, TimeSpan.FromSeconds(settings.Timeout));
        Output.AddSecrets(FunctionKeys(plan.Url));
        var shownUrl = DisplayUrl(plan.Url) + (plan.TopicRoutes ? " (+ /{topic})" : "");

        // A stopped app is the common case: say so before printing anything else.
        if (await WebhookSender.ConnectAsync(plan.Url, plan.Timeout, cancellationToken) is { } refused)
        {
            throw CliException.Unreachable($"Cannot reach {DisplayUrl(plan.Url)}: {refused}. " +
                $"Is the Functions host running? ./scripts/run-local.sh starts it.");
        }
        if (sandboxNote is not null) Output.Note(sandboxNote);

        if (!settings.Json)
        {
            Output.Line($"Sending {plan.Total} webhook(s) ({events.Count} event(s) × {plan.Count}) to {shownUrl}" +
                $"{(plan.Rate > 0 ? $" at {plan.Rate.ToString("0.##", CultureInfo.InvariantCulture)}/s" : "")}, {plan.Concurrency} at a time.");
        }

        var sender = new WebhookSender();
        var clock = Stopwatch.StartNew();
        var results = await Output.ProgressAsync("Sending", plan.Total, settings.Json,
            report => sender.SendAsync(plan, _ => report(1), cancellationToken));
        var summary = new SendSummary(plan, results, clock.Elapsed);
        var noAnswer = summary.Sent > 0 && summary.NoAnswer == summary.Sent;

        if (settings.Json) Output.Json(ToJson(summary, DisplayUrl(plan.Url)));
        else if (!noAnswer || cancellationToken.IsCancellationRequested) Print(summary, shownUrl);

        if (cancellationToken.IsCancellationRequested)
        {
            Output.Error($"cancelled after {summary.Sent} of {plan.Total} webhook(s).");
            return ExitCodes.Cancelled;
        }
        if (noAnswer)
        {
            throw CliException.Unreachable($"Cannot reach {DisplayUrl(plan.Url)}: {summary.Errors[0].Message}. " +
                $"Is the Functions host running? ./scripts/run-local.sh starts it.");
        }
        if (summary.Accepted < summary.Sent)
        {
            throw CliException.Failed(
                $"{summary.Sent - summary.Accepted} of {summary.Sent} webhook(s) were not accepted; first error: {FirstError(summary)}");
        }
        return ExitCodes.Ok;
    }

    private static string FirstError(SendSummary summary) =>
        summary.Errors.Count > 0 && summary.Errors[0] is { Message: not null } e
            ? $"{(e.Status == 0 ? "no answer" : e.Status.ToString(CultureInfo.InvariantCulture))} {e.Message}"
            : "";

    private void Print(SendSummary summary, string url)
    {
        Output.Line($"Sent {summary.Sent} webhook(s) to {url} in {summary.Duration.TotalSeconds:0.00} s " +
            $"({summary.RatePerSecond:0.#}/s): {summary.Accepted} accepted.");
        var table = CliOutput.Table("Status", "Count");
        foreach (var (status, count) in summary.Statuses)
        {
            table.AddRow(new Text(status == 0 ? "no answer" : status.ToString(CultureInfo.InvariantCulture)),
                new Text(count.ToString(CultureInfo.InvariantCulture)));
        }
        Output.Write(table);
        Output.Line(string.Create(CultureInfo.InvariantCulture,
            $"Latency (ms): p50 {summary.P50:0.0}  p95 {summary.P95:0.0}  p99 {summary.P99:0.0}  max {summary.Max:0.0}"));
        foreach (var (status, message, count) in summary.Errors.Take(5))
        {
            Output.Line($"  {(status == 0 ? "no answer" : status.ToString(CultureInfo.InvariantCulture))} × {count}: {message}");
        }
    }

    private static JsonObject ToJson(SendSummary summary, string url)
    {
        var statuses = new JsonObject();
        foreach (var (status, count) in summary.Statuses) statuses[status == 0 ? "none" : status.ToString(CultureInfo.InvariantCulture)] = count;
        var byEvent = new JsonObject();
        foreach (var group in summary.Results.GroupBy(r => r.Event))
        {
            var counts = new JsonObject();
            foreach (var s in group.GroupBy(r => r.Status).OrderBy(g => g.Key))
                counts[s.Key == 0 ? "none" : s.Key.ToString(CultureInfo.InvariantCulture)] = s.Count();
            byEvent[group.Key] = counts;
        }
        return new JsonObject
        {
            ["url"] = url,
            ["topicRoutes"] = summary.Plan.TopicRoutes,
            ["planned"] = summary.Plan.Total,
            ["sent"] = summary.Sent,
            ["accepted"] = summary.Accepted,
            ["noAnswer"] = summary.NoAnswer,
            ["durationMs"] = Math.Round(summary.Duration.TotalMilliseconds, 1),
            ["ratePerSecond"] = Math.Round(summary.RatePerSecond, 2),
            ["statuses"] = statuses,
            ["latencyMs"] = new JsonObject
            {
                ["p50"] = Math.Round(summary.P50, 2),
                ["p95"] = Math.Round(summary.P95, 2),
                ["p99"] = Math.Round(summary.P99, 2),
                ["max"] = Math.Round(summary.Max, 2),
            },
            ["byEvent"] = byEvent,
            ["errors"] = new JsonArray(summary.Errors.Select(e => (JsonNode)new JsonObject
            {
                ["status"] = e.Status,
                ["message"] = e.Message,
                ["count"] = e.Count,
            }).ToArray()),
        };
    }

    private static IEnumerable<string> FunctionKeys(Uri url) =>
        url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p.StartsWith("code=", StringComparison.OrdinalIgnoreCase) && p.Length > 5)
            .SelectMany(p => new[] { p[5..], Uri.UnescapeDataString(p[5..]) });

    /// <summary>The URL with the value of a function key (<c>code=</c>) hidden.</summary>
    internal static string DisplayUrl(Uri url)
    {
        if (string.IsNullOrEmpty(url.Query)) return url.ToString();
        var parts = url.Query.TrimStart('?').Split('&').Select(p =>
            p.StartsWith("code=", StringComparison.OrdinalIgnoreCase) ? "code=***" : p);
        return new UriBuilder(url) { Query = string.Join("&", parts) }.Uri.ToString();
    }
}
