using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spp.Client;
using Spp.Client.Models;

namespace SppFunctions.Processing.Actions;

/// <summary>Per-run facts an action needs: its idempotency key and whether an earlier attempt may have acted.</summary>
public sealed record ActionRun(string Scope, string Key, bool IsRetry)
{
    /// <summary>Unique per action of an event, stable across attempts.</summary>
    public string IdempotencyKey => $"{Scope}.{Key}";

    /// <summary>The marker put into messages this action posts.</summary>
    public string Marker => ActionExecutor.MarkerFor(IdempotencyKey);
}

/// <summary>
/// Runs one planned action against SPP (through <see cref="SppClient"/>) or a forward target, and classifies any
/// failure as not-acted, ambiguous or permanent (<see cref="ActionFailedException"/>). It keeps no state: the
/// at-most-once bookkeeping is <see cref="IdempotentActionRunner"/>'s.
/// </summary>
public partial class ActionExecutor
{
    public const string ForwardHttpClientName = "SppFunctions.Forward";

    private readonly SppClient _spp;
    private readonly IHttpClientFactory _http;
    private readonly IOptions<ProcessingOptions> _options;
    private readonly ILogger<ActionExecutor> _logger;

    protected ActionExecutor() { _spp = null!; _http = null!; _options = null!; _logger = null!; }

    public ActionExecutor(SppClient spp, IHttpClientFactory http, IOptions<ProcessingOptions> options, ILogger<ActionExecutor> logger)
    {
        _spp = spp;
        _http = http;
        _options = options;
        _logger = logger;
    }

    [GeneratedRegex(@"<!-- sppfn:[0-9a-f]{16} -->")]
    private static partial Regex MarkerPattern();

    /// <summary>True when a message text carries this app's marker.</summary>
    public static bool HasMarker(string? message) => message is not null && MarkerPattern().IsMatch(message);

    internal static string MarkerFor(string idempotencyKey) =>
        $"<!-- sppfn:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..16]} -->";

