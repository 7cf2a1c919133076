using System.Globalization;
using System.Text.Json.Nodes;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Handlers;
using SppFunctions.Processing.Templates;

namespace SppFunctions.Processing.Rules;

/// <summary>
/// A step of a rule: an action, or a forEach over a list. <see cref="Id"/> names its output for later steps
/// (<c>steps.&lt;id&gt;</c>); <see cref="When"/> must hold for it to run (a step whose conditions do not hold is skipped).
/// </summary>
public abstract class RuleStep
{
    /// <summary>Position in its list (the rule's <c>actions</c>, or the forEach's).</summary>
    public int Index { get; init; }
    /// <summary>Where it is in the rules file, e.g. <c>actions[1]</c> or <c>actions[1].actions[0]</c>.</summary>
    public string Field { get; init; } = "";
    public string? Id { get; init; }
    public IReadOnlyList<Condition> When { get; init; } = Array.Empty<Condition>();
    public abstract string Type { get; }
}

/// <summary>Make's Iterator: the nested steps run once per item of the list at <see cref="ItemsPath"/>, which read it as <c>item</c>.</summary>
public sealed class ForEachStep : RuleStep
{
    public required string ItemsPath { get; init; }
    public required IReadOnlyList<ActionTemplate> Steps { get; init; }
    public override string Type => Model.ForEachDefinition.TypeName;
}

/// <summary>An action of a rule, its text fields parsed as templates at start-up; resolved per event.</summary>
public abstract class ActionTemplate : RuleStep
{
    /// <summary>
    /// Renders the templates over the scope (the event, plus <c>steps</c> and <c>item</c>). Throws only
    /// <see cref="ActionFailedException"/> (permanent): a missing value, an invalid result, or any other error of the
    /// templates on this event's data, which fails the action for good, never the event's other rules.
    /// </summary>
    public PlannedAction Resolve(JsonObject scope)
    {
        try
        {
            return ResolveCore(scope) with { KeepOutput = Id is not null };
        }
        catch (TemplateValueMissingException ex)
        {
            throw new ActionFailedException(ex.Message, ActionFailureKind.Permanent, ex);
        }
        catch (ActionFailedException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // The event's values only fill the templates; whatever they make a template do, it is this action's failure.
            throw new ActionFailedException($"The templates of this {Type} action failed on this event's data ({ex.GetType().Name}).",
                ActionFailureKind.Permanent, ex);
        }
    }

    /// <summary>Resolves over the event alone (no steps), as before steps existed.</summary>
    public PlannedAction Resolve(EventContext context) => Resolve(context.Scope);

    protected abstract PlannedAction ResolveCore(JsonObject scope);

    protected static ActionFailedException Invalid(string message) => new(message, ActionFailureKind.Permanent);

    /// <summary>Renders one field; an error of the template on this event's data (e.g. divided_by: 0) names the field, never the data.</summary>
    protected static string RenderField(
        string field, CompiledTemplate template, JsonObject scope, TemplateEncoding encoding = TemplateEncoding.None) =>
        RenderField(field, () => template.Render(scope, encoding));

    protected static T RenderField<T>(string field, Func<T> render)
    {
        try
        {
            return render();
        }
        catch (Exception ex) when (ex is not TemplateValueMissingException and not ActionFailedException
            and not OperationCanceledException and not OutOfMemoryException)
        {
            throw new ActionFailedException($"{field}: the template failed on this event's data ({ex.GetType().Name}).",
                ActionFailureKind.Permanent, ex);
        }
    }

    protected static long ParseId(string field, string text) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw Invalid($"{field} rendered to a value ({text.Length} characters) that is not a positive integer id.");

    protected static bool ParseBool(string field, string text) => text.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" or "" => false,
        _ => throw Invalid($"{field} rendered to a value that is not true or false."),
    };

}

/// <summary>Make's "List Order Messages".</summary>
public sealed class ListOrderMessagesTemplate : ActionTemplate
{
    public required CompiledTemplate Order { get; init; }
    public CompiledTemplate? Limit { get; init; }
    public override string Type => ListOrderMessagesAction.TypeName;

    protected override PlannedAction ResolveCore(JsonObject scope)
    {
        var order = RenderField("order", Order, scope).Trim();
        if (order.Length == 0) throw Invalid("order rendered to an empty string.");
        var limit = Model.ListOrderMessagesDefinition.DefaultLimit;
        if (Limit is not null)
        {
            var text = RenderField("limit", Limit, scope).Trim();
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > Model.ListOrderMessagesDefinition.MaxLimit)
            {
                throw Invalid($"limit rendered to a value that is not a number between 1 and {Model.ListOrderMessagesDefinition.MaxLimit}.");
            }
        }
        return new ListOrderMessagesAction(order, limit);
    }
}

public sealed class CreateOrderMessageTemplate : ActionTemplate
{
    public required CompiledTemplate Order { get; init; }
    public required CompiledTemplate Message { get; init; }
    public CompiledTemplate? UserId { get; init; }
    public CompiledTemplate? StaffOnly { get; init; }
    public override string Type => CreateOrderMessageAction.TypeName;

