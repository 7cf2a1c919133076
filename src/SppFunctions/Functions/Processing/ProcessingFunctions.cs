using Microsoft.Azure.Functions.Worker;
using SppFunctions.Processing;
using SppFunctions.Storage;

namespace SppFunctions.Functions.Processing;

/// <summary>
/// Queue triggers of the processing side. A transient failure is re-scheduled by the processors (a new message with a
/// visibility delay) and the function returns normally. An exception (a crash: storage failing, a bug) lets the host
/// redeliver the message after host.json's visibilityTimeout, up to maxDequeueCount times; then the host moves it to
/// the poison queue, where the poison functions mark the event failed (replayable).
/// </summary>
public sealed class ProcessingFunctions(EventProcessor events, CommandProcessor commands, PoisonHandler poison, TimeProvider time)
{
    [Function("ProcessEvent")]
    public Task ProcessEvent(
        [QueueTrigger(StorageNames.EventsQueueName, Connection = "AzureWebJobsStorage")] string message, FunctionContext context,
        CancellationToken cancellationToken) =>
        events.ProcessAsync(message, QueueTriggerData.DequeueCount(context), cancellationToken);

    [Function("ProcessCommand")]
    public Task ProcessCommand(
        [QueueTrigger(StorageNames.CommandsQueueName, Connection = "AzureWebJobsStorage")] string message, FunctionContext context,
        CancellationToken cancellationToken) =>
        commands.ProcessAsync(message, QueueTriggerData.DequeueCount(context), QueueTriggerData.InsertionTime(context, time), cancellationToken);

    [Function("EventPoison")]
    public Task EventPoison(
        [QueueTrigger(StorageNames.EventsPoisonQueueName, Connection = "AzureWebJobsStorage")] string message, CancellationToken cancellationToken) =>
        poison.HandleEventAsync(message, cancellationToken);

    [Function("CommandPoison")]
    public Task CommandPoison(
        [QueueTrigger(StorageNames.CommandsPoisonQueueName, Connection = "AzureWebJobsStorage")] string message, FunctionContext context,
        CancellationToken cancellationToken) =>
        poison.HandleCommandAsync(message, QueueTriggerData.InsertionTime(context, time), cancellationToken);
}
