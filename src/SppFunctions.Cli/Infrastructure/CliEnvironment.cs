using System.Collections;
using Microsoft.Extensions.DependencyInjection;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>
/// What the CLI gets from the world: its output streams, environment variables, working directory and terminal.
/// <see cref="FromProcess"/> is the real process; tests pass their own (string writers, an environment dictionary, and a
/// services hook, e.g. to give the stores storage names of their own).
/// </summary>
public sealed class CliEnvironment
{
    /// <summary>Standard output: the results (and only JSON with <c>--json</c>).</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Standard error: error messages and warnings.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Environment variables, overlaid on local.settings.json's Values.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    /// <summary>The directory relative paths start from (and where local.settings.json is looked for first).</summary>
    public string CurrentDirectory { get; init; } = System.Environment.CurrentDirectory;

    /// <summary>Where the CLI's own files are (the repository is looked for above it when not above the current directory).</summary>
    public string BaseDirectory { get; init; } = AppContext.BaseDirectory;

    /// <summary>True when stdout is a terminal: progress bars and colours only then.</summary>
    public bool Interactive { get; init; }

    /// <summary>Off a terminal, long-running commands print a progress line at most this often.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Width of human-readable output (tables).</summary>
    public int Width { get; init; } = 200;

    /// <summary>Runs after a command registered its services (tests replace storage names, time, handlers).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>The real process: Console streams, the process environment, the current directory.</summary>
    public static CliEnvironment FromProcess()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in global::System.Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value) environment[key] = value;
        }
        var interactive = !Console.IsOutputRedirected;
        int width;
        try { width = interactive ? Console.WindowWidth : 200; }
        catch (IOException) { width = 200; }
        return new CliEnvironment
        {
            Out = Console.Out,
            Error = Console.Error,
            Variables = environment,
            CurrentDirectory = global::System.Environment.CurrentDirectory,
            Interactive = interactive,
            Width = width > 0 ? width : 200,
        };
    }
}
