namespace SppFunctions.Cli.Infrastructure;

/// <summary>The CLI's exit codes (docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The command ran but did not succeed: SPP or the endpoint answered with an error, an event was not replayed, ...</summary>
    public const int Failed = 1;
    /// <summary>Bad arguments or options.</summary>
    public const int Usage = 2;
    /// <summary>A setting is missing or invalid (the message names it).</summary>
    public const int Settings = 3;
    /// <summary>Storage or SPP (or the webhook endpoint) could not be reached.</summary>
    public const int Unreachable = 4;
    /// <summary>Stopped with Ctrl-C.</summary>
    public const int Cancelled = 130;
}

/// <summary>A failure the user can act on: printed as one line on stderr, the process exits with <see cref="ExitCode"/>.</summary>
public sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);
    public static CliException Settings(string message) => new(ExitCodes.Settings, message);
    public static CliException Failed(string message) => new(ExitCodes.Failed, message);
    public static CliException Unreachable(string message, Exception? inner = null) => new(ExitCodes.Unreachable, message, inner);
}
