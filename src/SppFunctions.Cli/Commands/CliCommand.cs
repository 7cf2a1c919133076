using Spectre.Console.Cli;
using SppFunctions.Cli.Infrastructure;

namespace SppFunctions.Cli.Commands;

/// <summary>Base of every command: gives it the <see cref="CliContext"/> and runs it with its settings.</summary>
public abstract class CliCommand<TSettings>(CliContext cli) : AsyncCommand<TSettings> where TSettings : CliSettings
{
    protected CliContext Cli { get; } = cli;
    protected CliOutput Output => Cli.Output;

    public sealed override Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken) =>
        RunAsync(settings, cancellationToken);

    protected abstract Task<int> RunAsync(TSettings settings, CancellationToken cancellationToken);

    /// <summary>A time for tables: UTC, to the second.</summary>
    protected static string Time(DateTimeOffset? value) =>
        value is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "";

    /// <summary>Text shortened for a table cell.</summary>
    protected static string Shorten(string? text, int max = 60)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)] + "…";
    }
}
