using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>
/// Records every storage request the app's Azure clients send (add it with <c>AddAzureClients(c =&gt; c.ConfigureDefaults(o =&gt;
/// o.AddPolicy(log, HttpPipelinePosition.PerRetry)))</c>): method, resource (table, queue or <c>$batch</c>) and status, once answered.
/// </summary>
public sealed class StorageRequestLog : HttpPipelinePolicy
{
    private readonly ConcurrentQueue<string> _requests = new();

    /// <summary>The requests recorded since the last call, e.g. <c>POST $batch 202</c>.</summary>
    public List<string> Take()
    {
        var list = new List<string>();
        while (_requests.TryDequeue(out var r)) list.Add(r);
        return list;
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Record(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        Record(message);
    }

    private void Record(HttpMessage message)
    {
        var resource = message.Request.Uri.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).FirstOrDefault()?.Split('(')[0];
        _requests.Enqueue($"{message.Request.Method} {resource} {(message.HasResponse ? message.Response.Status : 0)}");
    }
}
