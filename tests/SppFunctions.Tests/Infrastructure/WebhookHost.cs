using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SppFunctions.Functions.Webhooks;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>
/// A real HTTP endpoint on 127.0.0.1 that stands in for the Functions host's webhook routes: <c>POST /api/webhooks/spp</c>
/// and <c>POST /api/webhooks/spp/{topic}</c> go to <see cref="WebhookFunctions.Accept"/>, built from an
/// <see cref="AppHarness"/>'s services (its storage names, its settings). Anything else answers 404, as the host does.
/// </summary>
public sealed class WebhookHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookHost(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>E.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The route that takes every event.</summary>
    public Uri WebhookUrl => new(BaseUrl, "api/" + WebhookFunctions.Route);

    /// <summary>Requests answered so far.</summary>
    public int Requests => _requests;
    private int _requests;

    public static async Task<WebhookHost> StartAsync(AppHarness app)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var web = builder.Build();
        WebhookHost? host = null;

        async Task Handle(HttpContext context, string? topic)
        {
            Interlocked.Increment(ref host!._requests);
            // The function class comes from the app's services, as the Functions host would create it.
            var function = app.Function<WebhookFunctions>();
            var result = await function.Accept(context.Request, topic, context.RequestAborted);
            var content = (ContentResult)result;
            context.Response.StatusCode = content.StatusCode ?? 200;
            context.Response.ContentType = content.ContentType;
            await context.Response.WriteAsync(content.Content ?? "", context.RequestAborted);
        }

        web.MapPost("/api/" + WebhookFunctions.Route, (HttpContext context) => Handle(context, null));
        web.MapPost("/api/" + WebhookFunctions.Route + "/{topic}", (HttpContext context, string topic) => Handle(context, topic));
        await web.StartAsync();
        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        host = new WebhookHost(web, new Uri(address.TrimEnd('/') + "/"));
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
