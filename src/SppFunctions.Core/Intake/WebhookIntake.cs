using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SppFunctions.Events;
using SppFunctions.Queueing;
using SppFunctions.Tracing;

namespace SppFunctions.Intake;

/// <summary>A webhook request as the HTTP trigger hands it over.</summary>
/// <param name="RouteTopic">The topic of the route it came in on, or null for the route that takes every event.</param>
public sealed record WebhookRequest(string? ContentType, long? ContentLength, Stream Body, string? RouteTopic);

/// <summary>The answer to a webhook: status, JSON body and, for 503, a Retry-After.</summary>
public sealed record IntakeResult(int Status, JsonObject Body, TimeSpan? RetryAfter = null)
{
    public static IntakeResult Error(int status, string error, string? field = null, TimeSpan? retryAfter = null) =>
        new(status, new JsonObject { ["error"] = error, ["field"] = field }, retryAfter);
}

/// <summary>
/// Takes an SPP webhook from the HTTP trigger to the events queue: content type, size, JSON shape, token, then
/// <c>event</c>/<c>created</c>/<c>data</c>; derives the event id and publishes it (deduplicated, durable). Bad input
/// gets a 4xx with <c>{error, field}</c> and nothing is stored; storage trouble gets 503 with Retry-After.
/// The token is removed from the payload before anything is stored or logged.
/// </summary>
public sealed partial class WebhookIntake
{
    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };
    private static readonly TimeSpan StorageRetryAfter = TimeSpan.FromSeconds(30);
    private const long MaxCreated = 4_102_444_800; // 2100-01-01

    private readonly WebhookTokenVerifier _tokens;
    private readonly EventPublisher _publisher;
    private readonly IOptions<WebhookOptions> _options;
    private readonly ILogger<WebhookIntake> _logger;

    public WebhookIntake(WebhookTokenVerifier tokens, EventPublisher publisher, IOptions<WebhookOptions> options, ILogger<WebhookIntake> logger)
    {
        _tokens = tokens;
        _publisher = publisher;
        _options = options;
        _logger = logger;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*\z")] // \z, not $: "$" also matches before a final newline
    private static partial Regex EventNameShape();

    public async Task<IntakeResult> AcceptAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        var result = await AcceptCoreAsync(request, cancellationToken).ConfigureAwait(false);
        if (result.Status >= 400)
        {
            _logger.LogWarning("Webhook refused with {Status}: {Error} (field {Field}, route {Route})",
                result.Status, result.Body["error"]?.GetValue<string>(), result.Body["field"]?.GetValue<string>(), request.RouteTopic ?? "all");
        }
        return result;
    }

    private async Task<IntakeResult> AcceptCoreAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        if (request.RouteTopic is { } routeTopic && !SppEventTopics.IsRouted(routeTopic))
        {
            return IntakeResult.Error(404, $"Unknown topic '{routeTopic}'. Use one of: {string.Join(", ", SppEventTopics.Routed)}.", "topic");
        }
        if (!IsJsonContentType(request.ContentType, out var contentTypeError))
        {
            return IntakeResult.Error(415, contentTypeError, "Content-Type");
        }
        var max = _options.Value.MaxBodyBytes;
        if (request.ContentLength > max)
        {
            return IntakeResult.Error(413, $"The body is {request.ContentLength} bytes; the limit is {max}.", null);
        }

        byte[]? rented = null;
        try
        {
            (rented, var length) = await ReadLimitedAsync(request.Body, max, cancellationToken).ConfigureAwait(false);
            if (length > max) return IntakeResult.Error(413, $"The body exceeds the limit of {max} bytes.", null);
            if (length == 0) return IntakeResult.Error(400, "The body is empty; expected a JSON object {event, created, token, data}.", null);
            return await AcceptJsonAsync(rented.AsMemory(0, (int)length), request.RouteTopic, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private async Task<IntakeResult> AcceptJsonAsync(ReadOnlyMemory<byte> body, string? routeTopic, CancellationToken cancellationToken)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return IntakeResult.Error(400, "The body is not valid JSON: it is not valid UTF-8.", null);
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body.Span, NodeOptions, DocumentOptions);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : "";
            var why = ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase) ? "it is nested too deeply" :
                ex.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) ? "it repeats a property name" : "it is malformed";
            return IntakeResult.Error(400, $"The body is not valid JSON: {why}{where}.", null);
        }
        catch (InvalidOperationException) when (HasInvalidString(body.Span, out var field))
        {
            // The duplicate-name check decodes property names, and throws on a lone surrogate escape in one.
            return InvalidStringError(field);
        }

        if (root is not JsonObject envelope)
        {
            return IntakeResult.Error(400, $"The body must be a JSON object {{event, created, token, data}}, not {Describe(root)}.", null);
        }

        // Token first: callers without it learn nothing about what else is wrong.
        if (!envelope.TryGetPropertyValue("token", out var tokenNode) || tokenNode is null)
        {
            return IntakeResult.Error(401, "The webhook token is missing.", "token");
        }
        var token = TryGetString(tokenNode, out var t) ? t : null;
        if (!_tokens.IsValid(token))
        {
            return IntakeResult.Error(401, "The webhook token is not accepted.", "token");
        }
        envelope.Remove("token");

        // A string escape naming half a surrogate pair ("\ud800") is valid JSON syntax, but no text: reading it throws.
        if (HasInvalidString(body.Span, out var invalidField)) return InvalidStringError(invalidField);

        if (!envelope.TryGetPropertyValue("event", out var eventNode) || eventNode is null)
        {
            return IntakeResult.Error(400, "'event' is required.", "event");
        }
        if (eventNode is not JsonValue ev || !ev.TryGetValue<string>(out var eventName))
        {
            return IntakeResult.Error(400, $"'event' must be a string, not {Describe(eventNode)}.", "event");
        }
        if (eventName.Length is 0 or > 100 || !EventNameShape().IsMatch(eventName))
        {
            return IntakeResult.Error(400, "'event' must be an event name such as order.created (1-100 letters, digits, '_', '-', '.').", "event");
        }

        if (!envelope.TryGetPropertyValue("created", out var createdNode) || createdNode is null)
        {
            return IntakeResult.Error(400, "'created' is required.", "created");
        }
        if (createdNode is not JsonValue cv || cv.GetValueKind() != JsonValueKind.Number)
        {
            return IntakeResult.Error(400, $"'created' must be a Unix timestamp in seconds (a number), not {Describe(createdNode)}.", "created");
        }
        if (!cv.TryGetValue<long>(out var created) || created < 1 || created > MaxCreated)
        {
            return IntakeResult.Error(400, "'created' must be a whole number of seconds between 1970 and 2100.", "created");
        }

        if (!envelope.TryGetPropertyValue("data", out var dataNode) || dataNode is null)
        {
            return IntakeResult.Error(400, "'data' is required.", "data");
        }
        if (dataNode is not JsonObject data)
        {
            return IntakeResult.Error(400, $"'data' must be a JSON object, not {Describe(dataNode)}.", "data");
        }

        var topic = SppEventTopics.Classify(eventName);
        if (routeTopic is not null && topic != routeTopic)
        {
            return IntakeResult.Error(422,
                $"'{eventName}' belongs to the {topic} topic; this route takes only {routeTopic} events. Post it to the route of its topic or to "
                    + $"/api/webhooks/spp.", "event");
        }

        var dataId = data["id"] is JsonValue idValue
            && idValue.GetValueKind() is JsonValueKind.String or JsonValueKind.Number ? idValue.ToString() : null;
        var sanitized = System.Text.Encoding.UTF8.GetBytes(envelope.ToJsonString());
        var id = EventIds.Create(eventName, dataId, created, sanitized);
        // From here on every log line carries the event id, and so does the webhook's invocation.
        using var scope = EventTracing.BeginScope(_logger, id, eventName);
        EventTracing.TagInvocation(id, eventName);
        try
        {
            var published = await _publisher.PublishAsync(
                new NewEvent(id, eventName, topic, created, EventSources.Webhook, envelope, dataId) { PayloadJson = new BinaryData(sanitized) },
                cancellationToken).ConfigureAwait(false);
            if (published.Duplicate)
            {
                _logger.LogInformation("Webhook {EventId} {EventName} is a repeated delivery; not queued again", id, eventName);
                return new IntakeResult(200, new JsonObject { ["id"] = id, ["status"] = "duplicate" });
            }
            _logger.LogInformation("Webhook {EventId} {EventName} ({Topic}) queued: {Size} bytes{ClaimCheck}",
                id, eventName, topic, sanitized.Length, published.PayloadBlob is null ? "" : " via claim-check blob");
            return new IntakeResult(202, new JsonObject { ["id"] = id, ["status"] = "accepted" });
        }
        catch (StorageUnavailableException)
        {
            return IntakeResult.Error(503, "Storage is unavailable; the event was not stored. Retry later.", null, StorageRetryAfter);
        }
    }

    private static IntakeResult InvalidStringError(string? field) => IntakeResult.Error(400,
        $"The body is not valid JSON text: {(field is null ? "a property name" : $"'{field}'")} holds a \\u escape of a lone surrogate.", field);

    /// <summary>The string value of a node; false for other kinds (and, defensively, for text that cannot be read).</summary>
    private static bool TryGetString(JsonNode? node, out string value)
    {
        value = "";
        try
        {
            if (node is JsonValue v && v.TryGetValue<string>(out var s)) { value = s; return true; }
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when a string or property name has escapes that do not make valid UTF-16 (a lone surrogate such as
    /// "\ud800"); <paramref name="field"/> is the top-level field it is in (null when it is a top-level property name
    /// itself). Only escaped strings are decoded; the body has been parsed already, so it is well-formed.
    /// </summary>
    private static bool HasInvalidString(ReadOnlySpan<byte> json, out string? field)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = DocumentOptions.MaxDepth });
        field = null;
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.String)) continue;
            var topLevelName = reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1;
            if (!reader.ValueIsEscaped)
            {
                if (topLevelName) field = reader.GetString();
                continue;
            }
            try
            {
                var text = reader.GetString();
                if (topLevelName) field = text;
            }
            catch (InvalidOperationException)
            {
                if (topLevelName) field = null;
                return true;
            }
        }
        field = null;
        return false;
    }

    private static bool IsJsonContentType(string? contentType, out string error)
    {
        error = "";
        if (string.IsNullOrWhiteSpace(contentType))
        {
            error = "Content-Type is missing; send application/json.";
            return false;
        }
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MediaType is null)
        {
            error = "Content-Type is not a valid media type; send application/json.";
            return false;
        }
        var media = parsed.MediaType.ToLowerInvariant();
        if (media != "application/json" && !(media.StartsWith("application/", StringComparison.Ordinal) && media.EndsWith("+json",
            StringComparison.Ordinal)))
        {
            error = $"Content-Type {media} is not supported; send application/json.";
            return false;
        }
        if (parsed.CharSet is { } charset
            && !charset.Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Trim('"').Equals("utf8",
                StringComparison.OrdinalIgnoreCase))
        {
            error = $"charset {charset} is not supported; send UTF-8 JSON.";
            return false;
        }
        return true;
    }

    /// <summary>Reads at most max+1 bytes, so an oversized body without Content-Length is never read in full.</summary>
    private static async Task<(byte[] Buffer, long Length)> ReadLimitedAsync(Stream body, long max, CancellationToken cancellationToken)
    {
        var limit = (int)Math.Min(max + 1, int.MaxValue);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit, 64 * 1024));
        var length = 0;
        while (length < limit)
        {
            if (length == buffer.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(limit, buffer.Length * 2));
                buffer.AsSpan(0, length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = bigger;
            }
            var read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit) - length),
                cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            length += read;
        }
        return (buffer, length);
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "an array",
        JsonObject => "an object",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };
}