    protected override PlannedAction ResolveCore(JsonObject scope)
    {
        var order = RenderField("order", Order, scope).Trim();
        if (order.Length == 0) throw Invalid("order rendered to an empty string.");
        var message = RenderField("message", Message, scope, TemplateEncoding.Html);
        if (string.IsNullOrWhiteSpace(message)) throw Invalid("message rendered to an empty string.");
        var userId = UserId is null ? (long?)null : ParseId("userId", RenderField("userId", UserId, scope));
        var staffOnly = StaffOnly is not null && ParseBool("staffOnly", RenderField("staffOnly", StaffOnly, scope));
        return new CreateOrderMessageAction(order, message, userId, staffOnly);
    }
}

public sealed class DeleteOrderMessageTemplate : ActionTemplate
{
    public required CompiledTemplate MessageId { get; init; }
    public override string Type => DeleteOrderMessageAction.TypeName;

    protected override PlannedAction ResolveCore(JsonObject scope) => new DeleteOrderMessageAction(ParseId("messageId", RenderField("messageId",
        MessageId, scope)));
}

public sealed class ApiCallTemplate : ActionTemplate
{
    public required HttpMethod Method { get; init; }
    public required CompiledTemplate Path { get; init; }
    public IReadOnlyList<KeyValuePair<string, CompiledTemplate>> Query { get; init; } = Array.Empty<KeyValuePair<string, CompiledTemplate>>();
    public IReadOnlyList<KeyValuePair<string, CompiledTemplate>> Headers { get; init; } = Array.Empty<KeyValuePair<string, CompiledTemplate>>();
    public JsonTemplate? Body { get; init; }
    public override string Type => ApiCallAction.TypeName;

    protected override PlannedAction ResolveCore(JsonObject scope) => new ApiCallAction(
        Method,
        RenderField("path", Path, scope, TemplateEncoding.UrlSegment),
        Query.Select(q => new KeyValuePair<string, string>(q.Key, RenderField($"query.{q.Key}", q.Value, scope))).ToList(),
        Headers.ToDictionary(h => h.Key, h => RenderField($"headers.{h.Key}", h.Value, scope), StringComparer.OrdinalIgnoreCase),
        RenderField("body", () => Body?.Render(scope)));
}

public sealed class ForwardTemplate : ActionTemplate
{
    public required CompiledTemplate Url { get; init; }
    /// <summary>Null: the event itself, <c>{id, event, topic, created, data}</c>.</summary>
    public JsonTemplate? Body { get; init; }
    public IReadOnlyList<KeyValuePair<string, CompiledTemplate>> Headers { get; init; } = Array.Empty<KeyValuePair<string, CompiledTemplate>>();
    public required ForwardOptions Options { get; init; }
    public override string Type => ForwardAction.TypeName;

    protected override PlannedAction ResolveCore(JsonObject scope)
    {
        var text = RenderField("url", Url, scope).Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url)) throw Invalid("url rendered to a value that is not an absolute URL.");
        if (Options.Refusal(url) is { } why) throw Invalid($"forward refused: {why}.");
        var body = RenderField("body", () => Body?.Render(scope)) ?? new JsonObject
        {
            ["id"] = scope["id"]?.DeepClone(),
            ["event"] = scope["event"]?.DeepClone(),
            ["topic"] = scope["topic"]?.DeepClone(),
            ["created"] = scope["created"]?.DeepClone(),
            ["data"] = scope["data"]?.DeepClone(),
        };
        return new ForwardAction(url, body, Headers.ToDictionary(h => h.Key, h => RenderField($"headers.{h.Key}", h.Value, scope),
            StringComparer.OrdinalIgnoreCase));
    }
}

/// <summary>A JSON value whose strings are templates; numbers, booleans and nulls stay as written.</summary>
public sealed class JsonTemplate
{
    private readonly JsonNode? _shape;
    private readonly Dictionary<string, CompiledTemplate> _strings;

    private JsonTemplate(JsonNode? shape, Dictionary<string, CompiledTemplate> strings)
    {
        _shape = shape;
        _strings = strings;
    }

    /// <summary>Parses every string in <paramref name="node"/>; returns the first syntax error (with its JSON path).</summary>
    public static JsonTemplate? Compile(JsonNode? node, TemplateEngine engine, out string? error)
    {
        error = null;
        var strings = new Dictionary<string, CompiledTemplate>();
        foreach (var (path, text) in Strings(node, "$"))
        {
            if (!engine.TryParse(text, out var template, out var message))
            {
                error = $"{path}: {message}";
                return null;
            }
            strings[path] = template;
        }
        return new JsonTemplate(node?.DeepClone(), strings);
    }

    public JsonNode? Render(JsonObject scope) => Render(_shape, "$", scope);

    private JsonNode? Render(JsonNode? node, string path, JsonObject scope) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Render(p.Value, $"{path}.{p.Key}", scope)))),
        JsonArray a => new JsonArray(a.Select((x, i) => Render(x, $"{path}[{i}]", scope)).ToArray()),
        JsonValue v when _strings.TryGetValue(path, out var template) && v.GetValueKind() == System.Text.Json.JsonValueKind.String =>
            JsonValue.Create(template.Render(scope)),
        _ => node?.DeepClone(),
    };

    private static IEnumerable<(string Path, string Text)> Strings(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o) foreach (var s in Strings(v, $"{path}.{k}")) yield return s;
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) foreach (var s in Strings(a[i], $"{path}[{i}]")) yield return s;
                break;
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                yield return (path, v.GetValue<string>());
                break;
        }
    }
}
