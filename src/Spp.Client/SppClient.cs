using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Spp.Client.Models;
using Spp.Client.Resilience;
using Spp.Client.Serialization;

namespace Spp.Client;

/// <summary>
/// Typed client of the SPP (Service Provider Pro) REST API. Every call goes through the resilience policies in
/// <see cref="SppResiliencePolicies"/>; every failure surfaces as <see cref="SppRequestFailedException"/>.
/// Methods are virtual so tests can substitute them; the constructor does no I/O.
/// </summary>
public class SppClient
{
    /// <summary>Name of the <see cref="HttpClient"/> registered for SPP in <see cref="IHttpClientFactory"/>.</summary>
    public const string HttpClientName = "Spp";

    private static readonly MediaTypeWithQualityHeaderValue JsonMediaType = new("application/json");
    private static readonly HashSet<string> ReservedHeaders =
        new(StringComparer.OrdinalIgnoreCase) { "Authorization", "Proxy-Authorization", "Host" };

    private readonly HttpClient _http = null!;
    private readonly SppClientOptions _options = null!;
    private readonly Uri _baseUri = null!;
    private readonly ILogger _logger = NullLogger.Instance;

    /// <summary>For mocking.</summary>
    protected SppClient() { }

    public SppClient(IHttpClientFactory httpClientFactory, IOptions<SppClientOptions> options, ILogger<SppClient>? logger = null)
    {
        _http = httpClientFactory.CreateClient(HttpClientName);
        _options = options.Value;
        _baseUri = _options.GetBaseUri();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The API root requests are sent under.</summary>
    public virtual Uri BaseUri => _baseUri;

    // ---- Order messages: Make's Create / List / Delete an Order Message ----

    /// <summary>Posts a message on an order (<c>POST order_messages/{order}</c>). Not retried unless SPP certainly did not act.</summary>
    /// <param name="order">Order id or number.</param>
    public virtual Task<SppMessage> CreateOrderMessageAsync(string order, SppNewMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SendJsonAsync<SppMessage>(HttpMethod.Post, $"order_messages/{Segment(order)}", message, cancellationToken);
    }

    /// <summary>An order's messages, newest first (<c>GET order_messages/{order}</c>).</summary>
    /// <param name="order">Order id or number.</param>
    /// <param name="limit">Most messages to return in all (Make's module defaults to 10); null for all.</param>
    /// <param name="pageSize">Messages per request; defaults to <paramref name="limit"/> up to 100, else SPP's default.</param>
    public virtual SppPageable<SppMessage> GetOrderMessagesAsync(
        string order, int? limit = null, int? pageSize = null, CancellationToken cancellationToken = default)
    {
        var query = new SppListQuery { Limit = limit, PageSize = pageSize ?? (limit is > 0 and <= 100 ? limit : null) };
        return List<SppMessage>($"order_messages/{Segment(order)}", query, cancellationToken);
    }

    /// <summary>Deletes an order message for good (<c>DELETE order_messages/{message}</c>).</summary>
    public virtual Task DeleteOrderMessageAsync(long messageId, CancellationToken cancellationToken = default) =>
        DeleteAsync($"order_messages/{messageId}", cancellationToken);

    // ---- Orders ----

    /// <summary>Orders, newest first unless <see cref="SppListQuery.Sort"/> says otherwise.</summary>
    public virtual SppPageable<SppOrder> GetOrdersAsync(SppListQuery? query = null, CancellationToken cancellationToken = default) =>
        List<SppOrder>("orders", query ?? new SppListQuery(), cancellationToken);

    /// <summary>One order by id or number.</summary>
    public virtual Task<SppOrder> GetOrderAsync(string order, CancellationToken cancellationToken = default) =>
        SendJsonAsync<SppOrder>(HttpMethod.Get, $"orders/{Segment(order)}", null, cancellationToken);

    /// <summary>Partial update of an order (status, tags, note, ...): fields left null are not changed.</summary>
    public virtual Task<SppOrder> UpdateOrderAsync(string order, SppOrderUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        return SendJsonAsync<SppOrder>(HttpMethod.Put, $"orders/{Segment(order)}", update, cancellationToken);
    }

    // ---- Invoices, subscriptions, tickets, clients ----

    /// <summary>One invoice by id or number.</summary>
    public virtual Task<SppInvoice> GetInvoiceAsync(string invoice, CancellationToken cancellationToken = default) =>
        SendJsonAsync<SppInvoice>(HttpMethod.Get, $"invoices/{Segment(invoice)}", null, cancellationToken);

    /// <summary>One subscription by id.</summary>
    public virtual Task<SppSubscription> GetSubscriptionAsync(long subscriptionId, CancellationToken cancellationToken = default) =>
        SendJsonAsync<SppSubscription>(HttpMethod.Get, $"subscriptions/{subscriptionId}", null, cancellationToken);

    /// <summary>One ticket by id or number, with its messages.</summary>
    public virtual Task<SppTicket> GetTicketAsync(string ticket, CancellationToken cancellationToken = default) =>
        SendJsonAsync<SppTicket>(HttpMethod.Get, $"tickets/{Segment(ticket)}", null, cancellationToken);

    /// <summary>A ticket's messages, newest first.</summary>
    public virtual SppPageable<SppMessage> GetTicketMessagesAsync(string ticket, int? limit = null, CancellationToken cancellationToken = default) =>
        List<SppMessage>($"ticket_messages/{Segment(ticket)}",
            new SppListQuery { Limit = limit, PageSize = limit is > 0 and <= 100 ? limit : null }, cancellationToken);

    /// <summary>One client account by id.</summary>
    public virtual Task<SppUser> GetClientAsync(long userId, CancellationToken cancellationToken = default) =>
        SendJsonAsync<SppUser>(HttpMethod.Get, $"clients/{userId}", null, cancellationToken);

    // ---- Raw call: Make's "Make an API Call" ----

    /// <summary>
    /// Sends a raw request under the API root and returns SPP's answer whatever its status. Throws
    /// <see cref="SppRequestFailedException"/> only when no answer arrived, and <see cref="ArgumentException"/>
    /// (before anything is sent) when the path would leave the API root, a reserved header is set, or a header name
    /// or value holds a control character (<see cref="SppHeaderGuard"/>).
    /// </summary>
    public virtual async Task<SppApiResponse> SendAsync(SppApiRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = WithQuery(SppPathGuard.Resolve(_baseUri, request.Path), request.Query);
        foreach (var (name, value) in request.Headers)
        {
            SppHeaderGuard.Validate(name, value);
            if (ReservedHeaders.Contains(name))
                throw new ArgumentException($"The header '{name}' is set by the client and cannot be overridden.", nameof(request));
        }
        var content = request.Body is null ? null : JsonBody(request.Body.ToJsonString());
        var path = LogPath(uri);
        using var response = await SendCoreAsync(request.Method, uri, content, request.Headers, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var headers = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in response.Headers.Concat(response.Content.Headers)) headers[h.Key] = h.Value.ToList();
        return new SppApiResponse((int)response.StatusCode, headers, body);
    }

    // ---- plumbing ----

    private SppPageable<T> List<T>(string path, SppListQuery query, CancellationToken cancellationToken) =>
        new((page, ct) => GetPageAsync<T>(path, query, page, ct), query.FirstPage, query.Limit, cancellationToken);

    private async Task<SppPage<T>> GetPageAsync<T>(string path, SppListQuery query, int page, CancellationToken cancellationToken)
    {
        var uri = WithQuery(new Uri(_baseUri, path), query.ToQueryParameters(page));
        var envelope = await ReadJsonAsync<PageEnvelope<T>>(HttpMethod.Get, uri, null, cancellationToken).ConfigureAwait(false);
        var items = envelope.Data ?? new List<T>();
        var current = envelope.Meta?.CurrentPage ?? page;
        var last = envelope.Meta?.LastPage;
        bool hasNext = envelope.Links is not null || last is not null
            ? envelope.Links?.Next is not null && (last is null || current < last)
            : items.Count > 0 && envelope.Meta?.PerPage is { } per && items.Count >= per;
        return new SppPage<T>(items, current, last, envelope.Meta?.PerPage, envelope.Meta?.Total, hasNext);
    }

    private Task<T> SendJsonAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var content = body is null ? null : JsonBody(JsonSerializer.Serialize(body, body.GetType(), SppJson.Options));
        return ReadJsonAsync<T>(method, new Uri(_baseUri, path), content, cancellationToken);
    }

