using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace SppFunctions.Configuration;

/// <summary>
/// Finds app settings that are still Key Vault references. App Service replaces <c>@Microsoft.KeyVault(...)</c> with the
/// secret when it can read it; when it cannot (typically on a first deployment, while the identity's vault role is still
/// being applied) the app receives the reference text itself, and would send it to SPP as the API key or compare webhook
/// tokens with it. App Service retries only every 24 hours, so the app refuses to start and says how to hurry it.
/// </summary>
public static partial class KeyVaultReferenceCheck
{
    private const string Prefix = "@Microsoft.KeyVault(";

    /// <summary>Whether a setting's value is a Key Vault reference App Service has not replaced.</summary>
    public static bool IsUnresolvedReference(string? value) =>
        value is not null && value.TrimStart().StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Every setting holding an unresolved reference, as its app setting name (<c>Spp__ApiKey</c>) with the vault and
    /// secret it names when they read as plain names. Nothing else of the value is shown.
    /// </summary>
    public static IReadOnlyList<string> Describe(IConfiguration configuration) =>
        configuration.AsEnumerable()
            .Where(setting => IsUnresolvedReference(setting.Value))
            .Select(setting => setting.Key.Replace(":", "__", StringComparison.Ordinal) + Target(setting.Value!))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The start-up message for <paramref name="unresolved"/> (from <see cref="Describe"/>), or null for none.</summary>
    public static string? Failure(IReadOnlyList<string> unresolved) => unresolved.Count == 0
        ? null
        : $"{string.Join(", ", unresolved)} {(unresolved.Count == 1 ? "is a Key Vault reference" : "are Key Vault references")} "
          + "that App Service has not resolved: the app would use the reference text instead of the secret. On a first deployment "
          + "the identity's access to the vault can take a few minutes to apply. Wait, then refresh the references "
          + "(infra/scripts/refresh-keyvault-references.sh, which also shows each one's status) or restart the app; "
          + "see \"When Azure is slow\" in infra/README.md.";

    // " (secret NAME in vault VAULT)" from VaultName=/SecretName= or SecretUri=, only when both are plain names.
    private static string Target(string value)
    {
        var open = value.IndexOf('(', StringComparison.Ordinal);
        var close = value.LastIndexOf(')');
        var inner = close > open ? value[(open + 1)..close] : value[(open + 1)..];
        string? vault = null, secret = null;
        foreach (var part in inner.Split(';'))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) continue;
            var key = part[..equals].Trim();
            var text = part[(equals + 1)..].Trim();
            if (key.Equals("VaultName", StringComparison.OrdinalIgnoreCase)) vault = text;
            else if (key.Equals("SecretName", StringComparison.OrdinalIgnoreCase)) secret = text;
            else if (key.Equals("SecretUri", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(text, UriKind.Absolute, out var uri)
                && uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries) is ["secrets", var name, ..])
            {
                vault = uri.Host.Split('.')[0];
                secret = name;
            }
        }
        return vault is not null && secret is not null && PlainName().IsMatch(vault) && PlainName().IsMatch(secret)
            ? $" (secret {secret} in vault {vault})"
            : "";
    }

    // Key Vault's own naming rules: letters, digits and hyphens.
    [GeneratedRegex("^[A-Za-z0-9-]{1,127}$")]
    private static partial Regex PlainName();
}

/// <summary>Nothing to bind: the options type that carries <see cref="KeyVaultReferenceCheck"/> into start-up validation.</summary>
internal sealed class ResolvedSettings;

internal sealed class KeyVaultReferenceValidator(IConfiguration configuration) : IValidateOptions<ResolvedSettings>
{
    public ValidateOptionsResult Validate(string? name, ResolvedSettings options) =>
        KeyVaultReferenceCheck.Failure(KeyVaultReferenceCheck.Describe(configuration)) is { } failure
            ? ValidateOptionsResult.Fail(failure)
            : ValidateOptionsResult.Success;
}
