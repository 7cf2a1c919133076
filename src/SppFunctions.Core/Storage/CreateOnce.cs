namespace SppFunctions.Storage;

/// <summary>
/// Runs a call once per process on first use (never in a constructor) and shares its result, running it again after a
/// failure or cancellation: resource creation, and the once-per-process look for rows of an earlier layout.
/// </summary>
internal sealed class Once<T>
{
    private readonly Func<CancellationToken, Task<T>> _run;
    private readonly object _gate = new();
    private Task<T>? _task;

    public Once(Func<CancellationToken, Task<T>> run) => _run = run;

    /// <summary>Waits for the one shared run; a caller's cancellation stops its own wait, never the run others share.</summary>
    public Task<T> GetAsync(CancellationToken cancellationToken)
    {
        Task<T> task;
        lock (_gate)
        {
            if (_task is null || _task.IsFaulted || _task.IsCanceled) _task = _run(CancellationToken.None);
            task = _task;
        }
        return task.IsCompletedSuccessfully ? task : task.WaitAsync(cancellationToken);
    }
}

/// <summary>
/// Runs a create-if-not-exists call once per process on first use, and again after a failure. In Azure the template has
/// created the resources already; locally on Azurite this creates them.
/// </summary>
internal sealed class CreateOnce(Func<CancellationToken, Task> create)
{
    private readonly Once<bool> _once = new(async cancellationToken =>
    {
        await create(cancellationToken).ConfigureAwait(false);
        return true;
    });

    public Task EnsureAsync(CancellationToken cancellationToken) => _once.GetAsync(cancellationToken);
}
