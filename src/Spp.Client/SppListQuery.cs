using System.Globalization;

namespace Spp.Client;

/// <summary>Comparison operators of SPP list filters (<c>filters[field][$op]</c>).</summary>
public enum SppFilterOperator
{
    /// <summary><c>$eq</c></summary>
    Equal,
    /// <summary><c>$lt</c></summary>
    LessThan,
    /// <summary><c>$gt</c></summary>
    GreaterThan,
    /// <summary><c>$in</c> (several values)</summary>
    In,
}

/// <summary>One filter of a list query.</summary>
public sealed record SppFilter(string Field, SppFilterOperator Operator, IReadOnlyList<string> Values);

/// <summary>
/// Paging, sorting and filtering of an SPP list call: <c>limit</c>, <c>page</c>, <c>sort=field:dir</c>,
/// <c>filters[field][$eq|$lt|$gt|$in][]</c>.
/// </summary>
public sealed class SppListQuery
{
    private readonly List<SppFilter> _filters = new();

    /// <summary>Items per request (SPP's <c>limit</c>; SPP defaults to 20, keep it at 100 or less).</summary>
    public int? PageSize { get; set; }

    /// <summary>Page to start from (1-based).</summary>
    public int FirstPage { get; set; } = 1;

    /// <summary>Most items to return across all pages; null for all.</summary>
    public int? Limit { get; set; }

    /// <summary>Sort as <c>field:asc</c> or <c>field:desc</c>; SPP defaults to newest first.</summary>
    public string? Sort { get; set; }

    public IReadOnlyList<SppFilter> Filters => _filters;

    /// <summary>Adds <c>filters[field][$op]=value</c>.</summary>
    public SppListQuery Where(string field, SppFilterOperator op, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        _filters.Add(new SppFilter(field, op, new[] { value }));
        return this;
    }

    /// <summary>Adds <c>filters[field][$gt]=date</c>, the date written as SPP writes it.</summary>
    public SppListQuery WhereAfter(string field, DateTimeOffset value) =>
        Where(field, SppFilterOperator.GreaterThan, value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));

    /// <summary>Adds <c>filters[field][$in][]=v1&amp;filters[field][$in][]=v2...</c>.</summary>
    public SppListQuery WhereIn(string field, IEnumerable<string> values)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        _filters.Add(new SppFilter(field, SppFilterOperator.In, values.ToList()));
        return this;
    }

    /// <summary>Sets <c>sort=field:asc|desc</c>.</summary>
    public SppListQuery OrderBy(string field, bool descending = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(field);
        Sort = $"{field}:{(descending ? "desc" : "asc")}";
        return this;
    }

    internal IEnumerable<KeyValuePair<string, string>> ToQueryParameters(int page)
    {
        if (PageSize is { } size) yield return new("limit", size.ToString(CultureInfo.InvariantCulture));
        yield return new("page", page.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrWhiteSpace(Sort)) yield return new("sort", Sort);
        foreach (var filter in _filters)
        {
            var op = filter.Operator switch
            {
                SppFilterOperator.Equal => "$eq",
                SppFilterOperator.LessThan => "$lt",
                SppFilterOperator.GreaterThan => "$gt",
                _ => "$in",
            };
            if (filter.Operator == SppFilterOperator.In)
            {
                foreach (var v in filter.Values) yield return new($"filters[{filter.Field}][{op}][]", v);
            }
            else
            {
                yield return new($"filters[{filter.Field}][{op}]", filter.Values[0]);
            }
        }
    }
}
