using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Contrib.WaitAndRetry;
using Polly.Timeout;

namespace Spp.Client.Resilience;

/// <summary>
/// The Polly policies around every SPP request, outermost first: retry → concurrency limit (bulkhead) → circuit breaker
/// → per-attempt timeout. The bulkhead holds this process to <see cref="SppClientOptions.MaxConcurrentRequests"/> calls
/// in flight (the others queue, in order); a retry's wait holds no slot, and an open circuit still fails at once.
///
/// Retry policy per method, chosen so that a retry never duplicates a side effect:
/// <list type="table">
///   <item><term>GET, HEAD, OPTIONS, PUT, DELETE</term><description>Idempotent: retried on no answer (connection
///   failure, dropped connection, attempt timeout), 408, 429 and 5xx.</description></item>
///   <item><term>POST, PATCH and anything else</term><description>May create something: retried only when SPP
///   certainly did not act on it: 429 (throttled before handling) or a connection that was never established.
///   Never after a timeout, a dropped connection or a 5xx, where SPP may have acted.</description></item>
/// </list>
/// Waits back off exponentially with decorrelated jitter; a <c>Retry-After</c> (seconds or HTTP date) replaces the
/// computed wait. A Retry-After longer than <see cref="SppRetryOptions.MaxRetryAfter"/> is not waited for: the
/// response goes back to the caller, which fails as transient.
/// The circuit breaker counts no-answer, 408 and 5xx outcomes (not 429) over a sampling window; while open, calls fail
/// at once without reaching SPP.
/// </summary>
public sealed class SppResiliencePolicies
{
    /// <summary>Polly context key holding the number of attempts made for a request.</summary>
    public const string AttemptsKey = "spp.attempts";

    private readonly SppClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IAsyncPolicy<HttpResponseMessage> _idempotent;
    private readonly IAsyncPolicy<HttpResponseMessage> _nonIdempotent;

    public SppResiliencePolicies(IOptions<SppClientOptions> options, TimeProvider time, ILogger<SppResiliencePolicies> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;

        var breaker = Policy<HttpResponseMessage>
            .Handle<HttpRequestException>()
            .Or<TimeoutRejectedException>()
            .OrResult(r => r.StatusCode == HttpStatusCode.RequestTimeout || (int)r.StatusCode >= 500)
            .AdvancedCircuitBreakerAsync(
                _options.CircuitBreaker.FailureRatio,
                _options.CircuitBreaker.SamplingDuration,
                _options.CircuitBreaker.MinimumThroughput,
                _options.CircuitBreaker.BreakDuration,
                onBreak: (outcome, wait) => _logger.LogWarning("SPP circuit opened for {BreakDuration} after {Outcome}", wait, Describe(outcome)),
                onReset: () => _logger.LogInformation("SPP circuit closed"),
                onHalfOpen: () => _logger.LogInformation("SPP circuit half-open: trying one call"));

        var timeout = Policy.TimeoutAsync<HttpResponseMessage>(_options.AttemptTimeout, TimeoutStrategy.Optimistic);

        var idempotentRetry = Policy<HttpResponseMessage>
            .Handle<HttpRequestException>()
            .Or<TimeoutRejectedException>()
            .OrResult(r => SppRequestFailedException.IsTransientStatus((int)r.StatusCode) && RetryAfterWithinCap(r))
            .WaitAndRetryAsync(_options.Retry.MaxRetries, SleepDuration, OnRetry);

        var nonIdempotentRetry = Policy<HttpResponseMessage>
            .Handle<HttpRequestException>(NoConnectionWasMade)
            .OrResult(r => r.StatusCode == HttpStatusCode.TooManyRequests && RetryAfterWithinCap(r))
            .WaitAndRetryAsync(_options.Retry.MaxRetries, SleepDuration, OnRetry);

        var bulkhead = Policy.BulkheadAsync<HttpResponseMessage>(_options.MaxConcurrentRequests, int.MaxValue);

        _idempotent = Policy.WrapAsync(idempotentRetry, bulkhead, breaker, timeout);
        _nonIdempotent = Policy.WrapAsync(nonIdempotentRetry, bulkhead, breaker, timeout);
    }

    /// <summary>Methods whose repetition has no further effect (RFC 9110 §9.2.2).</summary>
    public static bool IsIdempotent(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
        || method == HttpMethod.Put || method == HttpMethod.Delete;

    /// <summary>The policy for one request, by its method.</summary>
    public IAsyncPolicy<HttpResponseMessage> ForRequest(HttpRequestMessage request) =>
        IsIdempotent(request.Method) ? _idempotent : _nonIdempotent;

    /// <summary>True when the request never reached SPP: the connection could not be made at all.</summary>
    internal static bool NoConnectionWasMade(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;

    /// <summary>The wait SPP asked for in Retry-After (delta seconds or an HTTP date), if any.</summary>
    internal TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        if (header is null) return null;
        if (header.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    private bool RetryAfterWithinCap(HttpResponseMessage response) =>
        RetryAfter(response) is not { } wait || wait <= _options.Retry.MaxRetryAfter;

    private TimeSpan SleepDuration(int attempt, DelegateResult<HttpResponseMessage> outcome, Context context)
    {
        if (RetryAfter(outcome.Result) is { } requested) return requested;
        if (_options.Retry.BaseDelay <= TimeSpan.Zero) return TimeSpan.Zero;
        var backoff = Backoff.DecorrelatedJitterBackoffV2(_options.Retry.BaseDelay, attempt).Last();
        return backoff > _options.Retry.MaxDelay ? _options.Retry.MaxDelay : backoff;
    }

    private Task OnRetry(DelegateResult<HttpResponseMessage> outcome, TimeSpan wait, int attempt, Context context)
    {
        context[AttemptsKey] = attempt + 1;
        context.TryGetValue("spp.method", out var method);
        context.TryGetValue("spp.path", out var path);
        _logger.LogWarning("SPP {Method} {Path}: attempt {Attempt} got {Outcome}; retrying in {Wait} ms",
            method, path, attempt, Describe(outcome), (int)wait.TotalMilliseconds);
        outcome.Result?.Dispose();
        return Task.CompletedTask;
    }

    private static string Describe(DelegateResult<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => $"status {(int)outcome.Result.StatusCode}",
        TimeoutRejectedException => "attempt timeout",
        HttpRequestException http => $"no answer ({http.HttpRequestError})",
        var ex => ex.GetType().Name,
    };
}
