using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace SppFunctions.Functions;

/// <summary>Turns a service's answer into an HTTP result: JSON body, status, and Retry-After when given.</summary>
internal static class JsonResults
{
    public static IActionResult Create(HttpResponse response, int status, JsonNode body, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } wait) response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return new ContentResult { StatusCode = status, ContentType = "application/json; charset=utf-8", Content = body.ToJsonString() };
    }
}
