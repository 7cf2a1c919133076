using Azure;
using Azure.Data.Tables;

namespace SppFunctions.Storage;

/// <summary>
/// Base of the app's table stores: one table, created on first use (never in a constructor), and the two
/// concurrency-safe writes every store needs — insert-if-absent and replace-if-unchanged (ETag).
/// </summary>
public abstract class TableStore
{
    private readonly CreateOnce _create;

    /// <summary>For mocking.</summary>
    protected TableStore()
    {
        Table = null!;
        _create = null!;
    }

    protected TableStore(TableServiceClient tables, string tableName)
    {
        Table = tables.GetTableClient(tableName);
        _create = new CreateOnce(ct => Table.CreateIfNotExistsAsync(ct));
    }

    public TableClient Table { get; }

    /// <summary>Creates the table the first time the process needs it (again after a failure).</summary>
    protected Task EnsureTableAsync(CancellationToken cancellationToken) => _create.EnsureAsync(cancellationToken);

    /// <summary>Inserts the entity; false when a row with its keys exists (409). Sets the new ETag.</summary>
    protected async Task<bool> TryInsertAsync<T>(T entity, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var response = await Table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Replaces the entity if it is unchanged since read (its ETag); false when another writer changed or removed it.</summary>
    protected async Task<bool> TryReplaceAsync<T>(T entity, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        try
        {
            var response = await Table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }
}
