using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using SppFunctions.FakeSpp;
using SppFunctions.Storage;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>
/// The app's services wired as Program.cs wires them (AddSppFunctions), against the test Azurite with storage names of
/// its own and a fake SPP server; logs captured at Trace level. Function classes are created from its services.
/// </summary>
public sealed class AppHarness : IAsyncDisposable
{
    public const string Token = "tok_primary_0123456789abcdefABCDEF";
    public const string SecondToken = "tok_secondary_9876543210zyxwvuZYXW";

    private readonly ServiceProvider _provider;
    private bool _ownsSpp = true;

    private AppHarness(ServiceProvider provider, FakeSppServer spp, StorageNames names, FakeTimeProvider? time)
    {
        _provider = provider;
        Spp = spp;
        Names = names;
        Time = time;
    }

    public IServiceProvider Services => _provider;
    public FakeSppServer Spp { get; }
    public StorageNames Names { get; }
    public FakeTimeProvider? Time { get; }
    public FakeLogCollector Logs => _provider.GetFakeLogCollector();

    public static FakeTimeProvider NewFakeTime() => new(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero));

    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    public QueueDriver Driver() => new(this);

    /// <summary>Puts an event straight on the events queue (as intake or the poller would) and returns its message.</summary>
    public async Task<SppFunctions.Events.EventMessage> EnqueueEventAsync(
        string eventName, System.Text.Json.Nodes.JsonObject data, long created = 1764403200, string? id = null)
    {
        var payload = new System.Text.Json.Nodes.JsonObject { ["event"] = eventName, ["created"] = created, ["data"] = data.DeepClone() };
        var message = new SppFunctions.Events.EventMessage
        {
            V = SppFunctions.Events.EventMessage.Current,
            Id = id ?? SppFunctions.Events.EventIds.Create(eventName, data["id"]?.ToString(), created, Guid.NewGuid().ToString()),
            Event = eventName, Topic = SppFunctions.Events.SppEventTopics.Classify(eventName), Created = created,
            ReceivedAt = DateTimeOffset.UtcNow, Source = SppFunctions.Events.EventSources.Webhook, Payload = payload,
        };
        var queue = Queue(Names.EventsQueue);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync(message.ToBinaryData());
        return message;
    }

    /// <summary>Puts a command on the commands queue.</summary>
    public async Task SendCommandAsync(string json)
    {
        var queue = Queue(Names.CommandsQueue);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync(BinaryData.FromString(json));
    }

    /// <summary>The event-log row of an event.</summary>
    public Task<SppFunctions.Storage.EventEntry?> EventRowAsync(string id) =>
        Get<SppFunctions.Storage.EventStore>().GetAsync(id, CancellationToken.None);

    /// <summary>A function class, built from the app's services as the Functions host would.</summary>
    public T Function<T>() => ActivatorUtilities.CreateInstance<T>(_provider);

    public static async Task<AppHarness> StartAsync(
        Dictionary<string, string?>? settings = null,
        string? storage = null,
        bool fakeTime = false,
        Action<IServiceCollection>? services = null,
        FakeSppServer? spp = null,
        string? rules = null,
        FakeTimeProvider? time = null,
        StorageNames? names = null,
        bool ownsSpp = true)
    {
        spp ??= await FakeSppServer.StartAsync();
        string? rulesPath = null;
        if (rules is not null)
        {
            rulesPath = Path.Combine(Path.GetTempPath(), $"sppfn-rules-{Guid.NewGuid():N}.json");
            await File.WriteAllTextAsync(rulesPath, rules);
        }
        var values = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = storage ?? TestStorage.ConnectionString,
            ["Spp:BaseUrl"] = spp.BaseUrl.ToString(),
            ["Spp:ApiKey"] = spp.ApiKey,
            ["Spp:Retry:BaseDelay"] = "00:00:00.010",
            ["Spp:Retry:MaxDelay"] = "00:00:00.050",
            ["Spp:WebhookTokens:0"] = Token,
            ["Spp:WebhookTokens:1"] = SecondToken,
            ["Processing:ActionLease"] = "00:01:00",
            // Required (the timers read them), as local.settings.sample.json and infra set them.
            ["Polling:Schedule"] = SppFunctions.Polling.PollingOptions.DefaultSchedule,
            ["Housekeeping:Schedule"] = SppFunctions.Housekeeping.HousekeepingOptions.DefaultSchedule,
            // Tests inject long runs of failures; keep the breaker out of them unless a test turns it on.
            ["Spp:CircuitBreaker:MinimumThroughput"] = "100000",
        };
        if (rulesPath is not null) values["Rules:Path"] = rulesPath;
        foreach (var (k, v) in settings ?? new()) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

        names ??= StorageNames.WithSuffix("t" + Guid.NewGuid().ToString("N")[..10]);
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Trace));
        collection.AddSingleton<IConfiguration>(configuration);
        collection.AddSingleton(names);
        if (fakeTime) time ??= NewFakeTime();
        if (time is not null) collection.AddSingleton<TimeProvider>(time);
        collection.AddSppFunctions(configuration);
        // Remembers re-scheduled messages, so the queue drivers can make them visible when (fake) time says so.
        collection.AddSingleton<SppFunctions.Queueing.RetryScheduler, RecordingRetryScheduler>();
        services?.Invoke(collection);
        return new AppHarness(collection.BuildServiceProvider(validateScopes: true), spp, names, time) { _ownsSpp = ownsSpp };
    }

    // ---- storage inspection ----

    public QueueClient Queue(string name) => Get<QueueServiceClient>().GetQueueClient(name);

    /// <summary>Every message on a queue (peeked, not consumed); empty when the queue does not exist.</summary>
    public async Task<IReadOnlyList<PeekedMessage>> PeekAllAsync(string queue)
    {
        try
        {
            var peeked = await Queue(queue).PeekMessagesAsync(32);
            return peeked.Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return Array.Empty<PeekedMessage>();
        }
    }

    /// <summary>The events' own rows of the events table (not the action records kept in the events' partitions).</summary>
    public async Task<IReadOnlyList<TableEntity>> EventRowsAsync() =>
        (await RowsAsync(Names.EventsTable)).Where(r => !IsActionRow(r)).ToList();

    /// <summary>Action records of events and commands, in either table (not the own-message entries).</summary>
    public async Task<IReadOnlyList<TableEntity>> ActionRecordRowsAsync() =>
        (await RowsAsync(Names.EventsTable)).Where(IsActionRow)
            .Concat((await RowsAsync(Names.ActionsTable)).Where(r => !r.PartitionKey.StartsWith("own-", StringComparison.Ordinal))).ToList();

    private static bool IsActionRow(TableEntity row) =>
        row.RowKey.StartsWith(SppFunctions.Storage.EventStore.ActionRowPrefix, StringComparison.Ordinal);

    /// <summary>Rows of a table; empty when it does not exist.</summary>
    public async Task<IReadOnlyList<TableEntity>> RowsAsync(string table)
    {
        var rows = new List<TableEntity>();
        try
        {
            await foreach (var row in Get<TableServiceClient>().GetTableClient(table).QueryAsync<TableEntity>()) rows.Add(row);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
        return rows;
    }

    /// <summary>Blob names in a container; empty when it does not exist.</summary>
    public async Task<IReadOnlyList<string>> BlobsAsync(string container)
    {
        var names = new List<string>();
        try
        {
            await foreach (var blob in Get<BlobServiceClient>().GetBlobContainerClient(container).GetBlobsAsync()) names.Add(blob.Name);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
        return names;
    }

    /// <summary>Asserts that intake stored nothing at all: no queue message, no table row, no blob.</summary>
    public async Task AssertNothingStoredAsync(string because)
    {
        Assert.True((await PeekAllAsync(Names.EventsQueue)).Count == 0, $"events queue not empty: {because}");
        Assert.True((await RowsAsync(Names.EventsTable)).Count == 0, $"event log not empty: {because}");
        Assert.True((await RowsAsync(Names.DedupeTable)).Count == 0, $"dedupe table not empty: {because}");
        Assert.True((await BlobsAsync(Names.PayloadContainer)).Count == 0, $"payload blobs not empty: {because}");
    }

    /// <summary>Every captured log line with its exception, for secret checks.</summary>
    public string AllLogText() =>
        string.Join('\n', Logs.GetSnapshot().Select(r => $"{r.Level} {r.Category} {r.Message} {r.Exception}"));

    // ---- HTTP requests for function classes ----

    /// <summary>An HttpRequest as the Functions ASP.NET Core integration would pass it.</summary>
    public HttpRequest Request(string method, string? body, string? contentType = "application/json", long? contentLength = -1, Stream? stream = null)
    {
        var context = new DefaultHttpContext { RequestServices = _provider };
        context.Request.Method = method;
        var bytes = body is null ? Array.Empty<byte>() : Encoding.UTF8.GetBytes(body);
        context.Request.Body = stream ?? new MemoryStream(bytes);
        if (contentType is not null) context.Request.ContentType = contentType;
        context.Request.ContentLength = contentLength == -1 ? (stream is null ? bytes.Length : null) : contentLength;
        context.Response.Body = new MemoryStream();
        return context.Request;
    }

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        if (_ownsSpp) await Spp.DisposeAsync();
    }
}
