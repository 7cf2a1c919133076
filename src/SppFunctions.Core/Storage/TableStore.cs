using Azure;
using Azure.Data.Tables;

namespace SppFunctions.Storage;

/// <summary>
/// Base of the app's table stores: one table, created on first use (never in a constructor), and the
/// concurrency-safe writes every store needs — insert-if-absent, replace-if-unchanged (ETag), and batched deletes.
/// </summary>
public abstract class TableStore
{
    /// <summary>Most operations in one entity-group transaction (all in one partition).</summary>
    public const int MaxTransactionSize = 100;

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
        return await TryInsertAsync(Table, entity, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>As <see cref="TryInsertAsync{T}(T, CancellationToken)"/>, in another table of the store (that exists).</summary>
    protected static async Task<bool> TryInsertAsync<T>(TableClient table, T entity, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        try
        {
            var response = await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Replaces the entity if it is unchanged since read (its ETag); false when another writer changed or removed it.</summary>
    protected Task<bool> TryReplaceAsync<T>(T entity, CancellationToken cancellationToken) where T : class, ITableEntity =>
        TryReplaceAsync(Table, entity, cancellationToken);

    /// <summary>As <see cref="TryReplaceAsync{T}(T, CancellationToken)"/>, in another table of the store.</summary>
    protected static async Task<bool> TryReplaceAsync<T>(TableClient table, T entity, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        try
        {
            var response = await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>
    /// Deletes rows in entity-group transactions of up to <see cref="MaxTransactionSize"/> rows of one partition, each
    /// row only if unchanged since it was read (its ETag; a row without one is deleted whatever it holds). A transaction
    /// that fails because one of its rows changed or is gone is redone row by row, so the others still go. Returns
    /// the rows deleted (not those changed or gone meanwhile).
    /// </summary>
    protected Task<IReadOnlyList<T>> DeleteRowsAsync<T>(IEnumerable<T> rows, CancellationToken cancellationToken) where T : class, ITableEntity =>
        DeleteRowsAsync(Table, rows, cancellationToken);

    /// <summary>As <see cref="DeleteRowsAsync{T}(IEnumerable{T}, CancellationToken)"/>, in another table of the store.</summary>
    protected static async Task<IReadOnlyList<T>> DeleteRowsAsync<T>(TableClient table, IEnumerable<T> rows, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        var deleted = new List<T>();
        foreach (var partition in rows.GroupBy(r => r.PartitionKey, StringComparer.Ordinal))
        {
            foreach (var chunk in partition.Chunk(MaxTransactionSize))
            {
                if (chunk.Length > 1)
                {
                    try
                    {
                        var actions = chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, IfMatch(r)));
                        await table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
                        deleted.AddRange(chunk);
                        continue;
                    }
                    catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                    {
                        // One row changed or went away since it was read: the transaction did nothing; go row by row.
                    }
                }
                foreach (var row in chunk)
                {
                    try
                    {
                        var response = await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, IfMatch(row), cancellationToken)
                            .ConfigureAwait(false);
                        if (response.Status != 404) deleted.Add(row);
                    }
                    catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                    {
                        // Gone already, or changed since read: it stays.
                    }
                }
            }
        }
        return deleted;
    }

    /// <summary>
    /// Deletes the rows a query yields, up to <paramref name="maxRows"/>, as <see cref="DeleteRowsAsync{T}"/> does (a
    /// query returns rows in key order, so each transaction takes many rows of one partition). Returns how many went.
    /// </summary>
    protected async Task<int> DeleteQueriedAsync<T>(IAsyncEnumerable<T> rows, int maxRows, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        const int Chunk = 1000;
        var deleted = 0;
        var seen = 0;
        var pending = new List<T>();
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (seen >= maxRows) break;
            seen++;
            pending.Add(row);
            if (pending.Count < Chunk) continue;
            deleted += (await DeleteRowsAsync(pending, cancellationToken).ConfigureAwait(false)).Count;
            pending.Clear();
        }
        if (pending.Count > 0) deleted += (await DeleteRowsAsync(pending, cancellationToken).ConfigureAwait(false)).Count;
        return deleted;
    }

    private static ETag IfMatch(ITableEntity row) => row.ETag == default ? ETag.All : row.ETag;
}
