using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using SppFunctions.Processing.Handlers;

namespace SppFunctions.Polling;

/// <summary>
/// Keeps the watch set in step with order webhooks (created, updated, status changed, ...): an order event adds its
/// order, one with a closed status (or <c>order.deleted</c>) removes it. Adding and removing are idempotent, so it runs
/// directly on every delivery, without action records.
/// </summary>
public sealed class WatchSetUpdater(WatchStore watch, IOptions<PollingOptions> options, TimeProvider time) : IIdempotentEventHandler
{
    public IReadOnlyList<string> Patterns { get; } = ["order.*"];

    public async Task HandleAsync(EventContext context, CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled || context.Data is not { } data) return;
        var key = data["id"] is JsonValue id ? id.ToString() : null;
        if (string.IsNullOrWhiteSpace(key)) return;
        var status = data["status"] is JsonValue s ? s.ToString() : null;
        if (options.Value.IsClosed(status) || context.Name.EndsWith(".deleted", StringComparison.OrdinalIgnoreCase))
        {
            await watch.RemoveAsync(key, cancellationToken);
        }
        else
        {
            await watch.AddAsync(key, "webhook", time.GetUtcNow(), cancellationToken);
        }
    }
}
