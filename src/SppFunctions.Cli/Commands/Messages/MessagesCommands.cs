using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spectre.Console;
using Spectre.Console.Cli;
using Spp.Client;
using Spp.Client.Models;
using Spp.Client.Serialization;
using SppFunctions.Cli.Infrastructure;

namespace SppFunctions.Cli.Commands.Messages;

public sealed class MessagesListSettings : CliSettings
{
    [CommandArgument(0, "<ORDER>")]
    [Description("The order's id or number.")]
    public string Order { get; init; } = "";

    [CommandOption("--limit <N>")]
    [Description("Most messages, newest first (Make's default: 10).")]
    [DefaultValue(10)]
    public int Limit { get; init; } = 10;

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Order)) return ValidationResult.Error("ORDER must be an order id or number.");
        return Limit is < 1 or > 10_000 ? ValidationResult.Error("--limit must be between 1 and 10000.") : ValidationResult.Success();
    }
}

public sealed class MessagesCreateSettings : CliSettings
{
    [CommandArgument(0, "<ORDER>")]
    [Description("The order's id or number.")]
    public string Order { get; init; } = "";

    [CommandArgument(1, "<TEXT>")]
    [Description("The message (HTML is accepted).")]
    public string Text { get; init; } = "";

    [CommandOption("--user-id <ID>")]
    [Description("The author (default: the API key's user).")]
    public long? UserId { get; init; }

    [CommandOption("--staff-only")]
    [Description("Post an internal note the client does not see.")]
    public bool StaffOnly { get; init; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Order)) return ValidationResult.Error("ORDER must be an order id or number.");
        if (string.IsNullOrWhiteSpace(Text)) return ValidationResult.Error("TEXT must not be empty.");
        return UserId is <= 0 ? ValidationResult.Error("--user-id must be a positive number.") : ValidationResult.Success();
    }
}

public sealed class MessagesDeleteSettings : CliSettings
{
    [CommandArgument(0, "<MESSAGE_ID>")]
    [Description("The message's id (from messages list).")]
    public string MessageId { get; init; } = "";

    public override ValidationResult Validate() =>
        long.TryParse(MessageId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id > 0
        ? ValidationResult.Success()
        : ValidationResult.Error($"MESSAGE_ID '{MessageId}' must be a positive number (a message id from messages list).");
}

internal static partial class MessageText
{
    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    /// <summary>The text of an HTML message for a table cell.</summary>
    public static string Plain(string? html) => System.Net.WebUtility.HtmlDecode(Tags().Replace(html ?? "", " ")).Trim();

    public static JsonNode ToJson(SppMessage message) => JsonSerializer.SerializeToNode(message, SppJson.Options)!;
}

/// <summary><c>sppfn messages list</c>: an order's messages, newest first (Make's "List Order Messages").</summary>
public sealed class MessagesListCommand(CliContext cli) : CliCommand<MessagesListSettings>(cli)
{
    protected override async Task<int> RunAsync(MessagesListSettings settings, CancellationToken cancellationToken)
    {
        await using var services = Cli.Spp(Cli.Settings(settings));
        var client = services.GetRequiredService<SppClient>();
        var messages = new List<SppMessage>();
        await foreach (var message in client.GetOrderMessagesAsync(settings.Order, settings.Limit, cancellationToken: cancellationToken))
            messages.Add(message);

        if (settings.Json)
        {
            Output.Json(new JsonArray(messages.Select(MessageText.ToJson).ToArray()));
            return ExitCodes.Ok;
        }
        if (messages.Count == 0)
        {
            Output.Line($"Order {settings.Order} has no messages.");
            return ExitCodes.Ok;
        }
        var table = CliOutput.Table("Id", "Created (UTC)", "User", "Staff only", "Message");
        foreach (var m in messages)
        {
            table.AddRow(Output.Cell(m.Id), Output.Cell(Time(m.CreatedAt)), Output.Cell(m.UserId), Output.Cell(m.StaffOnly ? "yes" : ""),
                Output.Cell(Shorten(MessageText.Plain(m.Message), 80)));
        }
        Output.Write(table);
        Output.Line($"{messages.Count} message(s) of order {settings.Order}, newest first.");
        return ExitCodes.Ok;
    }
}

/// <summary><c>sppfn messages create</c>: posts a message on an order (Make's "Create an Order Message").</summary>
public sealed class MessagesCreateCommand(CliContext cli) : CliCommand<MessagesCreateSettings>(cli)
{
    protected override async Task<int> RunAsync(MessagesCreateSettings settings, CancellationToken cancellationToken)
    {
        await using var services = Cli.Spp(Cli.Settings(settings));
        var created = await services.GetRequiredService<SppClient>().CreateOrderMessageAsync(settings.Order,
            new SppNewMessage { Message = settings.Text, UserId = settings.UserId, StaffOnly = settings.StaffOnly ? true : null }, cancellationToken);
        if (settings.Json) Output.Json(MessageText.ToJson(created));
        else Output.Line($"Created message {created.Id} on order {settings.Order}{(created.StaffOnly ? " (staff only)" : "")}.");
        return ExitCodes.Ok;
    }
}

/// <summary><c>sppfn messages delete</c>: deletes an order message for good (Make's "Delete an Order Message").</summary>
public sealed class MessagesDeleteCommand(CliContext cli) : CliCommand<MessagesDeleteSettings>(cli)
{
    protected override async Task<int> RunAsync(MessagesDeleteSettings settings, CancellationToken cancellationToken)
    {
        var id = long.Parse(settings.MessageId, System.Globalization.CultureInfo.InvariantCulture);
        await using var services = Cli.Spp(Cli.Settings(settings));
        await services.GetRequiredService<SppClient>().DeleteOrderMessageAsync(id, cancellationToken);
        if (settings.Json) Output.Json(new JsonObject { ["deleted"] = id });
        else Output.Line($"Deleted message {id}.");
        return ExitCodes.Ok;
    }
}
