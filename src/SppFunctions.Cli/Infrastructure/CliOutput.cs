using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace SppFunctions.Cli.Infrastructure;

/// <summary>
/// Where commands write: <see cref="Console"/> for people (tables, progress), <see cref="Json"/> for scripts (the only
/// thing on stdout with <c>--json</c>), <see cref="Warn"/> and errors to stderr. Text from outside (SPP answers,
/// exception messages) goes through <see cref="Redact"/>, so a configured secret never reaches the terminal.
/// </summary>
public sealed class CliOutput
{
    private static readonly JsonSerializerOptions Indented =
        new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly CliEnvironment _environment;
    private readonly List<string> _secrets = new();

    public CliOutput(CliEnvironment environment)
    {
        _environment = environment;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = environment.Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = environment.Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = environment.Interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(environment.Out),
        });
        Console.Profile.Width = environment.Width;
    }

    /// <summary>Human-readable output on stdout.</summary>
    public IAnsiConsole Console { get; }

    public bool Interactive => _environment.Interactive;

    /// <summary>Adds values never to print (longest first, so a token containing another is hidden whole).</summary>
    public void AddSecrets(IEnumerable<string> secrets)
    {
        // Very short values would hide ordinary words; real keys, tokens and function keys are long.
        _secrets.AddRange(secrets.Where(s => s is { Length: >= 6 } && !_secrets.Contains(s)));
        _secrets.Sort((a, b) => b.Length.CompareTo(a.Length));
    }

    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        foreach (var secret in _secrets) text = text.Replace(secret, "***", StringComparison.Ordinal);
        return text;
    }

    /// <summary>Writes a JSON document on stdout (indented, redacted).</summary>
    public void Json(JsonNode? node) => _environment.Out.WriteLine(Redact(node?.ToJsonString(Indented) ?? "null"));

    /// <summary>Writes a plain line on stdout (redacted, no markup).</summary>
    public void Line(string text = "") => _environment.Out.WriteLine(Redact(text));

    /// <summary>A note on stderr: something the user should know that is not wrong.</summary>
    public void Note(string text) => _environment.Error.WriteLine("note: " + Redact(text));

    /// <summary>A warning on stderr.</summary>
    public void Warn(string text) => _environment.Error.WriteLine("warning: " + Redact(text));

    /// <summary>The one-line error on stderr.</summary>
    public void Error(string text) => _environment.Error.WriteLine("error: " + Redact(text.ReplaceLineEndings(" ").Trim()));

    /// <summary>
    /// Runs work that reports its steps through the callback it gets: a progress bar on a terminal (a spinner when the total
    /// is unknown), otherwise a plain line on stdout at most every <see cref="CliEnvironment.ProgressInterval"/>
    /// ("Sending: 120 of 1000"), and nothing with <c>--json</c>. The callback may be called from several threads.
    /// </summary>
    public async Task<T> ProgressAsync<T>(string description, int? total, bool json, Func<Action<int>, Task<T>> work)
    {
        if (json) return await work(_ => { }).ConfigureAwait(false);
        if (Interactive)
        {
            return await Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(Markup.Escape(description), maxValue: total ?? 1);
                    task.IsIndeterminate = total is null;
                    var result = await work(n => task.Increment(total is null ? 0 : n)).ConfigureAwait(false);
                    task.IsIndeterminate = false;
                    task.Value = task.MaxValue;
                    return result;
                }).ConfigureAwait(false);
        }
        var gate = new object();
        var done = 0;
        var last = System.Diagnostics.Stopwatch.StartNew();
        return await work(n =>
        {
            lock (gate)
            {
                done += n;
                if (last.Elapsed < _environment.ProgressInterval) return;
                last.Restart();
                Line($"{description}: {done}{(total is { } t ? $" of {t}" : "")}");
            }
        }).ConfigureAwait(false);
    }

    /// <summary>A table with the given columns, ready to fill and <see cref="Write"/>.</summary>
    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns) table.AddColumn(new TableColumn(column));
        return table;
    }

    public void Write(Spectre.Console.Rendering.IRenderable renderable) => Console.Write(renderable);

    /// <summary>A table cell of outside text (redacted, never read as markup).</summary>
    public Text Cell(string? text) => new(Redact(text ?? ""));

    public Text Cell(object? value) => Cell(Format(value));

    /// <summary>A value as text for people (invariant culture).</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
