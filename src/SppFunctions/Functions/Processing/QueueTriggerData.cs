using System.Globalization;
using Microsoft.Azure.Functions.Worker;

namespace SppFunctions.Functions.Processing;

/// <summary>Reads the queue trigger's metadata (DequeueCount, InsertionTime) from the binding data.</summary>
public static class QueueTriggerData
{
    public static long DequeueCount(FunctionContext context) =>
        context.BindingContext.BindingData.TryGetValue("DequeueCount", out var value)
        && long.TryParse(value?.ToString()?.Trim('"'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) ? count : 1;

    public static DateTimeOffset InsertionTime(FunctionContext context, TimeProvider time) =>
        context.BindingContext.BindingData.TryGetValue("InsertionTime", out var value)
        && DateTimeOffset.TryParse(value?.ToString()?.Trim('"'), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : time.GetUtcNow();
}
