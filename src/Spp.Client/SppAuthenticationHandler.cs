using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace Spp.Client;

/// <summary>
/// Puts the API key on a request at the last moment, as the primary handler of the SPP <see cref="HttpClient"/>:
/// below every logging handler of IHttpClientFactory. Those log request headers at Trace level, and although
/// <c>RedactLoggedHeaders</c> masks the formatted text, the raw values stay in the log entry's structured state, which
/// structured sinks (Application Insights custom dimensions, JSON consoles) write out. A header added here is seen by
/// no logger. It is taken off again once the attempt is over, because a retry sends the same request object through
/// the loggers once more. Only requests beneath <c>Spp__BaseUrl</c> get the key.
/// </summary>
internal sealed class SppAuthenticationHandler(IOptions<SppClientOptions> options, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var value = options.Value;
        if (request.RequestUri is not { } uri || !value.GetBaseUri().IsBaseOf(uri))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", value.ApiKey);
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            request.Headers.Authorization = null;
        }
    }
}
