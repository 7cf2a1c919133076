using System.Buffers;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SppFunctions.Processing.Actions;

namespace SppFunctions.Processing.Model;

/// <summary>
/// An action as written in a rules file or sent on the commands queue: one typed model for both, read with
/// System.Text.Json polymorphism on <c>type</c>. Rules treat text values as Liquid templates (rendered per event);
/// commands take them literally (<see cref="ToPlannedAction"/>). Fields this model does not know end in
/// <see cref="Unknown"/>, so a typo is reported instead of silently ignored.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(CreateOrderMessageDefinition), CreateOrderMessageAction.TypeName)]
[JsonDerivedType(typeof(DeleteOrderMessageDefinition), DeleteOrderMessageAction.TypeName)]
[JsonDerivedType(typeof(ApiCallDefinition), ApiCallAction.TypeName)]
[JsonDerivedType(typeof(ForwardDefinition), ForwardAction.TypeName)]
[JsonDerivedType(typeof(ListOrderMessagesDefinition), ListOrderMessagesAction.TypeName)]
[JsonDerivedType(typeof(ForEachDefinition), ForEachDefinition.TypeName)]
public abstract class ActionDefinition
{
    /// <summary>Rules: the step's id, so later steps read its result as <c>steps.&lt;id&gt;</c>. Commands: the idempotency key.</summary>
    public string? Id { get; set; }
    public string? Description { get; set; }
    /// <summary>Rules only: condition(s) that must hold for the step to run (see ConditionParser).</summary>
    public JsonNode? When { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    [JsonIgnore]
    public abstract string Kind { get; }

    /// <summary>The shared checks of the fields (required ones present, literal values of the right type).</summary>
    public abstract void Validate(ActionErrors errors);

    /// <summary>The action with every value taken literally (commands). Call after <see cref="Validate"/> found nothing.</summary>
    public virtual PlannedAction ToPlannedAction() => throw new NotSupportedException($"{Kind} cannot be sent as a command.");

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNameCaseInsensitive = false,
        AllowOutOfOrderMetadataProperties = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The action types a rules file may use, in the order the docs list them.</summary>
    public static IReadOnlyList<string> RuleTypes { get; } = new[]
    {
        CreateOrderMessageAction.TypeName, DeleteOrderMessageAction.TypeName, ListOrderMessagesAction.TypeName,
        ApiCallAction.TypeName, ForwardAction.TypeName, ForEachDefinition.TypeName,
    };

    /// <summary>
    /// Reads one action object. A type that is missing or unknown, a field of the wrong JSON type or an unknown field
    /// is reported to <paramref name="errors"/> (field, problem); the result is null when it could not be read.
    /// </summary>
    public static ActionDefinition? Read(JsonObject node, IReadOnlyCollection<string> allowedTypes, ActionErrors errors, string typeHint)
    {
        var obj = node;
        var type = obj["type"] is JsonValue tv && tv.TryGetValue<string>(out var t) ? t : null;
        if (type is null && !obj.ContainsKey("type") && obj.ContainsKey("forEach") && allowedTypes.Contains(ForEachDefinition.TypeName))
        {
            // {"forEach": ..., "actions": [...]} needs no type.
            obj = (JsonObject)obj.DeepClone();
            obj["type"] = ForEachDefinition.TypeName;
            type = ForEachDefinition.TypeName;
        }
        if (type is null)
        {
            errors.Add("type", $"is required: {typeHint}.");
            return null;
        }
        if (!allowedTypes.Contains(type))
        {
            errors.Add("type", $"'{type}' is not {(allowedTypes.Count == RuleTypes.Count ? "an action type" : "a command")} ({typeHint}).");
            return null;
        }
        ActionDefinition? definition;
        try
        {
            definition = obj.Deserialize<ActionDefinition>(JsonOptions);
        }
        catch (JsonException ex)
        {
            errors.Add(FieldOf(ex.Path), WrongType(type, ex.Path));
            return null;
        }
        if (definition is null) return null;
        foreach (var key in definition.Unknown?.Keys ?? Enumerable.Empty<string>())
        {
            if (errors.Tolerated.Contains(key)) continue;
            errors.Add(key, $"is not a known field (expected {string.Join(", ", definition.KnownFields(errors.Templates))}).");
        }
        definition.Validate(errors);
        return definition;
    }

    private static readonly string[] TypeField = ["type"];
    private static readonly SearchValues<char> PathSeparators = SearchValues.Create(".[");

    /// <summary>The JSON names of this action's fields (a command has no <c>when</c> or <c>description</c>).</summary>
    public IEnumerable<string> KnownFields(bool inRules = true) =>
        TypeField.Concat(GetType().GetProperties().Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null
            && p.GetCustomAttribute<JsonExtensionDataAttribute>() is null)
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name))
            .Where(name => inRules || name is not ("when" or "description")));

    private static string FieldOf(string? path)
    {
        var p = (path ?? "$").TrimStart('$').TrimStart('.');
        var end = p.IndexOfAny(PathSeparators);
        return end < 0 ? p : p[..end];
    }

    private static string WrongType(string type, string? path)
    {
        var name = FieldOf(path);
        var derived = typeof(ActionDefinition).GetCustomAttributes<JsonDerivedTypeAttribute>().FirstOrDefault(a
            => (string?)a.TypeDiscriminator == type)?.DerivedType;
        var property = derived?.GetProperties().FirstOrDefault(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name) == name);
        return property?.PropertyType switch
        {
            { } s when s == typeof(string) => "must be a string.",
            { IsGenericType: true } d when d.GetGenericTypeDefinition() == typeof(Dictionary<,>) => "must be an object of names to values.",
            { IsGenericType: true } l when l.GetGenericTypeDefinition() == typeof(List<>) => "must be a list.",
            _ => "has the wrong type.",
        };
    }

    // ---- helpers for literal values (commands) and shared checks ----

    internal static string? Scalar(JsonNode? node) => node is JsonValue v ? v.GetValueKind() switch
    {
        JsonValueKind.String => v.GetValue<string>(),
        JsonValueKind.Number => v.ToJsonString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    } : null;

    internal static bool TryPositiveLong(JsonNode? node, out long value)
    {
        value = 0;
        return Scalar(node) is { } s && long.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
    }

    internal static bool IsTemplateOrKind(JsonNode? node, params JsonValueKind[] kinds) =>
        node is JsonValue v && (v.GetValueKind() == JsonValueKind.String || kinds.Contains(v.GetValueKind()));

    internal static List<KeyValuePair<string, string>> Pairs(Dictionary<string, JsonNode?>? map) =>
        map?.Select(kv => KeyValuePair.Create(kv.Key, Scalar(kv.Value) ?? kv.Value?.ToJsonString() ?? "")).ToList() ?? new();
}

