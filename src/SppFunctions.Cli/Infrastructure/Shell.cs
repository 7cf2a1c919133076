using System.Text.RegularExpressions;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>Quoting for POSIX shells (bash, zsh), so text shown for pasting runs as the arguments it stands for.</summary>
internal static partial class Shell
{
    [GeneratedRegex(@"^[A-Za-z0-9_./:=@%+,-]+$")]
    private static partial Regex Plain();

    /// <summary>The argument as is when the shell leaves it alone, else in single quotes (which keep everything but ').</summary>
    public static string Quote(string argument) =>
        argument.Length > 0 && Plain().IsMatch(argument) ? argument : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public static string[] Quote(IEnumerable<string> arguments) => arguments.Select(Quote).ToArray();
}
