using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Fluid;
using Fluid.Values;

namespace SppFunctions.Processing.Templates;

/// <summary>How a rendered value is escaped for where it goes.</summary>
public enum TemplateEncoding
{
    /// <summary>As is (JSON bodies, headers, ids).</summary>
    None,
    /// <summary>HTML-escaped values, for SPP message bodies (HTML).</summary>
    Html,
    /// <summary>URL-escaped values, for API paths: a value can never add a path segment or a '..'.</summary>
    UrlSegment,
}

/// <summary>A rendered template read a value that is absent or null in the event.</summary>
public sealed class TemplateValueMissingException(IReadOnlyList<string> paths)
    : Exception($"The template uses {string.Join(", ", paths.Distinct())}, which the event does not have " +
        $"(use '| default: ...' or an {{% if %}} for optional values).")
{
    public IReadOnlyList<string> Paths { get; } = paths;
}

/// <summary>A parsed Liquid template (Fluid). Parse once at start-up, render per event.</summary>
public sealed class CompiledTemplate
{
    private readonly IFluidTemplate? _template;
    private readonly TemplateOptions _options;

    private readonly IReadOnlyDictionary<string, string> _secrets;

    internal CompiledTemplate(string source, IFluidTemplate? template, TemplateOptions options, IReadOnlyDictionary<string, string> secrets)
    {
        _secrets = secrets;
        Source = source;
        _template = template;
        _options = options;
    }

    public string Source { get; }

    /// <summary>True when the text has no Liquid markup.</summary>
    public bool IsLiteral => _template is null;

    /// <summary>Renders over <paramref name="scope"/>; throws <see cref="TemplateValueMissingException"/> when a value is missing.</summary>
    public string Render(JsonObject scope, TemplateEncoding encoding = TemplateEncoding.None)
    {
        if (_template is null) return Source;
        var context = new TemplateContext(new JsonObjectValue(scope, "", _secrets), _options, allowModelMembers: true);
        var missing = new MissingValues();
        context.AmbientValues[MissingValues.AmbientKey] = missing;
        var text = _template.Render(context, encoding switch
        {
            TemplateEncoding.Html => TemplateEngine.Html,
            TemplateEncoding.UrlSegment => UrlEncoder.Default,
            _ => NullEncoder.Default,
        });
        if (missing.Paths.Count > 0) throw new TemplateValueMissingException(missing.Paths);
        return text;
    }
}

/// <summary>
/// Liquid templates over an event (Fluid, the kept .NET Liquid engine). The scope is
/// <c>{id, event, topic, created, source, data}</c>: <c>{{ data.client.email }}</c>, <c>{{ event }}</c>.
/// A missing or null value is an error for the action, never a silent empty string, unless the template handles it:
/// <c>{{ data.note | default: "none" }}</c>, or a condition such as <c>{% if data.note %}...{% endif %}</c>.
/// </summary>
public sealed partial class TemplateEngine
{
    /// <summary>
    /// The scope name of the rule secrets: <c>{{ secrets.SlackWebhook }}</c> reads the app setting <c>RuleSecrets__SlackWebhook</c>.
    /// </summary>
    public const string SecretsName = "secrets";
    public const string SecretsSection = "RuleSecrets";

    internal static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);
    private static readonly FluidParser Parser = new();
    private readonly TemplateOptions _options;
    private readonly Dictionary<string, string> _secrets;

    [GeneratedRegex(@"\bsecrets\.([A-Za-z0-9_]+)")]
    private static partial Regex SecretReference();

    /// <param name="secrets">Values templates may read as <c>{{ secrets.NAME }}</c> (the app settings <c>RuleSecrets__NAME</c>).</param>
    public TemplateEngine(IReadOnlyDictionary<string, string>? secrets = null)
    {
        _secrets = secrets is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(secrets, StringComparer.Ordinal);
        _options = new TemplateOptions { MaxSteps = 100_000, MaxRecursion = 20 };
        _options.Filters.AddFilter("default", DefaultFilter);
    }

    /// <summary>Parses <paramref name="source"/>; on a syntax error returns false with Fluid's message.</summary>
    public bool TryParse(string source, out CompiledTemplate template, out string? error)
    {
        error = null;
        if (!source.Contains("{{", StringComparison.Ordinal) && !source.Contains("{%", StringComparison.Ordinal))
        {
            template = new CompiledTemplate(source, null, _options, _secrets);
            return true;
        }
        if (Parser.TryParse(source, out var parsed, out var message))
        {
            // A secret the template names must be set: found at start-up, not on the first event that needs it.
            var unset = SecretReference().Matches(source).Select(m => m.Groups[1].Value).FirstOrDefault(name => !_secrets.ContainsKey(name));
            if (unset is not null)
            {
                template = null!;
                error = $"it uses secrets.{unset}, but the app setting {SecretsSection}__{unset} is not set.";
                return false;
            }
            template = new CompiledTemplate(source, parsed, _options, _secrets);
            return true;
        }
        template = null!;
        error = message?.Replace("\r", "").Replace("\n", " ").Trim();
        return false;
    }

    /// <summary>Liquid's default filter, which also clears the "missing" mark of the value it replaces.</summary>
    private static ValueTask<FluidValue> DefaultFilter(FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        if (input is MissingValue missing) missing.Handled();
        var empty = input.IsNil()
            || (input.Type == FluidValues.String && input.ToStringValue().Length == 0)
            || (input.Type == FluidValues.Boolean && !input.ToBooleanValue())
            || (input.Type == FluidValues.Array && !input.Enumerate(context).Any());
        return new ValueTask<FluidValue>(empty ? arguments.At(0) : input);
    }
}