    private async Task<T> ReadJsonAsync<T>(HttpMethod method, Uri uri, HttpContent? content, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, uri, content, null, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw CreateError(method, uri, response, body);
        try
        {
            // Single resources may arrive bare or wrapped in {"data": {...}}.
            var node = JsonNode.Parse(body);
            if (typeof(T).IsGenericType && typeof(T).GetGenericTypeDefinition() == typeof(PageEnvelope<>))
                return node.Deserialize<T>(SppJson.Options)!;
            if (node is JsonObject obj && obj.Count == 1 && obj["data"] is JsonObject inner) node = inner;
            return node.Deserialize<T>(SppJson.Options) ?? throw new JsonException("The body is null.");
        }
        catch (JsonException ex)
        {
            throw new SppRequestFailedException(
                $"SPP {method} {LogPath(uri)} answered {(int)response.StatusCode} " +
                $"with a body that could not be read as {typeof(T).Name}: {ex.Message}",
                (int)response.StatusCode, rawBody: body, apiIdentifier: ApiIdentifier(response), innerException: ex);
        }
    }

    private async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        var uri = new Uri(_baseUri, path);
        using var response = await SendCoreAsync(HttpMethod.Delete, uri, null, null, cancellationToken, out var context).ConfigureAwait(false);
        if (response.IsSuccessStatusCode) return;
        // A 404 on a retried DELETE means an earlier attempt deleted it: the effect the caller wanted.
        var attempts = context.TryGetValue(SppResiliencePolicies.AttemptsKey, out var a) ? (int)a : 1;
        if (response.StatusCode == HttpStatusCode.NotFound && attempts > 1) return;
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw CreateError(HttpMethod.Delete, uri, response, body);
    }

    private Task<HttpResponseMessage> SendCoreAsync(
        HttpMethod method, Uri uri, HttpContent? content, IDictionary<string, string>? headers, CancellationToken cancellationToken) =>
        SendCoreAsync(method, uri, content, headers, cancellationToken, out _);

    private Task<HttpResponseMessage> SendCoreAsync(HttpMethod method, Uri uri, HttpContent? content, IDictionary<string, string>? headers,
        CancellationToken cancellationToken, out Context context)
    {
        var ctx = new Context($"{method} {uri.AbsolutePath}")
        {
            ["spp.method"] = method.Method,
            ["spp.path"] = LogPath(uri),
            [SppResiliencePolicies.AttemptsKey] = 1,
        };
        context = ctx;
        return Send();

        async Task<HttpResponseMessage> Send()
        {
            using var request = new HttpRequestMessage(method, uri) { Content = content };
            request.Headers.Accept.Add(JsonMediaType);
            request.Headers.TryAddWithoutValidation("X-Api-Version", _options.ApiVersion);
            if (headers is not null)
            {
                foreach (var (name, value) in headers)
                {
                    SppHeaderGuard.Validate(name, value); // where the request is built, whoever called
                    if (!request.Headers.TryAddWithoutValidation(name, value) && request.Content is not null)
                    {
                        request.Content.Headers.Remove(name);
                        request.Content.Headers.TryAddWithoutValidation(name, value);
                    }
                }
            }
            request.SetPolicyExecutionContext(ctx);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                _logger.Log(response.IsSuccessStatusCode ? LogLevel.Debug : LogLevel.Warning,
                    "SPP {Method} {Path} answered {Status} in {ElapsedMs} ms after {Attempts} attempt(s) (X-Api-Identifier {ApiIdentifier})",
                    method.Method, ctx["spp.path"], (int)response.StatusCode, (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                    ctx[SppResiliencePolicies.AttemptsKey], ApiIdentifier(response));
                return response;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
                or OperationCanceledException or IOException)
            {
                var why = ex switch
                {
                    BrokenCircuitException => "the circuit breaker is open after repeated failures",
                    TimeoutRejectedException or OperationCanceledException => "the attempt timed out",
                    HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } =>
                        "no connection could be made",
                    _ => "the connection failed before an answer arrived",
                };
                var reached = ex is not BrokenCircuitException
                    && ex is not HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };
                _logger.LogWarning("SPP {Method} {Path} got no answer: {Reason}", method.Method, ctx["spp.path"], why);
                throw new SppRequestFailedException(
                    $"SPP {method.Method} {ctx["spp.path"]} failed: {why}.", 0, innerException: ex, serverReached: reached);
            }
        }
    }

    private static SppRequestFailedException CreateError(HttpMethod method, Uri uri, HttpResponseMessage response, string body)
    {
        string? sppMessage = null;
        var errors = new Dictionary<string, IReadOnlyList<string>>();
        try
        {
            if (JsonNode.Parse(body) is JsonObject obj)
            {
                sppMessage = obj["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : null;
                if (obj["errors"] is JsonObject errs)
                {
                    foreach (var (field, value) in errs)
                    {
                        errors[field] = value switch
                        {
                            JsonArray arr => arr.Select(e => e?.ToString() ?? "").ToList(),
                            null => new List<string>(),
                            _ => new List<string> { value.ToString() },
                        };
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the raw body is kept on the exception.
        }

        var status = (int)response.StatusCode;
        var retryAfter = response.Headers.RetryAfter is { } ra
            ? ra.Delta ?? (ra.Date is { } d ? d - DateTimeOffset.UtcNow : null)
            : null;
        var id = ApiIdentifier(response);
        var text2 = new StringBuilder($"SPP {method.Method} {LogPath(uri)} failed with {status} ({response.ReasonPhrase})");
        if (sppMessage is not null) text2.Append(": ").Append(sppMessage);
        foreach (var (field, messages) in errors) text2.Append($" [{field}: {string.Join(" ", messages)}]");
        if (id is not null) text2.Append($" (X-Api-Identifier {id})");
        return new SppRequestFailedException(text2.ToString(), status, sppMessage, errors, body, id, retryAfter);
    }

    private static string? ApiIdentifier(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Api-Identifier", out var values) ? values.FirstOrDefault() : null;

    /// <summary>The path as logged: no host, no query string.</summary>
    private static string LogPath(Uri uri) => uri.AbsolutePath;

    private static ByteArrayContent JsonBody(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private static string Segment(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        var trimmed = id.Trim();
        // Escaping keeps '/' and '?' inside the segment, but '.' and '..' would still be read as path steps.
        if (trimmed is "." or "..") throw new ArgumentException($"'{trimmed}' is not an id or number.", nameof(id));
        return Uri.EscapeDataString(trimmed);
    }

    private static Uri WithQuery(Uri uri, IEnumerable<KeyValuePair<string, string>> query)
    {
        var parts = query.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value ?? "")}").ToList();
        if (parts.Count == 0) return uri;
        var builder = new UriBuilder(uri) { Query = string.Join("&", parts) };
        return builder.Uri;
    }

    private sealed class PageEnvelope<T>
    {
        public List<T>? Data { get; set; }
        public PageLinks? Links { get; set; }
        public PageMeta? Meta { get; set; }
    }

    private sealed class PageLinks
    {
        public string? Next { get; set; }
    }

    private sealed class PageMeta
    {
        public int? CurrentPage { get; set; }
        public int? LastPage { get; set; }
        public int? PerPage { get; set; }
        public int? Total { get; set; }
    }
}
