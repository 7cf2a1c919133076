using System.Text.RegularExpressions;

namespace SppFunctions.Infra.Tests.Infrastructure;

/// <summary>
/// Compares the settings the code binds with the app settings a template writes. Pure: the tests feed it the
/// real code and template, and synthetic ones to show each rule can fail.
/// </summary>
public sealed partial class SettingsContract
{
    /// <summary>
    /// Host and platform settings the template may write although no options class binds them: identity-based
    /// host storage and Entra-authenticated Application Insights.
    /// </summary>
    public static readonly IReadOnlySet<string> PlatformSettings = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__tableServiceUri",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    };

    public SettingsContract(IReadOnlyList<BoundSetting> bound, FunctionsMetadataSettings metadata, IEnumerable<string>? pendingLists = null)
    {
        Bound = bound;
        Metadata = metadata;
        PendingLists = (pendingLists ?? []).ToList();
    }

    public IReadOnlyList<BoundSetting> Bound { get; }

    public FunctionsMetadataSettings Metadata { get; }

    /// <summary>Lists (family <c>Name__N</c>) the template writes before the code binds them.</summary>
    public IReadOnlyList<string> PendingLists { get; }

    /// <summary>Settings the code needs that the template does not write.</summary>
    public IReadOnlyList<string> Missing(IReadOnlyDictionary<string, string> template)
    {
        var missing = new List<string>();
        foreach (var setting in Bound)
        {
            switch (setting.Shape)
            {
                case SettingShape.Scalar when !template.Keys.Any(setting.Covers):
                    missing.Add($"{setting.Name} ({setting.Source}"
                                + $"{(setting.HasDefault ? ", default " + CodeSettings.Format(setting.Default) : ", no default")})");
                    break;
                case SettingShape.ScalarList:
                    // A list whose default has items must be written item by item; an empty default needs nothing.
                    for (var i = 0; i < setting.DefaultItems.Count; i++)
                    {
                        if (!template.ContainsKey($"{setting.Name}__{i}"))
                            missing.Add($"{setting.Name}__{i} ({setting.Source}, default item {CodeSettings.Format(setting.DefaultItems[i])})");
                    }
                    break;
            }
        }
        foreach (var expression in Metadata.Expressions)
        {
            var name = expression.Replace(":", "__", StringComparison.Ordinal);
            if (!template.Keys.Any(k => k.Equals(name, StringComparison.OrdinalIgnoreCase)))
                missing.Add($"{name} (%{expression}% in functions.metadata)");
        }
        foreach (var connection in Metadata.Connections)
        {
            if (!template.Keys.Any(k => k.Equals(connection, StringComparison.OrdinalIgnoreCase)
                                        || k.StartsWith(connection + "__", StringComparison.OrdinalIgnoreCase)))
                missing.Add($"{connection} or {connection}__* (connection in functions.metadata)");
        }
        return missing;
    }

    /// <summary>Settings the template writes that neither the code nor the platform reads.</summary>
    public IReadOnlyList<string> Unknown(IReadOnlyDictionary<string, string> template) =>
        template.Keys.Where(name => !IsKnown(name)).Order(StringComparer.Ordinal).ToList();

    /// <summary>Settings with a default in code whose template value differs from it.</summary>
    public IReadOnlyList<string> WrongDefaults(IReadOnlyDictionary<string, string> template)
    {
        var wrong = new List<string>();
        foreach (var setting in Bound.Where(s => s.HasDefault))
        {
            if (setting.Shape == SettingShape.Scalar)
            {
                var entry = template.FirstOrDefault(t => setting.Covers(t.Key));
                if (entry.Key is not null && !SameValue(entry.Value, setting.ValueType, setting.Default, out var parsed))
                    wrong.Add($"{entry.Key} = '{entry.Value}' ({parsed}), code default {CodeSettings.Format(setting.Default)} ({setting.Source})");
            }
            else if (setting.Shape == SettingShape.ScalarList)
            {
                var items = template.Select(t => (Ok: BoundSetting.IsListItem(setting.Name, t.Key, out var i), Index: i, t.Value))
                    .Where(x => x.Ok).OrderBy(x => x.Index).ToList();
                if (items.Count == 0) continue; // reported by Missing
                if (items.Count != setting.DefaultItems.Count || items.Select(x => x.Index).Where((index, position) => index != position).Any())
                {
                    wrong.Add($"{setting.Name}__0..{setting.DefaultItems.Count - 1} expected "
                              + $"(default [{string.Join(", ", setting.DefaultItems.Select(CodeSettings.Format))}]), "
                              + $"template has [{string.Join(", ", items.Select(x => $"__{x.Index}='{x.Value}'"))}] ({setting.Source})");
                    continue;
                }
                for (var i = 0; i < items.Count; i++)
                {
                    if (!SameValue(items[i].Value, setting.ValueType, setting.DefaultItems[i], out var parsed))
                        wrong.Add($"{setting.Name}__{i} = '{items[i].Value}' ({parsed}), "
                                  + $"code default item {CodeSettings.Format(setting.DefaultItems[i])} ({setting.Source})");
                }
            }
        }
        return wrong;
    }

    /// <summary>Pending lists the code now binds: they must leave the pending list.</summary>
    public IReadOnlyList<string> PendingButBound() =>
        PendingLists.Where(p => Bound.Any(b => b.Covers(p + "__0") || b.Covers(p))).ToList();

    private bool IsKnown(string name) =>
        PlatformSettings.Contains(name)
        || Bound.Any(b => b.Covers(name))
        || Metadata.Expressions.Any(e => e.Replace(":", "__", StringComparison.Ordinal).Equals(name, StringComparison.OrdinalIgnoreCase))
        || Metadata.Connections.Any(c => !c.Equals(FunctionsMetadataSettings.DefaultConnection, StringComparison.OrdinalIgnoreCase)
                                         && (name.Equals(c, StringComparison.OrdinalIgnoreCase)
                                             || name.StartsWith(c + "__", StringComparison.OrdinalIgnoreCase)))
        || PendingLists.Any(p => BoundSetting.IsListItem(p, name, out _));

    private static bool SameValue(string text, Type type, object? expected, out string parsedDescription)
    {
        try
        {
            var parsed = CodeSettings.Parse(text, type);
            parsedDescription = "parsed as " + CodeSettings.Format(parsed);
            return Equals(parsed, expected);
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException || e.InnerException is FormatException)
        {
            parsedDescription = $"not a valid {type.Name}";
            return false;
        }
    }

    /// <summary>Whether a setting name looks like it holds a secret (key, token, secret, password, connection string).</summary>
    public static bool LooksSecret(string name) =>
        !PlatformSettings.Contains(name) && SecretName().IsMatch(name.Split("__").Last(s => !s.All(char.IsAsciiDigit)));

    [GeneratedRegex("(ApiKey|Token|Secret|Password|ConnectionString)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}
