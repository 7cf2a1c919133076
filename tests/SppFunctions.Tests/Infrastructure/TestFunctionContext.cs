using Microsoft.Azure.Functions.Worker;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>A FunctionContext carrying the queue trigger metadata the host would pass.</summary>
public sealed class TestFunctionContext : FunctionContext
{
    private sealed class Binding(IReadOnlyDictionary<string, object?> data) : BindingContext
    {
        public override IReadOnlyDictionary<string, object?> BindingData { get; } = data;
    }

    public TestFunctionContext(IServiceProvider services, long dequeueCount = 1, DateTimeOffset? insertionTime = null)
    {
        InstanceServices = services;
        BindingContext = new Binding(new Dictionary<string, object?>
        {
            ["DequeueCount"] = dequeueCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["InsertionTime"] = (insertionTime ?? DateTimeOffset.UtcNow).ToString("O"),
        });
    }

    public override string InvocationId { get; } = Guid.NewGuid().ToString();
    public override string FunctionId { get; } = "test";
    public override TraceContext TraceContext => null!;
    public override BindingContext BindingContext { get; }
    public override RetryContext RetryContext => null!;
    public override IServiceProvider InstanceServices { get; set; }
    public override FunctionDefinition FunctionDefinition => null!;
    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
    public override IInvocationFeatures Features => null!;
}
