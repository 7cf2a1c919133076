using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using SppFunctions.Events;

namespace SppFunctions.Storage;

/// <summary>A payload blob: its name, the event whose payload it holds, and when it was last written.</summary>
public sealed record PayloadBlob(string Name, string EventId, DateTimeOffset? LastModified);

/// <summary>
/// Claim-check blobs (container <c>spp-payloads</c>) for payloads too large for a queue message, and the kept payloads
/// of failed events and commands. Every name begins with the event id (<c>{id}.json</c>, <c>{id}/….json</c>).
/// </summary>
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

    /// <summary>
    /// The blobs of events created before <paramref name="before"/>, in name order: names begin with the event id, which
    /// begins with the event's created time, so the listing stops at the first newer one. Names that do not begin with
    /// an event id are left out.
    /// </summary>
    public virtual async IAsyncEnumerable<PayloadBlob> ListCreatedBeforeAsync(
        DateTimeOffset before, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _create.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var bound = Math.Clamp(before.ToUnixTimeSeconds(), 0, 9_999_999_999).ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
        await foreach (var blob in _container.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (string.CompareOrdinal(blob.Name, bound) >= 0) yield break;
            var id = blob.Name.Length >= EventIds.Length ? blob.Name[..EventIds.Length] : blob.Name;
            if (!EventIds.IsValid(id) || (blob.Name.Length > id.Length && blob.Name[id.Length] is not ('.' or '/'))) continue;
            yield return new PayloadBlob(blob.Name, id, blob.Properties.LastModified);
        }
    }

    /// <summary>Deletes a blob; false when it was gone already.</summary>
    public virtual async Task<bool> DeleteIfExistsAsync(string blobName, CancellationToken cancellationToken)
    {
        var response = await _container.GetBlobClient(blobName).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Value;
    }
}
