using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using Spp.Client;
using SppFunctions.Cli.Infrastructure;

namespace SppFunctions.Cli.Commands;

public sealed class ApiSettings : CliSettings
{
    public static readonly IReadOnlyList<string> Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    [CommandArgument(0, "<METHOD>")]
    [Description("GET, POST, PUT, PATCH or DELETE.")]
    public string Method { get; init; } = "";

    [CommandArgument(1, "<PATH>")]
    [Description("Relative to Spp__BaseUrl, e.g. orders or order_messages/666AF315. It cannot leave the API root.")]
    public string Path { get; init; } = "";

    [CommandOption("-q|--query <KEY=VALUE>")]
    [Description("A query parameter (repeatable; a key may repeat, e.g. filters[[id]][[$in]][[]]=1).")]
    public string[] Query { get; init; } = [];

    [CommandOption("-H|--header <KEY=VALUE>")]
    [Description("A request header (repeatable). Authorization is set by the client.")]
    public string[] Headers { get; init; } = [];

    [CommandOption("-d|--body <JSON>")]
    [Description("A JSON body, or @file to read it from a file.")]
    public string? Body { get; init; }

    public override ValidationResult Validate() => Methods.Contains(Method.ToUpperInvariant())
        ? ValidationResult.Success()
        : ValidationResult.Error($"METHOD '{Method}' must be one of {string.Join(", ", Methods)}.");
}

/// <summary>
/// <c>sppfn api</c>: Make's "Make an API Call" from a terminal, through <see cref="SppClient.SendAsync"/> (the same path
/// guard, auth, version header and retry policy the app uses). Prints SPP's answer whatever the status; exits 1 on a non-2xx.
/// </summary>
public sealed class ApiCommand(CliContext cli) : CliCommand<ApiSettings>(cli)
{
    protected override async Task<int> RunAsync(ApiSettings settings, CancellationToken cancellationToken)
    {
        var query = Parse.Pairs(settings.Query, "--query");
        var headers = Parse.Pairs(settings.Headers, "--header");
        var body = ReadBody(settings.Body);
        var request = new SppApiRequest(new HttpMethod(settings.Method.ToUpperInvariant()), settings.Path)
        {
            Query = query,
            Body = body,
        };
        foreach (var (name, value) in headers)
        {
            // Refused here too, before any setting is read: a CR/LF would otherwise end the header block.
            if (SppHeaderGuard.Refusal(name, value) is { } refused) throw CliException.Usage(refused);
            request.Headers[name] = value;
        }

        await using var services = Cli.Spp(Cli.Settings(settings));
        var client = services.GetRequiredService<SppClient>();
        SppApiResponse response;
        try
        {
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (ArgumentException ex)
        {
            throw CliException.Usage(ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal));
        }

        if (settings.Json)
        {
            var headersJson = new JsonObject();
            foreach (var (name, values) in response.Headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
                headersJson[name] = string.Join(", ", values);
            Output.Json(new JsonObject
            {
                ["status"] = response.Status,
                ["headers"] = headersJson,
                ["body"] = response.Json ?? (response.Body.Length == 0 ? null : JsonValue.Create(response.Body)),
            });
        }
        else
        {
            Output.Line($"HTTP {response.Status}{(response.ApiIdentifier is { } id ? $" (X-Api-Identifier {id})" : "")}");
            if (response.Json is { } json) Output.Json(json);
            else if (response.Body.Length > 0) Output.Line(response.Body);
        }
        if (!response.IsSuccess)
        {
            var message = response.Json is JsonObject obj && obj["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? $": {text}" : "";
            Output.Error($"SPP answered {response.Status} to {request.Method} {settings.Path}{message}");
            return ExitCodes.Failed;
        }
        return ExitCodes.Ok;
    }

    private JsonNode? ReadBody(string? body)
    {
        if (body is null) return null;
        var text = body;
        var source = "--body";
        if (body.StartsWith('@'))
        {
            var path = System.IO.Path.GetFullPath(body[1..], Cli.Environment.CurrentDirectory);
            if (!File.Exists(path)) throw CliException.Usage($"--body file {path} does not exist.");
            text = File.ReadAllText(path);
            source = path;
        }
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw CliException.Usage($"{source} is not valid JSON: {CliConfiguration.FirstLine(ex.Message)}");
        }
    }
}
