using System.ComponentModel;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Spectre.Console.Cli;
using Spp.Client;
using Spp.Client.Models;
using SppFunctions.Cli.Commands.Messages;
using SppFunctions.Cli.Infrastructure;
using SppFunctions.Sandbox;

namespace SppFunctions.Cli.Commands;

public sealed class SandboxRunSettings : CliSettings
{
    [CommandOption("--port <PORT>")]
    [Description("The port on 127.0.0.1 (0: any free port). The sandbox never listens on another interface.")]
    [DefaultValue(SppSandbox.DefaultPort)]
    public int Port { get; init; } = SppSandbox.DefaultPort;

    [CommandOption("--quiet")]
    [Description("Do not print a line per request.")]
    public bool Quiet { get; init; }

    public override ValidationResult Validate() =>
        Port is < 0 or > 65535 ? ValidationResult.Error("--port must be between 0 and 65535.") : ValidationResult.Success();
}

public sealed class SandboxMessageSettings : CliSettings
{
    [CommandArgument(0, "<ORDER>")]
    [Description("The order's id or number in the sandbox, e.g. 666AF315.")]
    public string Order { get; init; } = "";

    [CommandArgument(1, "<TEXT>")]
    [Description("The client's message (HTML is accepted).")]
    public string Text { get; init; } = "";

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Order)) return ValidationResult.Error("ORDER must be an order id or number.");
        return string.IsNullOrWhiteSpace(Text) ? ValidationResult.Error("TEXT must not be empty.") : ValidationResult.Success();
    }
}

/// <summary>
/// <c>sppfn sandbox</c>: runs the SPP sandbox until Ctrl-C. While it runs, its URL, key and webhook token are in
/// <c>.sandbox/sandbox.json</c>, which scripts/run-local.sh hands to the app and other <c>sppfn</c> commands use while
/// no SPP settings are filled in.
/// </summary>
public sealed class SandboxRunCommand(CliContext cli) : CliCommand<SandboxRunSettings>(cli)
{
    protected override async Task<int> RunAsync(SandboxRunSettings settings, CancellationToken cancellationToken)
    {
        var statePath = CliConfiguration.SandboxStatePath(Cli.Environment);
        if (SandboxState.Read(statePath) is { IsRunning: true } other && other.ProcessId != Environment.ProcessId)
        {
            throw CliException.Failed($"An SPP sandbox already runs at {other.BaseUrl} (process {other.ProcessId}); stop it first.");
        }

        var log = settings.Quiet || settings.Json ? null : (Action<string, string, int>)((method, path, status) =>
            Output.Line($"sandbox: {method} {path} -> {status.ToString(CultureInfo.InvariantCulture)}"));
        SppSandbox sandbox;
        try
        {
            sandbox = await SppSandbox.StartAsync(settings.Port, log, cancellationToken: cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
            || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw CliException.Unreachable($"The SPP sandbox cannot listen on 127.0.0.1:{settings.Port}: the port is in use. " +
                "Pick another with --port (run-local.sh: SPPFN_SANDBOX_PORT).");
        }

        await using (sandbox)
        {
            var state = new SandboxState(sandbox.BaseUrl, sandbox.ApiKey, sandbox.WebhookToken, Environment.ProcessId, DateTimeOffset.UtcNow);
            Output.AddSecrets([sandbox.ApiKey, sandbox.WebhookToken]);
            state.Write(statePath);
            try
            {
                if (settings.Json)
                {
                    Output.Json(new JsonObject
                    {
                        ["baseUrl"] = sandbox.BaseUrl.ToString(), ["stateFile"] = statePath, ["processId"] = state.ProcessId,
                    });
                }
                else
                {
                    Output.Line($"SPP sandbox on {sandbox.BaseUrl}: a local stand-in for an SPP workspace. Nothing it receives leaves this machine.");
                    Output.Line($"  Seeded with {sandbox.Contents}.");
                    Output.Line($"  Its API key and webhook token are in {Relative(statePath)}; it accepts no other key.");
                    Output.Line("  sppfn commands use it while local.settings.json has no SPP settings. Ctrl-C stops it; its data is not kept.");
                }
                await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            finally
            {
                SandboxState.Remove(statePath, state.ProcessId);
            }
        }
        if (!settings.Json) Output.Line("SPP sandbox stopped.");
        return ExitCodes.Ok;
    }

    private string Relative(string path)
    {
        var relative = System.IO.Path.GetRelativePath(Cli.Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}

/// <summary>
/// <c>sppfn sandbox message</c>: posts a message on a sandbox order as its client would in SPP's client portal, so the
/// poller picks it up as <c>order_message.created</c>. It talks only to the running sandbox, never to a workspace.
/// </summary>
public sealed class SandboxMessageCommand(CliContext cli) : CliCommand<SandboxMessageSettings>(cli)
{
    protected override async Task<int> RunAsync(SandboxMessageSettings settings, CancellationToken cancellationToken)
    {
        var statePath = CliConfiguration.SandboxStatePath(Cli.Environment);
        if (SandboxState.Read(statePath) is not { IsRunning: true } sandbox)
        {
            throw CliException.Unreachable("No SPP sandbox is running: ./scripts/run-local.sh starts one while local.settings.json has no SPP " +
                "settings, or run 'sppfn sandbox'.");
        }
        Output.AddSecrets([sandbox.ApiKey, sandbox.WebhookToken]);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Spp:BaseUrl"] = sandbox.BaseUrl.ToString(),
            ["Spp:ApiKey"] = sandbox.ApiKey,
            ["Spp:Retry:MaxRetries"] = "0",
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration)
            .AddSppClient(configuration).Services.BuildServiceProvider();
        var client = services.GetRequiredService<SppClient>();

        var order = await client.GetOrderAsync(settings.Order, cancellationToken);
        var created = await client.CreateOrderMessageAsync(settings.Order,
            new SppNewMessage { Message = settings.Text, UserId = order.UserId }, cancellationToken);
        if (settings.Json)
        {
            Output.Json(MessageText.ToJson(created));
            return ExitCodes.Ok;
        }
        var who = order.Client?.Name is { Length: > 0 } name ? $"{name} (user {order.UserId})" : $"user {order.UserId}";
        Output.Line($"Posted message {created.Id} on order {order.Number ?? settings.Order} as its client {who}.");
        Output.Line("The poller emits it as order_message.created on its next run (Polling__Schedule) if the order is watched: sppfn watch list.");
        return ExitCodes.Ok;
    }
}
