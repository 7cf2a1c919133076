using Azure.Core;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SppFunctions.Queueing;
using SppFunctions.Storage;

namespace Microsoft.Extensions.DependencyInjection;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the queue, table and blob clients once (Microsoft.Extensions.Azure), from the same
    /// <c>AzureWebJobsStorage</c> settings the Functions host uses, and the stores built on them.
    /// Queue messages are Base64, as the Functions queue trigger expects.
    /// </summary>
    public static IServiceCollection AddAppStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var storage = StorageConnection.From(configuration);
        services.AddAzureClients(clients =>
        {
            if (storage.ConnectionString is { } connectionString)
            {
                clients.AddQueueServiceClient(connectionString).ConfigureOptions(Base64);
                clients.AddTableServiceClient(connectionString);
                clients.AddBlobServiceClient(connectionString);
            }
            else
            {
                clients.AddQueueServiceClient(storage.QueueServiceUri!).ConfigureOptions(Base64);
                clients.AddTableServiceClient(storage.TableServiceUri!);
                clients.AddBlobServiceClient(storage.BlobServiceUri!);
                clients.UseCredential(storage.Credential!);
            }
            // Fail fast enough that a webhook gets its 503 while SPP still waits for the answer.
            clients.ConfigureDefaults(options =>
            {
                options.Retry.Mode = RetryMode.Exponential;
                options.Retry.MaxRetries = 2;
                options.Retry.Delay = TimeSpan.FromMilliseconds(200);
                options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
                options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
            });
        });

        services.TryAddSingleton(StorageNames.Default);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<EventStore>();
        services.TryAddSingleton<DedupeStore>();
        services.TryAddSingleton<PayloadStore>();
        services.TryAddSingleton<EventPublisher>();
        return services;
    }

    private static void Base64(QueueClientOptions options) => options.MessageEncoding = QueueMessageEncoding.Base64;
}