    /// <summary>
    /// Runs the action; returns what it produced (e.g. the new message id) and, when the action keeps its output, the
    /// step output <c>{status, headers, body}</c>; or throws <see cref="ActionFailedException"/>.
    /// </summary>
    public virtual async Task<ActionResult> ExecuteAsync(PlannedAction action, ActionRun run, CancellationToken cancellationToken)
    {
        try
        {
            switch (action)
            {
                case CreateOrderMessageAction create:
                    var text = _options.Value.MarkMessages ? $"{create.Message}\n{run.Marker}" : create.Message;
                    var created = await _spp.CreateOrderMessageAsync(create.Order,
                        new SppNewMessage { Message = text, UserId = create.UserId, StaffOnly = create.StaffOnly },
                        cancellationToken).ConfigureAwait(false);
                    return new ActionResult(created.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        action.KeepOutput ? StepOutput.Of(201, null, System.Text.Json.JsonSerializer.SerializeToNode(created,
                            Spp.Client.Serialization.SppJson.Options)) : null);

                case DeleteOrderMessageAction delete:
                    try
                    {
                        await _spp.DeleteOrderMessageAsync(delete.MessageId, cancellationToken).ConfigureAwait(false);
                    }
                    catch (SppRequestFailedException ex) when (ex.Status == 404 && run.IsRetry)
                    {
                        // An earlier attempt of this action deleted it: that is the effect we wanted.
                    }
                    return new ActionResult(null, action.KeepOutput ? StepOutput.Of(204, null, null) : null);

                case ListOrderMessagesAction list:
                    var messages = new System.Text.Json.Nodes.JsonArray();
                    await foreach (var message in _spp.GetOrderMessagesAsync(list.Order, list.Limit,
                        cancellationToken: cancellationToken).ConfigureAwait(false))
                    {
                        messages.Add(System.Text.Json.JsonSerializer.SerializeToNode(message, Spp.Client.Serialization.SppJson.Options));
                    }
                    return new ActionResult(messages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), StepOutput.Of(200,
                        null, messages));

                case ApiCallAction call:
                    var response = await _spp.SendAsync(new SppApiRequest(call.Method, call.Path)
                    {
                        Query = call.Query.ToList(),
                        Headers = new Dictionary<string, string>(call.Headers, StringComparer.OrdinalIgnoreCase),
                        Body = call.Body?.DeepClone(),
                    }, cancellationToken).ConfigureAwait(false);
                    ThrowOnFailure(response.Status, $"SPP answered {response.Status} to {call.Method} {call.Path}", Snippet(response.Body),
                        RetryAfterOf(response.Headers));
                    return new ActionResult(response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        action.KeepOutput ? StepOutput.Of(response.Status, response.Headers, StepOutput.ParseBody(response.Body)) : null);

                case ForwardAction forward:
                    return await ForwardAsync(forward, run, cancellationToken).ConfigureAwait(false);

                case HandlerAction handler:
                    handler.Context.IdempotencyKey = run.IdempotencyKey;
                    await handler.Handler.HandleAsync(handler.Context, cancellationToken).ConfigureAwait(false);
                    return new ActionResult(null, null);

                default:
                    throw new ActionFailedException($"Unknown action {action.GetType().Name}.", ActionFailureKind.Permanent);
            }
        }
        catch (SppRequestFailedException ex)
        {
            var kind = ex.CertainlyNotActed ? ActionFailureKind.NotActed : ex.IsTransient ? ActionFailureKind.Ambiguous : ActionFailureKind.Permanent;
            throw new ActionFailedException(ex.Message, kind, ex, ex.RetryAfter);
        }
        catch (ArgumentException ex)
        {
            // The SPP client's guard refused a path or header: no request was sent.
            throw new ActionFailedException(ex.Message, ActionFailureKind.Permanent, ex);
        }
    }

    /// <summary>
    /// Looks for a message that an earlier, interrupted attempt of this action may have posted: among the order's
    /// newest messages, one carrying the action's marker, or (if SPP dropped the HTML comment) one without any marker
    /// with the same text, flags and author posted since the attempt started. A message carrying another action's
    /// marker is never taken for this one's, however alike their texts (two events on one order often post the same
    /// text). Returns its id, or null when there is none.
    /// </summary>
    public virtual async Task<string?> FindPostedMessageAsync(
        CreateOrderMessageAction create, ActionRun run, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var wanted = Normalize(create.Message);
        try
        {
            await foreach (var message in _spp.GetOrderMessagesAsync(create.Order, limit: 50, cancellationToken: cancellationToken)
                .ConfigureAwait(false))
            {
                if (message.Message?.Contains(run.Marker, StringComparison.Ordinal) == true)
                    return message.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var recent = message.CreatedAt is not { } at || at >= since - TimeSpan.FromMinutes(5);
                if (!recent) break; // newest first: everything after is older still
                if (HasMarker(message.Message)) continue; // another action's message (another event, rule or step)
                if (message.StaffOnly == create.StaffOnly && (create.UserId is null || message.UserId == create.UserId)
                    && Normalize(message.Message) == wanted)
                {
                    return message.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            return null;
        }
        catch (SppRequestFailedException ex)
        {
            throw new ActionFailedException($"Could not check whether an earlier attempt posted the message: {ex.Message}",
                ex.IsTransient ? ActionFailureKind.NotActed : ActionFailureKind.Permanent, ex, ex.RetryAfter);
        }
    }

    private async Task<ActionResult> ForwardAsync(ForwardAction forward, ActionRun run, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, forward.Url)
        {
            Content = new StringContent(forward.Body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in forward.Headers)
        {
            // Rendered from event data: a control character could end the header block and append a request of its own.
            if (SppHeaderGuard.Refusal(name, value) is { } refused) throw new ActionFailedException(refused, ActionFailureKind.Permanent);
            request.Headers.TryAddWithoutValidation(name, value);
        }
        request.Headers.TryAddWithoutValidation("Idempotency-Key", run.IdempotencyKey);
        request.Headers.TryAddWithoutValidation("X-SppFunctions-Event-Id", run.Scope);
        HttpResponseMessage response;
        try
        {
            // Headers first: the body is read up to MaxForwardResponseBytes, never in full.
            response = await _http.CreateClient(ForwardHttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
        {
            throw new ActionFailedException($"Forward to {forward.Url.Host} failed: no connection could be made.", ActionFailureKind.NotActed, ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new ActionFailedException($"Forward to {forward.Url.Host} got no answer.", ActionFailureKind.Ambiguous, ex);
        }
        using (response)
        {
            string body;
            try
            {
                body = await ReadLimitedAsync(response.Content, MaxForwardResponseBytes, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                body = ""; // the status is what counts; a body cut off in transit changes nothing
            }
            ThrowOnFailure((int)response.StatusCode, $"Forward to {forward.Url.Host} answered {(int)response.StatusCode}", Snippet(body),
                response.Headers.RetryAfter?.Delta);
            _logger.LogInformation("Forwarded event {EventId} to {Host}: {Status}", run.Scope, forward.Url.Host, (int)response.StatusCode);
            return new ActionResult(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
                forward.KeepOutput ? StepOutput.Of((int)response.StatusCode, null, StepOutput.ParseBody(body)) : null);
        }
    }

    /// <summary>Most bytes of a forward target's answer that are read (only a snippet of it is kept).</summary>
    public const int MaxForwardResponseBytes = 64 * 1024;

    /// <summary>The start of a response body as text, reading at most <paramref name="max"/> bytes of it.</summary>
    private static async Task<string> ReadLimitedAsync(HttpContent content, int max, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[max];
        var length = 0;
        int read;
        while (length < max
            && (read = await stream.ReadAsync(buffer.AsMemory(length, max - length), cancellationToken).ConfigureAwait(false)) > 0)
            length += read;
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static void ThrowOnFailure(int status, string what, string body, TimeSpan? retryAfter)
    {
        if (status is >= 200 and < 300) return;
        var kind = status == (int)HttpStatusCode.TooManyRequests ? ActionFailureKind.NotActed
            : Spp.Client.SppRequestFailedException.IsTransientStatus(status) ? ActionFailureKind.Ambiguous
            : ActionFailureKind.Permanent;
        throw new ActionFailedException(body.Length == 0 ? $"{what}." : $"{what}: {body}", kind, retryAfter: retryAfter);
    }

    private static TimeSpan? RetryAfterOf(IReadOnlyDictionary<string, IReadOnlyList<string>> headers) =>
        headers.TryGetValue("Retry-After", out var v) && v.Count > 0 && int.TryParse(v[0], out var seconds) ? TimeSpan.FromSeconds(seconds) : null;

    private static string Snippet(string body) => body.Length > 300 ? body[..300] + "…" : body;

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    private static string Normalize(string? html) =>
        html is null ? "" : Spaces().Replace(WebUtility.HtmlDecode(Tags().Replace(MarkerPattern().Replace(html, ""), " ")), " ").Trim();
}
