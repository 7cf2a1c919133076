using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SppFunctions.Storage;

namespace SppFunctions.Benchmarks;

/// <summary>
/// The app's services wired as Program.cs wires them (AddSppFunctions), against the benchmark Azurite with storage
/// names of its own, and the fake SPP. Logging goes nowhere (no provider), as cheap as logging can be.
/// </summary>
public sealed class BenchApp : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly string? _rulesPath;

    private BenchApp(ServiceProvider provider, StorageNames names, string? rulesPath)
    {
        _provider = provider;
        Names = names;
        _rulesPath = rulesPath;
    }

    public const string Token = "tok_bench_0123456789abcdefABCDEF";

    public StorageNames Names { get; }
    /// <summary>Storage requests (queue, table, blob; retries included) made through this app's clients.</summary>
    public StorageCounter StorageCalls { get; private init; } = new();
    public IServiceProvider Services => _provider;
    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    /// <summary>The storage the benchmark runs against: SPP_BENCH_STORAGE (scripts/bench.sh), else SPP_TEST_STORAGE.</summary>
    public static string Storage =>
        Environment.GetEnvironmentVariable("SPP_BENCH_STORAGE") is { Length: > 0 } s ? s
        : Environment.GetEnvironmentVariable("SPP_TEST_STORAGE") is { Length: > 0 } t ? t
        : throw new InvalidOperationException("Set SPP_BENCH_STORAGE (scripts/bench.sh does) to an Azurite connection string.");

    public static StorageNames NewNames(string prefix) => StorageNames.WithSuffix(prefix + Guid.NewGuid().ToString("N")[..8]);

    public static BenchApp Start(Uri sppBaseUrl, string sppApiKey, string? rules = null, StorageNames? names = null,
        TimeProvider? time = null, Dictionary<string, string?>? settings = null)
    {
        string? rulesPath = null;
        if (rules is not null)
        {
            rulesPath = Path.Combine(Path.GetTempPath(), $"sppfn-bench-rules-{Guid.NewGuid():N}.json");
            File.WriteAllText(rulesPath, rules);
        }
        var values = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = Storage,
            ["Spp:BaseUrl"] = sppBaseUrl.ToString(),
            ["Spp:ApiKey"] = sppApiKey,
            ["Spp:WebhookTokens:0"] = Token,
            ["Spp:CircuitBreaker:MinimumThroughput"] = "100000",
            ["Polling:Schedule"] = SppFunctions.Polling.PollingOptions.DefaultSchedule,
            ["Housekeeping:Schedule"] = SppFunctions.Housekeeping.HousekeepingOptions.DefaultSchedule,
        };
        if (rulesPath is not null) values["Rules:Path"] = rulesPath;
        foreach (var (k, v) in settings ?? new()) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

        names ??= NewNames("b");
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Information));
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(names);
        if (time is not null) services.AddSingleton(time);
        services.AddSppFunctions(configuration);
        var counter = new StorageCounter();
        services.AddAzureClients(clients => clients.ConfigureDefaults(o => o.AddPolicy(counter, HttpPipelinePosition.PerRetry)));
        return new BenchApp(services.BuildServiceProvider(), names, rulesPath) { StorageCalls = counter };
    }

    /// <summary>A row of about the size of the app's event row or action record (12 short string properties).</summary>
    public static TableEntity SizedRow(string partition)
    {
        var row = new TableEntity(partition, Guid.NewGuid().ToString("N"));
        for (var i = 0; i < 12; i++) row[$"Property{i}"] = $"value {i} of about the length of the app's fields";
        return row;
    }

    public QueueClient Queue(string name) => Get<QueueServiceClient>().GetQueueClient(name);
    public TableClient Table(string name) => Get<TableServiceClient>().GetTableClient(name);

    /// <summary>Deletes this app's queues, tables and container so a long run does not fill Azurite.</summary>
    public async Task DeleteStorageAsync()
    {
        var queues = Get<QueueServiceClient>();
        var tables = Get<TableServiceClient>();
        foreach (var q in new[] { Names.EventsQueue, Names.EventsPoisonQueue, Names.CommandsQueue, Names.CommandsPoisonQueue })
        {
            try { await queues.GetQueueClient(q).DeleteIfExistsAsync(); } catch (Azure.RequestFailedException) { }
        }
        foreach (var t in new[] { Names.EventsTable, Names.DedupeTable, Names.ActionsTable, Names.WatchTable, Names.PollRunsTable })
        {
            try { await tables.DeleteTableAsync(t); } catch (Azure.RequestFailedException) { }
        }
        try
        {
            await Get<BlobServiceClient>().GetBlobContainerClient(Names.PayloadContainer).DeleteIfExistsAsync();
        }
        catch (Azure.RequestFailedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        if (_rulesPath is not null) File.Delete(_rulesPath);
    }
}

/// <summary>Counts the storage requests that go out (a pipeline policy on every queue, table and blob client), and times them by kind.</summary>
public sealed class StorageCounter : HttpPipelinePolicy
{
    private long _count;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Samples> _byKind = new();
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Collect latencies per kind of request (method, resource, status) from now on, forgetting earlier ones.</summary>
    public void ResetKinds()
    {
        _byKind.Clear();
        _recordKinds = true;
    }

    /// <summary>Stop collecting latencies per kind (they grow with every request: never on in the memory benchmark).</summary>
    public void StopKinds() => _recordKinds = false;

    private volatile bool _recordKinds;

    public IReadOnlyDictionary<string, Samples> ByKind => _byKind;

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Interlocked.Increment(ref _count);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        ProcessNext(message, pipeline);
        Record(message, started);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Interlocked.Increment(ref _count);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        Record(message, started);
    }

    private void Record(HttpMessage message, long started)
    {
        if (!_recordKinds) return;
        var ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var path = message.Request.Uri.Path;
        // /account/Table(PartitionKey='..',RowKey='..') → Table; /account/queue/messages/id → queue/messages
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        var resource = parts.Length == 0
            ? "/"
            : parts[0].Split('(')[0].TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', '-');
        if (parts.Length > 1 && parts[1] == "messages") resource += "/messages";
        var kind = $"{message.Request.Method} {resource} {(message.HasResponse ? message.Response.Status : 0)}";
        _byKind.GetOrAdd(kind, _ => new Samples()).Add(ms);
    }
}
