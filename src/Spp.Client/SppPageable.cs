using System.Runtime.CompilerServices;

namespace Spp.Client;

/// <summary>One page of a paginated SPP list (Laravel's <c>data</c>/<c>links</c>/<c>meta</c> envelope).</summary>
public sealed class SppPage<T>
{
    public SppPage(IReadOnlyList<T> items, int currentPage, int? lastPage, int? perPage, int? total, bool hasNext)
    {
        Items = items;
        CurrentPage = currentPage;
        LastPage = lastPage;
        PerPage = perPage;
        Total = total;
        HasNext = hasNext;
    }

    public IReadOnlyList<T> Items { get; }
    public int CurrentPage { get; }
    public int? LastPage { get; }
    public int? PerPage { get; }
    public int? Total { get; }
    /// <summary>Whether another page follows (<c>links.next</c> set and <c>current_page &lt; last_page</c>).</summary>
    public bool HasNext { get; }
}

/// <summary>
/// A list that fetches pages on demand, like Azure's <c>AsyncPageable&lt;T&gt;</c>. Enumerate items with
/// <c>await foreach</c>; stop enumerating and no further page is requested. <see cref="AsPages"/> yields whole pages.
/// </summary>
public class SppPageable<T> : IAsyncEnumerable<T>
{
    private readonly Func<int, CancellationToken, Task<SppPage<T>>>? _fetchPage;
    private readonly int _firstPage;
    private readonly int? _limit;
    private readonly CancellationToken _cancellationToken;

    /// <summary>For mocking.</summary>
    protected SppPageable() { }

    /// <param name="fetchPage">Fetches page N (1-based).</param>
    /// <param name="firstPage">Page to start from.</param>
    /// <param name="limit">Most items to yield in all; null for every item.</param>
    /// <param name="cancellationToken">Token for every page request.</param>
    public SppPageable(
        Func<int, CancellationToken, Task<SppPage<T>>> fetchPage, int firstPage = 1, int? limit = null, CancellationToken cancellationToken = default)
    {
        _fetchPage = fetchPage;
        _firstPage = Math.Max(1, firstPage);
        _limit = limit;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The pages, one request each, until the last page (or the item limit) is reached.</summary>
    public virtual async IAsyncEnumerable<SppPage<T>> AsPages([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_fetchPage is null) yield break;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken, cancellationToken);
        var remaining = _limit ?? int.MaxValue;
        var pageNumber = _firstPage;
        while (remaining > 0)
        {
            var page = await _fetchPage(pageNumber, linked.Token).ConfigureAwait(false);
            if (page.Items.Count > remaining)
            {
                page = new SppPage<T>(page.Items.Take(remaining).ToList(), page.CurrentPage, page.LastPage, page.PerPage, page.Total, hasNext: false);
            }
            remaining -= page.Items.Count;
            yield return page;
            // Defensive stop rules: an empty page, no next link, or a server that does not advance.
            if (!page.HasNext || page.Items.Count == 0 || page.CurrentPage < pageNumber) yield break;
            pageNumber = page.CurrentPage + 1;
        }
    }

    public virtual async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        await foreach (var page in AsPages(cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in page.Items) yield return item;
        }
    }
}
