using Microsoft.Extensions.Options;
using SppFunctions.Processing.Actions;
using SppFunctions.Processing.Templates;

namespace SppFunctions.Processing.Rules;

/// <summary>Where the rules file is (<c>Rules__Path</c>).</summary>
public sealed class RulesOptions
{
    public const string SectionName = "Rules";
    public const string DefaultFileName = "rules.json";

    /// <summary>The rules file; a relative path is taken from the app's folder (where host.json is).</summary>
    public string Path { get; set; } = DefaultFileName;

    public string FullPath => System.IO.Path.GetFullPath(Path, AppContext.BaseDirectory);
}

/// <summary>
/// The rules file, read and checked once per process: the start-up validation and the <see cref="RuleSet"/> the
/// processor uses share the one load.
/// </summary>
internal sealed class RulesFile(TemplateEngine engine, IOptions<ForwardOptions> forward)
{
    private readonly object _gate = new();
    private (string Path, RulesLoadResult Result)? _loaded;

    public RulesLoadResult Load(RulesOptions options)
    {
        lock (_gate)
        {
            if (_loaded is { } loaded && loaded.Path == options.FullPath) return loaded.Result;
            var result = RulesLoader.LoadFile(options.FullPath, engine, forward.Value);
            _loaded = (options.FullPath, result);
            return result;
        }
    }
}

/// <summary>Checks the rules file at start-up, so any error in it stops the app with a message naming the rule and field.</summary>
internal sealed class RulesOptionsValidator(RulesFile file) : IValidateOptions<RulesOptions>
{
    public ValidateOptionsResult Validate(string? name, RulesOptions options)
    {
        var result = file.Load(options);
        return result.Errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(result.Errors);
    }
}
