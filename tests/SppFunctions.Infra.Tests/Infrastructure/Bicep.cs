using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SppFunctions.Infra.Tests.Infrastructure;

/// <summary>One run of the Bicep CLI: exit code, standard output and the diagnostics it wrote to standard error.</summary>
public sealed record BicepResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Non-empty lines of standard error: Bicep writes every diagnostic (error, warning, info) there.</summary>
    public IReadOnlyList<string> Diagnostics =>
        StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Diagnostics located in <paramref name="file"/> (lines start with its full path).</summary>
    public IReadOnlyList<string> DiagnosticsOf(string file) =>
        Diagnostics.Where(d => d.StartsWith(Path.GetFullPath(file) + "(", StringComparison.Ordinal)).ToList();

    public override string ToString() =>
        $"`{Command}` exited with {ExitCode}.\nstderr:\n{StandardError}\nstdout (start):\n{StandardOutput[..Math.Min(2000, StandardOutput.Length)]}";
}

/// <summary>Runs the pinned Bicep CLI from the NuGet package.</summary>
public static partial class Bicep
{
    private static readonly Lazy<string> Executable = new(() =>
    {
        var path = TestPaths.BicepCli;
        if (!File.Exists(path))
            throw new InvalidOperationException($"The Bicep CLI is missing at {path}: restore tests/SppFunctions.Infra.Tests (PackageDownload).");
        // The package is linux-x64 only; NuGet does not keep the execute bit of every package file everywhere.
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("The pinned Bicep CLI package is linux-x64.");
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((mode & UnixFileMode.UserExecute) == 0) File.SetUnixFileMode(path, mode | execute);
        return path;
    });

    public static BicepResult Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable.Value)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within 2 minutes.");
        }
        return new BicepResult("bicep " + string.Join(' ', arguments), process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Every .bicep file under infra/, as full paths, in a stable order.</summary>
    public static IReadOnlyList<string> TemplateFiles() =>
        Directory.GetFiles(TestPaths.InfraDirectory, "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    /// <summary>A path relative to infra/, with forward slashes (test case names).</summary>
    public static string RelativeName(string file) => Path.GetRelativePath(TestPaths.InfraDirectory, file).Replace('\\', '/');

    [GeneratedRegex(@"^(?<file>.+?)\((?<line>\d+),(?<column>\d+)\) : (?<level>\w+) (?<code>[^:]+):")]
    public static partial Regex DiagnosticLine();
}