/// <summary>Collects (field, problem) pairs; the rules loader and the command reader each word them their way.</summary>
public sealed class ActionErrors(Action<string, string> add)
{
    public int Count { get; private set; }
    /// <summary>Extra fields the caller handles itself (a command's <c>replay</c>).</summary>
    public HashSet<string> Tolerated { get; } = new(StringComparer.Ordinal);
    /// <summary>True when the values are Liquid templates (rules); false when literal (commands).</summary>
    public bool Templates { get; init; }

    public void Add(string field, string problem)
    {
        Count++;
        add(field, problem);
    }
}

/// <summary>Make's "Create an Order Message".</summary>
public sealed class CreateOrderMessageDefinition : ActionDefinition
{
    /// <summary>The order's id or number.</summary>
    public JsonNode? Order { get; set; }
    public string? Message { get; set; }
    public JsonNode? UserId { get; set; }
    public JsonNode? StaffOnly { get; set; }
    public override string Kind => CreateOrderMessageAction.TypeName;

    public override void Validate(ActionErrors errors)
    {
        if (Order is null) errors.Add("order", "is required (an order id or number).");
        else if (Scalar(Order) is not { } o || string.IsNullOrWhiteSpace(o)) errors.Add("order",
            "must be an order id or number (a string or a number).");
        if (Message is null) errors.Add("message", "is required (text or HTML).");
        else if (string.IsNullOrWhiteSpace(Message)) errors.Add("message", "must not be empty.");
        if (UserId is not null)
        {
            if (errors.Templates && !IsTemplateOrKind(UserId, JsonValueKind.Number)) errors.Add("userId", "must be a number or a template string.");
            else if (!errors.Templates && !TryPositiveLong(UserId, out _)) errors.Add("userId", "must be a positive integer.");
        }
        if (StaffOnly is not null)
        {
            if (errors.Templates && !IsTemplateOrKind(StaffOnly, JsonValueKind.True, JsonValueKind.False)) errors.Add("staffOnly",
                "must be true, false or a template string.");
            else if (!errors.Templates
                && StaffOnly.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) errors.Add("staffOnly", "must be true or false.");
        }
    }

    public override PlannedAction ToPlannedAction() => new CreateOrderMessageAction(
        Scalar(Order)!.Trim(), Message!, TryPositiveLong(UserId, out var u) ? u : null, StaffOnly?.GetValueKind() == JsonValueKind.True);
}

/// <summary>Make's "Delete an Order Message".</summary>
public sealed class DeleteOrderMessageDefinition : ActionDefinition
{
    public JsonNode? MessageId { get; set; }
    public override string Kind => DeleteOrderMessageAction.TypeName;

    public override void Validate(ActionErrors errors)
    {
        if (MessageId is null) errors.Add("messageId", "is required (a positive integer).");
        else if (errors.Templates && !IsTemplateOrKind(MessageId, JsonValueKind.Number)) errors.Add("messageId",
            "must be a number or a template string.");
        else if (!errors.Templates && !TryPositiveLong(MessageId, out _)) errors.Add("messageId", "is required (a positive integer).");
    }

