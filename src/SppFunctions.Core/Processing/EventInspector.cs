using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using SppFunctions.Events;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Rules;
using SppFunctions.Storage;

namespace SppFunctions.Processing;

/// <summary>
/// Which events to list: status, name (<c>order.created</c>, or a pattern such as <c>order.*</c>), a range of SPP's
/// <c>created</c> [from, to), and how many of the newest to return.
/// </summary>
public sealed record EventQuery(string? Status = null, string? Name = null, DateTimeOffset? From = null, DateTimeOffset? To = null,
    int Limit = EventInspector.DefaultLimit);

/// <summary>An event's log row and the records of its actions (the partition they live in: the event id, or <c>cmd-{id}</c> for a command).</summary>
public sealed record EventDetails(EventEntry Entry, string ActionScope, IReadOnlyList<ActionRecord> Actions);

/// <summary>Read-only views of the event log for operators (the CLI's <c>events list</c> and <c>events show</c>).</summary>
public class EventInspector
{
    private static readonly string[] PartitionKeyOnly = ["PartitionKey"];
    public const int DefaultLimit = 50;
    public const int MaxLimit = 10_000;

    private readonly EventStore _log;
    private readonly ActionRecordStore _actions;
    private readonly PayloadStore _payloads;

    public EventInspector(EventStore log, ActionRecordStore actions, PayloadStore payloads)
    {
        _log = log;
        _actions = actions;
        _payloads = payloads;
    }

    /// <summary>
    /// The newest <see cref="EventQuery.Limit"/> events matching the query, newest first (by SPP time, then id).
    /// The log is read in full within the range: narrow it with From/To on a large log.
    /// </summary>
    public virtual async Task<IReadOnlyList<EventEntry>> ListAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var pattern = query.Name is { } n && n.Contains('*') ? new EventPattern(n) : null;
        var exactName = pattern is null ? query.Name : null;
        // Keep only the newest Limit rows while reading (the table returns them oldest day first).
        var newest = new PriorityQueue<EventEntry, (DateTimeOffset, string)>();
        await foreach (var entry in _log.QueryAsync(query.Status, exactName, query.From, query.To, cancellationToken).ConfigureAwait(false))
        {
            if (pattern is not null && !pattern.Matches(entry.EventName)) continue;
            newest.Enqueue(entry, (entry.CreatedAt, entry.RowKey));
            if (newest.Count > query.Limit) newest.Dequeue();
        }
        var list = new List<EventEntry>(newest.Count);
        while (newest.Count > 0) list.Add(newest.Dequeue());
        list.Reverse();
        return list;
    }

    /// <summary>An event's row and action records, or null when there is no such event.</summary>
    public virtual async Task<EventDetails?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var entry = await _log.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (entry is null) return null;
        var scope = entry.Source == EventSources.Command ? await CommandScopeAsync(entry.RowKey,
            cancellationToken).ConfigureAwait(false) : entry.RowKey;
        var actions = scope is null ? Array.Empty<ActionRecord>() : await _actions.ListAsync(scope, cancellationToken).ConfigureAwait(false);
        // A command's partition also holds its "log" bookkeeping row, which is not an action.
        return new EventDetails(entry, scope ?? entry.RowKey, actions.Where(a => !(a.PartitionKey.StartsWith("cmd-",
            StringComparison.Ordinal) && a.RowKey == "log")).ToList());
    }

    /// <summary>The token-free payload <c>{event, created, data}</c> when it was kept in a blob (large or failed events), else null.</summary>
    public virtual async Task<JsonNode?> ReadPayloadAsync(EventEntry entry, CancellationToken cancellationToken)
    {
        if (entry.PayloadBlob is null) return null;
        var content = await _payloads.ReadAsync(entry.PayloadBlob, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(content.ToString());
        }
        catch (JsonException)
        {
            return JsonValue.Create(content.ToString());
        }
    }

    /// <summary>The action-record partition of a command, found through the log id recorded when it was first seen.</summary>
    private async Task<string?> CommandScopeAsync(string logId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey eq {"log"} and EventId eq {logId}");
        try
        {
            await foreach (var row in _actions.Table.QueryAsync<TableEntity>(filter, select: PartitionKeyOnly,
                cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                return row.PartitionKey;
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // No actions table yet: no command has run.
        }
        return null;
    }
}
