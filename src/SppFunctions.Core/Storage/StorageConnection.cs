using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace SppFunctions.Storage;

/// <summary>
/// Reads the storage the app uses from the same <c>AzureWebJobsStorage</c> settings the Functions host reads:
/// either a connection string (<c>AzureWebJobsStorage=UseDevelopmentStorage=true</c> locally), or the identity-based
/// form (<c>AzureWebJobsStorage__queueServiceUri</c>/<c>__tableServiceUri</c>/<c>__blobServiceUri</c> or
/// <c>__accountName</c>, with <c>__credential=managedidentity</c> and <c>__clientId</c>) in Azure.
/// </summary>
public sealed class StorageConnection
{
    public const string SettingName = "AzureWebJobsStorage";

    private StorageConnection() { }

    /// <summary>Set when the settings hold a connection string.</summary>
    public string? ConnectionString { get; private init; }
    public Uri? QueueServiceUri { get; private init; }
    public Uri? TableServiceUri { get; private init; }
    public Uri? BlobServiceUri { get; private init; }
    /// <summary>The credential for the identity-based form.</summary>
    public TokenCredential? Credential { get; private init; }

    /// <summary>Reads the settings; throws with a message naming the settings when they are missing or incomplete.</summary>
    public static StorageConnection From(IConfiguration configuration, string name = SettingName)
    {
        var section = configuration.GetSection(name);
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            return new StorageConnection { ConnectionString = section.Value };
        }

        var account = section["accountName"];
        Uri? Service(string key, string service)
        {
            var text = section[key];
            if (!string.IsNullOrWhiteSpace(text))
            {
                return Uri.TryCreate(text, UriKind.Absolute, out var uri)
                    ? uri
                    : throw new InvalidOperationException($"{name}__{key} must be an absolute URL (got '{text}').");
            }
            return string.IsNullOrWhiteSpace(account) ? null : new Uri($"https://{account}.{service}.core.windows.net");
        }

        var queue = Service("queueServiceUri", "queue");
        var table = Service("tableServiceUri", "table");
        var blob = Service("blobServiceUri", "blob");
        if (queue is null && table is null && blob is null)
        {
            throw new InvalidOperationException(
                $"{name} is not set: use a connection string (UseDevelopmentStorage=true for Azurite), or {name}__accountName " +
                $"(or {name}__queueServiceUri, __tableServiceUri and __blobServiceUri) " +
                $"with {name}__credential=managedidentity and {name}__clientId.");
        }
        var missing = new[] { ("queueServiceUri", queue), ("tableServiceUri", table), ("blobServiceUri", blob) }
            .Where(s => s.Item2 is null).Select(s => $"{name}__{s.Item1}").ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The app needs queues, tables and blobs: set {string.Join(", ", missing)} (or {name}__accountName).");
        }

        return new StorageConnection
        {
            QueueServiceUri = queue, TableServiceUri = table, BlobServiceUri = blob, Credential = CreateCredential(section),
        };
    }

    private static TokenCredential CreateCredential(IConfigurationSection section)
    {
        var clientId = section["clientId"];
        var kind = section["credential"];
        if (string.Equals(kind, "managedidentity", StringComparison.OrdinalIgnoreCase))
        {
            return new ManagedIdentityCredential(string.IsNullOrWhiteSpace(clientId)
                ? ManagedIdentityId.SystemAssigned
                : ManagedIdentityId.FromUserAssignedClientId(clientId));
        }
        // Developer machines and CI: az login, Visual Studio, environment, and a user-assigned identity when named.
        return new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? null : clientId,
        });
    }
}
