using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SppFunctions.Infra.Tests.Infrastructure;

public enum SettingShape
{
    /// <summary>One value: <c>Section__Property</c>.</summary>
    Scalar,
    /// <summary>A list of scalars: the family <c>Name__0</c>, <c>Name__1</c>, ...</summary>
    ScalarList,
    /// <summary>A dictionary or a list of objects: any <c>Name__...</c> below it.</summary>
    Family,
}

/// <summary>A setting the code binds, as an app-setting name, with the default the options class gives it.</summary>
public sealed record BoundSetting(
    string Name, SettingShape Shape, Type ValueType, object? Default, IReadOnlyList<object?> DefaultItems, string Source)
{
    /// <summary>Whether the code has a default: a non-null scalar, or a non-empty list.</summary>
    public bool HasDefault => Shape switch
    {
        SettingShape.Scalar => Default is not null,
        SettingShape.ScalarList => DefaultItems.Count > 0,
        _ => false,
    };

    /// <summary>Whether <paramref name="settingName"/> is this setting or one of its family.</summary>
    public bool Covers(string settingName) => Shape switch
    {
        SettingShape.Scalar => string.Equals(settingName, Name, StringComparison.OrdinalIgnoreCase),
        SettingShape.ScalarList => IsListItem(Name, settingName, out _),
        _ => settingName.StartsWith(Name + "__", StringComparison.OrdinalIgnoreCase) && settingName.Length > Name.Length + 2,
    };

    public static bool IsListItem(string listName, string settingName, out int index)
    {
        index = -1;
        return settingName.StartsWith(listName + "__", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(settingName.AsSpan(listName.Length + 2), NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }
}

/// <summary>
/// The settings the code binds, found the way the configuration binder finds them: every public type of the
/// given assemblies with a <c>public const string SectionName</c> is an options class bound to that section; its
/// public properties expand into <c>Section__Property</c>, nested objects into <c>Section__Prop__Sub</c> and lists
/// into the family <c>Section__Prop__0</c>, <c>__1</c>, ...
/// </summary>
public static class CodeSettings
{
    private const int MaxDepth = 8;

    /// <summary>The assemblies whose options classes the app binds.</summary>
    public static IReadOnlyList<Assembly> AppAssemblies() =>
        new[] { "Spp.Client", "SppFunctions.Core" }.Select(name => Assembly.Load(new AssemblyName(name))).ToList();

    /// <summary>The options classes: public types declaring <c>public const string SectionName</c>.</summary>
    public static IReadOnlyList<(Type Type, string Section)> OptionsClasses(IEnumerable<Assembly> assemblies) =>
        assemblies.SelectMany(a => a.GetExportedTypes())
            .Select(t => (Type: t, Field: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)))
            .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
            .Select(x => (x.Type, Section: (string)x.Field!.GetRawConstantValue()!))
            .OrderBy(x => x.Section, StringComparer.Ordinal).ThenBy(x => x.Type.FullName, StringComparer.Ordinal)
            .ToList();

    public static IReadOnlyList<BoundSetting> Bound(IEnumerable<Assembly> assemblies) =>
        OptionsClasses(assemblies).SelectMany(o => Expand(o.Type, o.Section)).ToList();

    /// <summary>The settings one options class binds from <paramref name="section"/> (':' or '__' separated).</summary>
    public static IReadOnlyList<BoundSetting> Expand(Type optionsType, string section)
    {
        var instance = CreateDefault(optionsType)
            ?? throw new InvalidOperationException($"{optionsType.FullName} has no public parameterless constructor, so its defaults are unknown.");
        var results = new List<BoundSetting>();
        ExpandInto(results, section.Replace(":", "__", StringComparison.Ordinal), optionsType, instance, optionsType.Name, 0);
        return results;
    }

    private static void ExpandInto(List<BoundSetting> results, string prefix, Type type, object? instance, string source, int depth)
    {
        if (depth > MaxDepth) throw new InvalidOperationException($"{source}: options nest deeper than {MaxDepth} levels (a cycle?).");
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is not { IsPublic: true }) continue;
            var settable = property.SetMethod is { IsPublic: true };
            var name = $"{prefix}__{KeyName(property)}";
            var value = instance is null ? null : property.GetValue(instance);
            var propertyType = property.PropertyType;
            var where = $"{source}.{property.Name}";

            if (IsScalar(propertyType))
            {
                if (settable) results.Add(new BoundSetting(name, SettingShape.Scalar, propertyType, value, [], where));
            }
            else if (IsDictionary(propertyType))
            {
                results.Add(new BoundSetting(name, SettingShape.Family, propertyType, value, [], where));
            }
            else if (ElementType(propertyType) is { } element)
            {
                if (IsScalar(element))
                {
                    var items = value is IEnumerable e ? e.Cast<object?>().ToList() : [];
                    results.Add(new BoundSetting(name, SettingShape.ScalarList, element, value, items, where));
                }
                else
                {
                    results.Add(new BoundSetting(name, SettingShape.Family, element, value, [], where));
                }
            }
            else if (!propertyType.IsAbstract && !propertyType.IsInterface)
            {
                ExpandInto(results, name, propertyType, value ?? CreateDefault(propertyType), where, depth + 1);
            }
        }
    }

    /// <summary>Binder rule: a type is bound from one string when a type converter converts from string.</summary>
    public static bool IsScalar(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(string) || t.IsPrimitive || t.IsEnum || t == typeof(decimal)
            || TypeDescriptor.GetConverter(t).CanConvertFrom(typeof(string));
    }

    /// <summary>Parses an app-setting value as the binder would (invariant culture, the type's converter).</summary>
    public static object? Parse(string text, Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return text;
        return TypeDescriptor.GetConverter(t).ConvertFromInvariantString(text);
    }

    /// <summary>Formats a default for messages, as it would be written in an app setting.</summary>
    public static string Format(object? value) => value switch
    {
        null => "(null)",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static bool IsDictionary(Type type) =>
        type.IsGenericType && type.GetInterfaces().Append(type).Any(i => i.IsGenericType
            && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)));

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string)) return null;
        if (type.IsArray) return type.GetElementType();
        return type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            ?.GetGenericArguments()[0];
    }

    /// <summary>[ConfigurationKeyName("...")] renames the key a property binds from.</summary>
    private static string KeyName(PropertyInfo property) =>
        property.GetCustomAttributesData()
            .Where(a => a.AttributeType.FullName == "Microsoft.Extensions.Configuration.ConfigurationKeyNameAttribute")
            .Select(a => a.ConstructorArguments[0].Value as string)
            .FirstOrDefault() ?? property.Name;

    private static object? CreateDefault(Type type) =>
        type.IsValueType || type.GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance(type) : null;
}

