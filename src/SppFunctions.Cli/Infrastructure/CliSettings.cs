using System.ComponentModel;
using Spectre.Console.Cli;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>Options every command takes.</summary>
public class CliSettings : CommandSettings
{
    [CommandOption("--settings <PATH>")]
    [Description("The local.settings.json to read (default: ./local.settings.json, else the repository root's). " +
        "Environment variables override its Values.")]
    public string? SettingsFile { get; init; }

    [CommandOption("--json")]
    [Description("Machine-readable output: only JSON on stdout.")]
    public bool Json { get; init; }
}
