using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace SppFunctions.Processing.Handlers;

/// <summary>
/// Custom C# code that runs for events matching <see cref="Patterns"/>, after the rules file's actions. Register it
/// with <c>services.AddEventHandler&lt;MyHandler&gt;()</c>. A handler that completed is not run again for the same
/// event, even when the queue delivers the message twice; if it may run twice (a crash after it acted and before
/// that was recorded), use <see cref="EventContext.IdempotencyKey"/> to make its effect idempotent. Throw
/// <see cref="Actions.PermanentActionException"/> to fail the event for good; any other exception retries it.
/// </summary>
[SuppressMessage("Naming", "CA1711", Justification = "It handles SPP events; it is not a .NET event delegate.")]
public interface IEventHandler
{
    /// <summary>Event-name patterns, with <c>*</c> as a wildcard: <c>order.*</c>, <c>invoice.paid</c>, <c>*</c>.</summary>
    IReadOnlyList<string> Patterns { get; }

    Task HandleAsync(EventContext context, CancellationToken cancellationToken);
}

/// <summary>
/// A handler whose effect is idempotent by nature (e.g. "add this order to a set"): it runs directly on every delivery of
/// a matching event, without the action records that make other handlers at-most-once, which saves their storage round
/// trips. Any exception retries the event.
/// </summary>
[SuppressMessage("Naming", "CA1711", Justification = "It handles SPP events; it is not a .NET event delegate.")]
public interface IIdempotentEventHandler : IEventHandler;

/// <summary>An event as rules and handlers see it.</summary>
public sealed class EventContext
{
    public EventContext(string id, string name, string topic, long created, string source, JsonObject payload, bool isOwnMessage)
    {
        Id = id;
        Name = name;
        Topic = topic;
        Created = created;
        Source = source;
        Payload = payload;
        IsOwnMessage = isOwnMessage;
        Scope = new JsonObject
        {
            ["id"] = id,
            ["event"] = name,
            ["topic"] = topic,
            ["created"] = created,
            ["source"] = source,
            ["data"] = payload["data"]?.DeepClone(),
        };
    }

    /// <summary>The event id (stable across redeliveries).</summary>
    public string Id { get; }
    /// <summary>The SPP event name, e.g. <c>order.created</c>.</summary>
    public string Name { get; }
    public string Topic { get; }
    /// <summary>SPP's <c>created</c>, Unix seconds.</summary>
    public long Created { get; }
    /// <summary>webhook, poller or replay.</summary>
    public string Source { get; }
    /// <summary>SPP's envelope without its token: <c>{event, created, data}</c>.</summary>
    public JsonObject Payload { get; }
    /// <summary>The event's <c>data</c> object.</summary>
    public JsonObject? Data => Payload["data"] as JsonObject;
    /// <summary>True when the event is about a message this app posted itself.</summary>
    public bool IsOwnMessage { get; }
    /// <summary>What rule templates and conditions read: <c>{id, event, topic, created, source, data}</c>.</summary>
    public JsonObject Scope { get; }
    /// <summary>Set for a handler run: unique per event and handler, stable across retries.</summary>
    public string IdempotencyKey { get; internal set; } = "";
}