    public override PlannedAction ToPlannedAction() => new DeleteOrderMessageAction(TryPositiveLong(MessageId, out var id) ? id : 0);
}

/// <summary>Make's "List Order Messages": the order's newest messages (<c>limit</c>, default 10 as in Make), newest first.</summary>
public sealed class ListOrderMessagesDefinition : ActionDefinition
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;

    public JsonNode? Order { get; set; }
    public JsonNode? Limit { get; set; }
    public override string Kind => ListOrderMessagesAction.TypeName;

    public override void Validate(ActionErrors errors)
    {
        if (Order is null) errors.Add("order", "is required (an order id or number).");
        else if (Scalar(Order) is not { } o || string.IsNullOrWhiteSpace(o)) errors.Add("order",
            "must be an order id or number (a string or a number).");
        if (Limit is null) return;
        if (Limit is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (!v.TryGetValue<int>(out var n) || n is < 1 or > MaxLimit) errors.Add("limit", $"must be between 1 and {MaxLimit}.");
        }
        else if (!errors.Templates || !IsTemplateOrKind(Limit)) errors.Add("limit",
            $"must be a number between 1 and {MaxLimit}{(errors.Templates ? " or a template string" : "")}.");
    }
}

/// <summary>Make's "Make an API Call".</summary>
public sealed class ApiCallDefinition : ActionDefinition
{
    public static readonly string[] Methods = { "GET", "POST", "PUT", "PATCH", "DELETE" };

    public string? Method { get; set; }
    /// <summary>Relative to the SPP API root.</summary>
    public string? Path { get; set; }
    public Dictionary<string, JsonNode?>? Query { get; set; }
    public Dictionary<string, JsonNode?>? Headers { get; set; }
    public JsonNode? Body { get; set; }
    public override string Kind => ApiCallAction.TypeName;

    public override void Validate(ActionErrors errors)
    {
        if (Method is null || !Methods.Contains(Method.ToUpperInvariant())) errors.Add("method", $"must be one of {string.Join(", ", Methods)}.");
        if (string.IsNullOrWhiteSpace(Path)) errors.Add("path", "is required (relative to the SPP API root, e.g. orders/E4A269FC).");
        Maps(errors, ("query", Query), ("headers", Headers));
    }

    internal static void Maps(ActionErrors errors, params (string Name, Dictionary<string, JsonNode?>? Map)[] maps)
    {
        foreach (var (name, map) in maps)
        {
            foreach (var (key, value) in map ?? new())
            {
                if (Scalar(value) is null) errors.Add($"{name}.{key}", "must be a string.");
            }
        }
    }

    public override PlannedAction ToPlannedAction() => new ApiCallAction(
        new HttpMethod(Method!.ToUpperInvariant()), Path!, Pairs(Query),
        Pairs(Headers).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase), Body?.DeepClone());
}

/// <summary>POST the event (or a body built from it) to an allowed HTTPS URL (a Slack or Teams webhook).</summary>
public sealed class ForwardDefinition : ActionDefinition
{
    public string? Url { get; set; }
    public JsonNode? Body { get; set; }
    public Dictionary<string, JsonNode?>? Headers { get; set; }
    public override string Kind => ForwardAction.TypeName;

    public override void Validate(ActionErrors errors)
    {
        if (string.IsNullOrWhiteSpace(Url)) errors.Add("url", "is required.");
        ApiCallDefinition.Maps(errors, ("headers", Headers));
    }
}

/// <summary>Make's Iterator: runs <see cref="Actions"/> once per item of a list, the item readable as <c>item</c>.</summary>
public sealed class ForEachDefinition : ActionDefinition
{
    public const string TypeName = "forEach";

    /// <summary>The list: a path (<c>steps.messages.body</c>) or the same in braces (<c>{{ steps.messages.body }}</c>).</summary>
    public string? ForEach { get; set; }
    public List<JsonNode?>? Actions { get; set; }
    public override string Kind => TypeName;

    /// <summary>The path of the list, braces removed.</summary>
    [JsonIgnore]
    public string? ItemsPath => ForEach?.Trim() is { } p && p.StartsWith("{{", StringComparison.Ordinal) && p.EndsWith("}}",
        StringComparison.Ordinal) ? p[2..^2].Trim() : ForEach?.Trim();

    public override void Validate(ActionErrors errors)
    {
        if (string.IsNullOrWhiteSpace(ForEach)) errors.Add("forEach",
            "is required: the list to iterate, e.g. \"steps.messages.body\" or \"{{ data.items }}\".");
        if (Actions is null || Actions.Count == 0) errors.Add("actions", "is required: a non-empty list of actions to run per item.");
    }
}
