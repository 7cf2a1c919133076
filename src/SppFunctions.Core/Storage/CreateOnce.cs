namespace SppFunctions.Storage;

/// <summary>
/// Runs a create-if-not-exists call once per process on first use (never in a constructor), and again after a failure.
/// In Azure the template has created the resources already; locally on Azurite this creates them.
/// </summary>
internal sealed class CreateOnce
{
    private readonly Func<CancellationToken, Task> _create;
    private readonly object _gate = new();
    private Task? _task;

    public CreateOnce(Func<CancellationToken, Task> create) => _create = create;

    /// <summary>Waits for the one shared creation; a caller's cancellation stops its own wait, never the creation others share.</summary>
    public Task EnsureAsync(CancellationToken cancellationToken)
    {
        Task task;
        lock (_gate)
        {
            if (_task is null || _task.IsFaulted || _task.IsCanceled) _task = _create(CancellationToken.None);
            task = _task;
        }
        return task.IsCompletedSuccessfully ? Task.CompletedTask : task.WaitAsync(cancellationToken);
    }
}