/// <summary>What the Functions host binds: <c>%Setting%</c> expressions and connection names in functions.metadata.</summary>
public sealed record FunctionsMetadataSettings(IReadOnlySet<string> Expressions, IReadOnlySet<string> Connections)
{
    /// <summary>The connection a storage binding uses when it names none.</summary>
    public const string DefaultConnection = "AzureWebJobsStorage";

    public static FunctionsMetadataSettings Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: the Functions project did not build with the Worker SDK.", path);
        return Parse(JsonNode.Parse(File.ReadAllText(path))!.AsArray());
    }

    public static FunctionsMetadataSettings Parse(JsonArray functions)
    {
        var expressions = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        var connections = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var binding in functions.SelectMany(f => f!["bindings"]?.AsArray() ?? []).Select(b => b!.AsObject()))
        {
            foreach (var (key, value) in binding)
            {
                if (value is not JsonValue v || !v.TryGetValue<string>(out var text)) continue;
                foreach (Match m in Regex.Matches(text, "%([^%]+)%")) expressions.Add(m.Groups[1].Value);
                if (key.Equals("connection", StringComparison.OrdinalIgnoreCase))
                    connections.Add(string.IsNullOrWhiteSpace(text) ? DefaultConnection : text);
            }
        }
        return new FunctionsMetadataSettings(expressions, connections);
    }
}
