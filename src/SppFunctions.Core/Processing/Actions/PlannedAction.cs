using System.Text.Json.Nodes;

namespace SppFunctions.Processing.Actions;

/// <summary>
/// An action with every value resolved, ready to run against SPP (or a forward target). Rules produce these by
/// rendering their templates; commands carry them directly.
/// </summary>
public abstract record PlannedAction
{
    /// <summary>The action type as written in rules and commands.</summary>
    public abstract string Type { get; }

    /// <summary>True when running it twice has the effect of running it once (GET/PUT/DELETE).</summary>
    public abstract bool IsIdempotent { get; }

    /// <summary>A one-line description for logs and the action record (no payload data beyond ids).</summary>
    public abstract string Describe();

    /// <summary>
    /// Record what the action returned (<c>{status, headers, body}</c>) with its action record, so later steps read it
    /// as <c>steps.&lt;id&gt;</c>, also on a redelivery that skips this action. Set for rule steps that have an id.
    /// </summary>
    public bool KeepOutput { get; init; }
}

/// <summary>Make's "Create an Order Message".</summary>
public sealed record CreateOrderMessageAction(string Order, string Message, long? UserId, bool StaffOnly) : PlannedAction
{
    public const string TypeName = "create_order_message";
    public override string Type => TypeName;
    public override bool IsIdempotent => false;
    public override string Describe() => $"create a{(StaffOnly ? " staff-only" : "")} message on order {Order}";
}

/// <summary>Make's "Delete an Order Message".</summary>
public sealed record DeleteOrderMessageAction(long MessageId) : PlannedAction
{
    public const string TypeName = "delete_order_message";
    public override string Type => TypeName;
    public override bool IsIdempotent => true;
    public override string Describe() => $"delete order message {MessageId}";
}

/// <summary>Make's "List Order Messages": the order's newest messages, newest first; its output's body is the list.</summary>
public sealed record ListOrderMessagesAction(string Order, int Limit) : PlannedAction
{
    public const string TypeName = "list_order_messages";
    public override string Type => TypeName;
    public override bool IsIdempotent => true;
    public override string Describe() => $"list the {Limit} newest messages of order {Order}";
}

/// <summary>Make's "Make an API Call", through the SPP client's guarded raw call.</summary>
public sealed record ApiCallAction(HttpMethod Method, string Path, IReadOnlyList<KeyValuePair<string, string>> Query,
    IReadOnlyDictionary<string, string> Headers, JsonNode? Body) : PlannedAction
{
    public const string TypeName = "api_call";
    public override string Type => TypeName;
    public override bool IsIdempotent => Spp.Client.Resilience.SppResiliencePolicies.IsIdempotent(Method);
    public override string Describe() => $"{Method} {Path}";
}

/// <summary>POST the event (or a body built from it) as JSON to an allowed HTTPS URL, e.g. a Slack or Teams webhook.</summary>
public sealed record ForwardAction(Uri Url, JsonNode Body, IReadOnlyDictionary<string, string> Headers) : PlannedAction
{
    public const string TypeName = "forward";
    public override string Type => TypeName;
    public override bool IsIdempotent => false;
    public override string Describe() => $"forward to {Url.Host}";
}

/// <summary>
/// A custom C# handler registered in DI, run with the same at-most-once bookkeeping as the other actions.
/// </summary>
public sealed record HandlerAction(Handlers.IEventHandler Handler, Handlers.EventContext Context) : PlannedAction
{
    public const string TypeName = "handler";
    public override string Type => TypeName;
    /// <summary>Handlers must be idempotent (they get an idempotency key), so a failed run is retried.</summary>
    public override bool IsIdempotent => true;
    public override string Describe() => $"handler {Handler.GetType().Name}";
}
