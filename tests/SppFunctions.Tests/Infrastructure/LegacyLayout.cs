using System.Text.Json.Nodes;
using Azure.Data.Tables;
using SppFunctions.Events;
using SppFunctions.Storage;

namespace SppFunctions.Tests.Infrastructure;

/// <summary>
/// Writes storage as the version before the event row became the dedupe record wrote it: the event's row inserted as
/// "received" before its message (no QueuedMessage), the message carrying that row's ETag (format 1), and a record in
/// SppDedupe (partition = the id's last two characters, an expiry and the writer) once the message was queued.
/// </summary>
public static class LegacyLayout
{
    public static async Task AddDedupeRecordAsync(AppHarness app, string id, DateTimeOffset expiresAt)
    {
        var table = app.Get<TableServiceClient>().GetTableClient(app.Names.DedupeTable);
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity(DedupeStore.Partition(id), id) { ["ExpiresAt"] = expiresAt,
            ["Owner"] = Guid.NewGuid().ToString("N") });
    }

    /// <summary>The old publisher's first write: the "received" row; returns the message it would then have queued.</summary>
    public static async Task<EventMessage> AddReceivedRowAsync(AppHarness app, string eventName, JsonObject envelope, DateTimeOffset receivedAt)
    {
        var created = envelope["created"]!.GetValue<long>();
        var payload = (JsonObject)envelope.DeepClone();
        payload.Remove("token");
        var bytes = System.Text.Encoding.UTF8.GetBytes(payload.ToJsonString());
        var dataId = payload["data"]?["id"]?.ToString();
        var message = new EventMessage
        {
            Id = EventIds.Create(eventName, dataId, created, bytes), Event = eventName, Topic = SppEventTopics.Classify(eventName),
            Created = created, Source = EventSources.Webhook, ReceivedAt = receivedAt, Size = bytes.Length, Payload = payload, DataId = dataId,
        };
        var table = app.Get<TableServiceClient>().GetTableClient(app.Names.EventsTable);
        await table.CreateIfNotExistsAsync();
        var row = new TableEntity(EventIds.Partition(message.Id), message.Id)
        {
            ["EventName"] = message.Event, ["Topic"] = message.Topic, ["Source"] = message.Source, ["Status"] = EventStatus.Received,
            ["ReceivedAt"] = receivedAt, ["CreatedAt"] = DateTimeOffset.FromUnixTimeSeconds(created), ["DataId"] = dataId,
            ["Size"] = (long)bytes.Length, ["Attempts"] = 0, ["Replays"] = 0, ["UpdatedAt"] = receivedAt,
        };
        var response = await table.AddEntityAsync(row);
        message.LogETag = response.Headers.ETag.ToString();
        return message;
    }

    /// <summary>The old publisher's second write: the message, with the row's ETag, format 1.</summary>
    public static async Task SendAsync(AppHarness app, EventMessage message)
    {
        var queue = app.Queue(app.Names.EventsQueue);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync(message.ToBinaryData());
    }

    /// <summary>An old-layout action record (table SppActions, partition = event id), as the old processor wrote it.</summary>
    public static async Task AddSucceededActionAsync(AppHarness app, string eventId, string key, string result)
    {
        var table = app.Get<TableServiceClient>().GetTableClient(app.Names.ActionsTable);
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity(eventId, key)
        {
            ["Type"] = "create_order_message", ["Status"] = "succeeded", ["Attempts"] = 1, ["Generation"] = 0, ["MayHaveActed"] = false,
            ["Result"] = result, ["CompletedAt"] = DateTimeOffset.UtcNow,
        });
    }

    /// <summary>An old-layout claim: an instance of the old version is running the action (its lease still runs).</summary>
    public static async Task AddClaimedActionAsync(AppHarness app, string eventId, string key, DateTimeOffset leaseUntil)
    {
        var table = app.Get<TableServiceClient>().GetTableClient(app.Names.ActionsTable);
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity(eventId, key)
        {
            ["Type"] = "create_order_message", ["Status"] = "pending", ["Attempts"] = 1, ["Generation"] = 0, ["MayHaveActed"] = true,
            ["Owner"] = "old-instance", ["LeaseUntil"] = leaseUntil, ["StartedAt"] = DateTimeOffset.UtcNow,
        });
    }

    /// <summary>
    /// The message of the version just before action records moved into the events' partitions (format 2, its row
    /// inserted after the send in the event's own partition): the current publisher's message, with that version.
    /// </summary>
    public static async Task<string> DowngradeQueuedMessageAsync(AppHarness app)
    {
        var queue = app.Queue(app.Names.EventsQueue);
        var queued = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        await queue.DeleteMessageAsync(queued.MessageId, queued.PopReceipt);
        var message = EventMessage.Parse(queued.Body.ToString());
        message.V = EventMessage.RowAfterSend;
        return message.ToBinaryData().ToString();
    }
}
