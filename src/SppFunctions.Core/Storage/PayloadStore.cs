using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace SppFunctions.Storage;

/// <summary>Claim-check blobs (container <c>spp-payloads</c>) for payloads too large for a queue message.</summary>
public class PayloadStore
{
    private readonly BlobContainerClient _container;
    private readonly CreateOnce _create;

    protected PayloadStore() { _container = null!; _create = null!; }

    public PayloadStore(BlobServiceClient blobs, StorageNames names)
    {
        _container = blobs.GetBlobContainerClient(names.PayloadContainer);
        _create = new CreateOnce(ct => _container.CreateIfNotExistsAsync(PublicAccessType.None, cancellationToken: ct));
    }

    public BlobContainerClient Container => _container;

    /// <summary>Stores a payload under the event id; returns the blob name.</summary>
    public virtual async Task<string> SaveAsync(string eventId, BinaryData payload, CancellationToken cancellationToken)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var name = $"{eventId}.json";
        await _container.GetBlobClient(name).UploadAsync(payload, overwrite: true, cancellationToken).ConfigureAwait(false);
        return name;
    }

    /// <summary>Reads a payload back.</summary>
    public virtual async Task<BinaryData> ReadAsync(string blobName, CancellationToken cancellationToken)
    {
        var result = await _container.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
        return result.Value.Content;
    }

    /// <summary>Deletes a payload (rolling back an intake that could not finish).</summary>
    public virtual async Task DeleteAsync(string blobName, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetBlobClient(blobName).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // Best effort: an orphaned blob holds no event (no queue message points to it).
        }
    }
}
