using System.Net.Http;
using System.Net.Sockets;
using System.Reflection;
using Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console.Cli;
using Spp.Client;
using SppFunctions.Cli.Commands;
using SppFunctions.Cli.Commands.Events;
using SppFunctions.Cli.Commands.Messages;
using SppFunctions.Cli.Commands.Rules;
using SppFunctions.Cli.Commands.Watch;
using SppFunctions.Cli.Infrastructure;

namespace SppFunctions.Cli;

/// <summary>The <c>sppfn</c> command line: the command tree and the mapping of failures to one-line messages and exit codes.</summary>
public static class SppCli
{
    public const string Name = "sppfn";

    /// <summary>Runs one command line; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        var output = new CliOutput(environment);
        var services = new ServiceCollection();
        services.AddSingleton(environment);
        services.AddSingleton(output);
        services.AddSingleton<CliContext>();
        var app = new CommandApp(new TypeRegistrar(services));
        app.Configure(config => Configure(config, output));
        try
        {
            return await app.RunAsync(args, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var (code, message) = Describe(ex, cancellationToken);
            if (message is not null) output.Error(message);
            return code;
        }
    }

    /// <summary>The tool's version (the package version, without the commit).</summary>
    public static string Version { get; } =
        (typeof(SppCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>
    /// Each command's help examples as the arguments they stand for; help shows them quoted for a POSIX shell
    /// (<see cref="Shell.Quote"/>), so a pasted example runs as written.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string[][]> Examples = new Dictionary<string, string[][]>
    {
        ["send"] =
        [
            ["send"],
            ["send", "--event", "order.created", "--count", "500", "--rate", "50"],
            ["send", "--url", "https://myapp.azurewebsites.net/api/webhooks/spp?code=KEY", "--token", "TOKEN"],
        ],
        ["events list"] = [["events", "list", "--status", "failed", "--from", "1d"]],
        ["events show"] = [["events", "show", "1764403200-0123456789abcdef01234567"]],
        ["events replay"] = [["events", "replay", "--from", "2026-11-01", "--to", "2026-11-02"]],
        ["watch add"] = [["watch", "add", "666AF315"], ["watch", "add", "--open"]],
        ["watch remove"] = [["watch", "remove", "666AF315"]],
        ["api"] =
        [
            ["api", "GET", "orders", "--query", "limit=5", "--query", "filters[status]=Working"],
            ["api", "PUT", "orders/666AF315", "--body", "{\"note\": \"synced\"}"],
        ],
        ["sandbox"] = [["sandbox"], ["sandbox", "message", "666AF315", "Any news on my logo?"]],
        ["sandbox start"] = [["sandbox", "start", "--port", "7080"]],
        ["sandbox message"] = [["sandbox", "message", "666AF315", "Any news on my logo?"]],
        ["messages list"] = [["messages", "list", "666AF315"]],
        ["messages create"] = [["messages", "create", "666AF315", "<p>Hi!</p>", "--staff-only"]],
        ["messages delete"] = [["messages", "delete", "1234"]],
    };

    private static void Configure(IConfigurator config, CliOutput output)
    {
        config.SetApplicationName(Name);
        config.SetApplicationVersion(Version);
        config.ConfigureConsole(output.Console);
        config.PropagateExceptions();
        config.UseStrictParsing();
        config.CancellationExitCode(ExitCodes.Cancelled);

        // Descriptions are Spectre markup: text with [ or ] goes through Markup.Escape (option descriptions write [[ ]]).
        config.AddCommand<SendCommand>("send")
            .WithDescription("Post sample SPP webhooks (every catalogue event, or --event ones) to the webhook endpoint, " +
                "with a summary of status codes and latencies.")
            .WithExamples("send");

        config.AddBranch("events", events =>
        {
            events.SetDescription("The event log: list, show, replay.");
            events.AddCommand<EventsListCommand>("list").WithDescription("List events, newest first.").WithExamples("events list");
            events.AddCommand<EventsShowCommand>("show").WithDescription("An event's log row and its action records.").WithExamples("events show");
            events.AddCommand<EventsReplayCommand>("replay")
                .WithDescription("Re-enqueue failed events (by id, or a time range), as POST /api/ops/replay does.")
                .WithExamples("events replay");
        });

        config.AddBranch("watch", watch =>
        {
            watch.SetDescription("The orders the poller watches for new messages.");
            watch.AddCommand<WatchListCommand>("list").WithDescription("Watched orders.");
            watch.AddCommand<WatchAddCommand>("add")
                .WithDescription("Start watching orders (id or number), or every open order in SPP with --open.").WithExamples("watch add");
            watch.AddCommand<WatchRemoveCommand>("remove").WithDescription("Stop watching orders.").WithExamples("watch remove");
            watch.AddCommand<WatchCursorsCommand>("cursors").WithDescription("Watched orders with their cursor (newest message seen).");
            watch.AddCommand<WatchRunsCommand>("runs").WithDescription("The poller's latest runs.");
        });

        config.AddBranch("rules", rules =>
        {
            rules.SetDescription("The rules file: check it, or try it on an event (Make's \"Run once\").");
            rules.AddCommand<RulesCheckCommand>("check").WithDescription("Check a rules file as the app does at start-up, with every error.")
                .WithExample("rules", "check", "src/SppFunctions/rules.json");
            rules.AddCommand<RulesTestCommand>("test")
                .WithDescription("Run the rules on one event without effect: matches, condition values, rendered actions (--live runs GETs).")
                .WithExample("rules", "test", "--event", "order.created", "--rules", "rules.json")
                .WithExample("rules", "test", "--event", "webhook.json", "--live");
        });

        config.AddCommand<ApiCommand>("api")
            .WithDescription("Make an API call to SPP (Make's \"Make an API Call\"): a path relative to Spp__BaseUrl, " +
                "through the app's guarded client.")
            .WithExamples("api");

        config.AddBranch("sandbox", sandbox =>
        {
            sandbox.SetDescription("A local SPP sandbox (seeded sample data on 127.0.0.1) for trying the app without an SPP account; " +
                "'sppfn sandbox' alone starts it (sandbox start --help shows its options).");
            sandbox.SetDefaultCommand<SandboxRunCommand>();
            foreach (var example in Examples["sandbox"]) sandbox.AddExample(Shell.Quote(example));
            sandbox.AddCommand<SandboxRunCommand>("start")
                .WithDescription("Run the sandbox until Ctrl-C (what 'sppfn sandbox' alone does).")
                .WithExamples("sandbox start");
            sandbox.AddCommand<SandboxMessageCommand>("message")
                .WithDescription("Post a message on a sandbox order as its client, for the poller to pick up.")
                .WithExamples("sandbox message");
        });

        config.AddBranch("messages", messages =>
        {
            messages.SetDescription("Order messages in SPP.");
            messages.AddCommand<MessagesListCommand>("list").WithDescription("An order's messages, newest first (Make's List Order Messages).")
                .WithExamples("messages list");
            messages.AddCommand<MessagesCreateCommand>("create").WithDescription("Post a message on an order (Make's Create an Order Message).")
                .WithExamples("messages create");
            messages.AddCommand<MessagesDeleteCommand>("delete").WithDescription("Delete an order message (Make's Delete an Order Message).")
                .WithExamples("messages delete");
        });
    }

    private static ICommandConfigurator WithExamples(this ICommandConfigurator command, string path)
    {
        foreach (var example in Examples[path]) command.WithExample(Shell.Quote(example));
        return command;
    }

    /// <summary>The exit code and the one line to print for a failure.</summary>
    internal static (int Code, string? Message) Describe(Exception ex, CancellationToken cancellationToken)
    {
        switch (ex)
        {
            case CliException cli:
                return (cli.ExitCode, cli.Message);
            case CommandParseException or CommandRuntimeException or CommandConfigurationException:
                return (ExitCodes.Usage, $"{ex.Message.TrimEnd('.')}. Run '{Name} --help' (or '{Name} <command> --help') for usage.");
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return (ExitCodes.Cancelled, "cancelled.");
            case OptionsValidationException options:
                return (ExitCodes.Settings, string.Join(" ", options.Failures));
            case SppRequestFailedException spp when spp.Status == 0:
                return (ExitCodes.Unreachable, $"Cannot reach SPP: {spp.Message}");
            case SppRequestFailedException spp:
                return (ExitCodes.Failed, spp.Message);
            case ArgumentException argument when argument.ParamName is "path" or "request":
                return (ExitCodes.Usage, argument.Message.Replace($" (Parameter '{argument.ParamName}')", "", StringComparison.Ordinal));
        }
        if (StorageUnreachable(ex) is { } cause)
        {
            return (ExitCodes.Unreachable, $"Cannot reach storage (AzureWebJobsStorage): {cause}. " +
                "Is Azurite running? Start it alone from the repository with " +
                "'npx azurite --silent --location .azurite' (after 'npm ci'), or with the app by ./scripts/run-local.sh.");
        }
        if (ex is RequestFailedException storage)
        {
            return (ExitCodes.Failed, $"Storage answered {storage.Status} ({storage.ErrorCode}): {CliConfiguration.FirstLine(storage.Message)}");
        }
        return (ExitCodes.Failed, $"{ex.GetType().Name}: {ex.Message}");
    }

    /// <summary>The root cause when storage could not be reached at all (no answer), else null.</summary>
    private static string? StorageUnreachable(Exception ex)
    {
        var all = new List<Exception>();
        void Walk(Exception? e)
        {
            if (e is null) return;
            all.Add(e);
            if (e is AggregateException aggregate) foreach (var inner in aggregate.InnerExceptions) Walk(inner);
            else Walk(e.InnerException);
        }
        Walk(ex);
        if (!all.Any(e => e is RequestFailedException or AggregateException)) return null;
        // HttpRequestException says "Connection refused (127.0.0.1:10002)": the endpoint, and no key.
        var root = all.FirstOrDefault(e => e is HttpRequestException) ?? all.FirstOrDefault(e => e is SocketException);
        if (root is null && all.OfType<RequestFailedException>().FirstOrDefault(e => e.Status == 0) is { } noAnswer) root = noAnswer;
        if (root is null && all.FirstOrDefault(e => e is TaskCanceledException or TimeoutException) is { } timeout) root = timeout;
        return root is null ? null : CliConfiguration.FirstLine(root.Message).TrimEnd('.');
    }
}
