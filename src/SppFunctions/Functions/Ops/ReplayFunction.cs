using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using SppFunctions.Processing;

namespace SppFunctions.Functions.Ops;

/// <summary>
/// POST /api/ops/replay (admin level: the host's master key) re-enqueues failed events:
/// <c>{"ids": ["1764403200-..."]}</c> and/or <c>{"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}</c>.
/// Answers <c>{"replayed": [...], "skipped": [{"id", "reason"}], "truncated": bool}</c>.
/// </summary>
public sealed class ReplayFunction(ReplayService replay)
{
    [Function("ReplayEvents")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/replay")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (parsed, error, field) = await ReplayRequestReader.ReadAsync(request.Body, cancellationToken);
        if (parsed is null) return JsonResults.Create(request.HttpContext.Response, 400, new JsonObject { ["error"] = error, ["field"] = field });
        try
        {
            var report = await replay.ReplayAsync(parsed, cancellationToken);
            return JsonResults.Create(request.HttpContext.Response, 200, JsonSerializer.SerializeToNode(report, JsonOptions)!);
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or AggregateException { InnerException: Azure.RequestFailedException })
        {
            // Events re-enqueued before the failure stay re-enqueued (their rows say "received"); calling again replays the rest.
            return JsonResults.Create(request.HttpContext.Response, 503,
                new JsonObject
                {
                    ["error"] = "Storage failed during the replay; events already re-enqueued stay so. Call again to replay the rest.",
                    ["field"] = null,
                },
                TimeSpan.FromSeconds(30));
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
