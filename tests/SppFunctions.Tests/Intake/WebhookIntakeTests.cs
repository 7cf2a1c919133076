using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.Events;
using SppFunctions.Queueing;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using static SppFunctions.Tests.Intake.WebhookTestKit;

namespace SppFunctions.Tests.Intake;

/// <summary>Accepted webhooks: queued durably (Base64, claim-check for large ones), logged, deduplicated, token-free.</summary>
public class WebhookIntakeTests
{
    public static IEnumerable<object[]> CatalogueEvents() => EventCatalog.All.Select(e => new object[] { e.Name, e.Topic });

    [Theory]
    [MemberData(nameof(CatalogueEvents))]
    public async Task Every_catalogue_event_is_accepted_on_the_general_route_and_on_its_topic_route(string eventName, string topic)
    {
        await using var app = await AppHarness.StartAsync();

        var general = await PostAsync(app, Envelope(eventName));
        var routed = await PostAsync(app, Envelope(eventName, created: Created + 1), topic);

        Assert.Equal(202, general.Status);
        Assert.Equal(202, routed.Status);
        var ids = new[] { general.Body["id"]!.GetValue<string>(), routed.Body["id"]!.GetValue<string>() };
        Assert.All(ids, id => Assert.True(EventIds.IsValid(id), id));
        var messages = (await app.PeekAllAsync(app.Names.EventsQueue)).Select(m => EventMessage.Parse(m.Body.ToString())).ToList();
        Assert.Equal(ids, messages.Select(m => m.Id));
        Assert.All(messages, m =>
        {
            Assert.Equal(eventName, m.Event);
            Assert.Equal(topic, m.Topic);
            Assert.Equal(EventSources.Webhook, m.Source);
        });
        var rows = await app.RowsAsync(app.Names.EventsTable);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(EventStatus.Received, r.GetString("Status")));
    }

    [Fact]
    public async Task Unknown_event_names_are_accepted_under_the_other_topic()
    {
        await using var app = await AppHarness.StartAsync();
        var answer = await PostAsync(app, Envelope("widget.spun", new JsonObject { ["id"] = 9 }));
        Assert.Equal(202, answer.Status);
        var message = EventMessage.Parse((await app.PeekAllAsync(app.Names.EventsQueue)).Single().Body.ToString());
        Assert.Equal(SppEventTopics.Other, message.Topic);
        Assert.Equal("other", (await app.RowsAsync(app.Names.EventsTable)).Single().GetString("Topic"));
    }

    [Fact]
    public async Task Queue_messages_are_base64_as_the_queue_trigger_expects_and_carry_the_token_free_payload()
    {
        await using var app = await AppHarness.StartAsync();
        var envelope = Envelope("order.created");
        var answer = await PostAsync(app, envelope);

        // Read the raw message with a client that does NOT decode, as the host sees it.
        var raw = new Azure.Storage.Queues.QueueClient(TestStorage.ConnectionString, app.Names.EventsQueue);
        var peeked = (await raw.PeekMessagesAsync(1)).Value.Single();
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(peeked.Body.ToString()));
        var message = EventMessage.Parse(decoded);

        Assert.Equal(answer.Body["id"]!.GetValue<string>(), message.Id);
        Assert.DoesNotContain(AppHarness.Token, decoded);
        Assert.False(message.Payload!.ContainsKey("token"));
        Assert.Equal("order.created", message.Payload["event"]!.GetValue<string>());
        Assert.Equal(Created, message.Payload["created"]!.GetValue<long>());
        Assert.Equal("666AF315", message.Payload["data"]!["id"]!.GetValue<string>());
        Assert.Equal(Created, message.Created);
    }

    [Fact]
    public async Task The_event_log_row_has_id_name_topic_time_status_size_and_no_payload()
    {
        await using var app = await AppHarness.StartAsync(fakeTime: true);
        var answer = await PostAsync(app, Envelope("invoice.paid"));
        var id = answer.Body["id"]!.GetValue<string>();

        var row = (await app.RowsAsync(app.Names.EventsTable)).Single();
        Assert.Equal(id, row.RowKey);
        Assert.Equal(id, row.PartitionKey); // a partition per event: none takes every event's writes
        Assert.Equal("invoice.paid", row.GetString("EventName"));
        Assert.Equal("invoices", row.GetString("Topic"));
        Assert.Equal("received", row.GetString("Status"));
        Assert.Equal(app.Time!.GetUtcNow(), row.GetDateTimeOffset("ReceivedAt"));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Created), row.GetDateTimeOffset("CreatedAt"));
        Assert.Equal("41", row.GetString("DataId"));
        Assert.True(row.GetInt64("Size") > 50);
        Assert.Null(row.GetString("PayloadBlob"));
        Assert.DoesNotContain(row.Keys, k => k.Contains("Payload", StringComparison.Ordinal) && k != "PayloadBlob");
        Assert.DoesNotContain(row, kv => kv.Value is string s && (s.Contains("jane.doe@example.com") || s.Contains(AppHarness.Token)));
    }

    [Fact]
    public async Task A_repeated_delivery_answers_200_with_the_same_id_and_is_not_queued_again()
    {
        await using var app = await AppHarness.StartAsync();
        var envelope = Envelope("order.created");

        var first = await PostAsync(app, envelope);
        var second = await PostAsync(app, envelope);
        var viaTopicRoute = await PostAsync(app, envelope, "orders");
        var different = await PostAsync(app, Envelope("order.created", created: Created + 60));

        Assert.Equal(202, first.Status);
        Assert.Equal(200, second.Status);
        Assert.Equal(200, viaTopicRoute.Status);
        Assert.Equal("duplicate", second.Body["status"]!.GetValue<string>());
        Assert.Equal(first.Body["id"]!.GetValue<string>(), second.Body["id"]!.GetValue<string>());
        Assert.Equal(first.Body["id"]!.GetValue<string>(), viaTopicRoute.Body["id"]!.GetValue<string>());
        Assert.Equal(202, different.Status);
        Assert.NotEqual(first.Body["id"]!.GetValue<string>(), different.Body["id"]!.GetValue<string>());
        Assert.Equal(2, (await app.PeekAllAsync(app.Names.EventsQueue)).Count);
        // The event's row is the dedupe record: one row per event, and no separate dedupe table.
        Assert.Equal(2, (await app.RowsAsync(app.Names.EventsTable)).Count);
        Assert.Empty(await app.RowsAsync(app.Names.DedupeTable));
    }

    [Fact]
    public async Task A_repeated_delivery_leaves_the_row_as_it_was_and_a_row_removed_by_hand_no_longer_dedupes()
    {
        // A repeat's insert meets the row (the proof the event was queued): it withdraws its own copy and writes
        // nothing. Without the row (removed by hand, or by housekeeping after its retention) nothing proves the event
        // was queued, so it is queued again (processing acts once per event id whatever is queued).
        await using var app = await AppHarness.StartAsync(rules: null);
        var envelope = Envelope("order.created");
        var first = await PostAsync(app, envelope);
        var id = first.Body["id"]!.GetValue<string>();
        var row = await app.EventRowAsync(id);
        Assert.Equal((await app.PeekAllAsync(app.Names.EventsQueue)).Single().MessageId, row!.QueuedMessage);

        Assert.Equal(200, (await PostAsync(app, envelope)).Status);
        Assert.Equal(row.ETag, (await app.EventRowAsync(id))!.ETag); // untouched
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));

        await app.Get<EventStore>().Table.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        Assert.Equal(202, (await PostAsync(app, envelope)).Status);
        Assert.NotNull(await app.EventRowAsync(id));
        Assert.Equal(2, (await app.PeekAllAsync(app.Names.EventsQueue)).Count);
    }

    [Fact]
    public async Task The_same_event_signed_with_either_token_is_one_event()
    {
        await using var app = await AppHarness.StartAsync();
        var first = await PostAsync(app, Envelope(token: AppHarness.Token));
        var second = await PostAsync(app, Envelope(token: AppHarness.SecondToken));
        Assert.Equal(first.Body["id"]!.GetValue<string>(), second.Body["id"]!.GetValue<string>());
        Assert.Equal(200, second.Status);
    }

    [Fact]
    public async Task A_queued_event_stays_a_duplicate_for_as_long_as_its_row_is_kept_whatever_the_old_window()
    {
        // Webhooks__DedupeWindow (retired, ignored) was the life of a separate dedupe record; the row lives for the event's retention.
        await using var app = await AppHarness.StartAsync(new() { ["Webhooks:DedupeWindow"] = "01:00:00" }, fakeTime: true);
        var envelope = Envelope("order.created");
        Assert.Equal(202, (await PostAsync(app, envelope)).Status);
        app.Time!.Advance(TimeSpan.FromDays(8));
        Assert.Equal(200, (await PostAsync(app, envelope)).Status);
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
    }

    [Fact]
    public async Task A_redelivery_after_the_window_of_an_event_already_processed_is_a_duplicate_and_keeps_its_history()
    {
        await using var app = await AppHarness.StartAsync(new() { ["Webhooks:DedupeWindow"] = "01:00:00" }, fakeTime: true);
        var envelope = Envelope("order.created");
        var first = await PostAsync(app, envelope);
        await app.Driver().DrainAsync();
        var id = first.Body["id"]!.GetValue<string>();
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
        app.Time!.Advance(TimeSpan.FromHours(2));

        var late = await PostAsync(app, envelope);

        Assert.Equal(200, late.Status);
        Assert.Equal(id, late.Body["id"]!.GetValue<string>());
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));
    }

    [Fact]
    public async Task Queued_events_never_expire()
    {
        await using var app = await AppHarness.StartAsync();
        await PostAsync(app, Envelope("order.created"));
        var message = (await app.Queue(app.Names.EventsQueue).PeekMessagesAsync(1)).Value.Single();
        Assert.Equal(DateTimeOffset.MaxValue.Year, message.ExpiresOn!.Value.Year);
    }

    [Fact]
    public async Task Expired_legacy_dedupe_records_are_purged()
    {
        await using var app = await AppHarness.StartAsync(fakeTime: true);
        var now = app.Time!.GetUtcNow();
        await LegacyLayout.AddDedupeRecordAsync(app, EventIds.Create("order.created", "1", Created, "a"), now - TimeSpan.FromMinutes(1));
        await LegacyLayout.AddDedupeRecordAsync(app, EventIds.Create("order.created", "2", Created, "b"), now + TimeSpan.FromMinutes(1));

        var purged = await app.Get<DedupeStore>().PurgeExpiredAsync(CancellationToken.None);

        Assert.Equal(1, purged);
        Assert.Single(await app.RowsAsync(app.Names.DedupeTable));
    }

    [Fact]
    public async Task Both_configured_tokens_are_accepted_during_rotation_and_others_are_not()
    {
        await using var app = await AppHarness.StartAsync();
        Assert.Equal(202, (await PostAsync(app, Envelope(token: AppHarness.Token, created: Created))).Status);
        Assert.Equal(202, (await PostAsync(app, Envelope(token: AppHarness.SecondToken, created: Created + 1))).Status);
        Assert.Equal(401, (await PostAsync(app, Envelope(token: "tok_retired_0000000000000000", created: Created + 2))).Status);
        Assert.Equal(2, (await app.PeekAllAsync(app.Names.EventsQueue)).Count);
    }

    [Fact]
    public async Task A_500_KB_payload_goes_through_a_claim_check_blob_and_reads_back_intact()
    {
        await using var app = await AppHarness.StartAsync();
        var data = SampleData("form.submitted");
        var random = new Random(7);
        var brief = new string(Enumerable.Range(0, 500 * 1024).Select(_ => (char)random.Next('a', 'z' + 1)).ToArray());
        data["form_data"] = new JsonObject { ["Brief"] = brief, ["Name"] = "Zoë – ünïcødé ✓" }; // ~500 KB
        var envelope = Envelope("form.submitted", data);
        var expected = (JsonObject)envelope.DeepClone();
        expected.Remove("token");

        var answer = await PostAsync(app, envelope);

        Assert.Equal(202, answer.Status);
        var message = EventMessage.Parse((await app.PeekAllAsync(app.Names.EventsQueue)).Single().Body.ToString());
        Assert.Null(message.Payload);
        Assert.NotNull(message.PayloadBlob);
        Assert.True(message.Size > 500 * 1024);
        var stored = JsonNode.Parse((await app.Get<PayloadStore>().ReadAsync(message.PayloadBlob!, CancellationToken.None)).ToString())!;
        Assert.True(JsonNode.DeepEquals(expected, stored));
        Assert.Equal(message.PayloadBlob, (await app.RowsAsync(app.Names.EventsTable)).Single().GetString("PayloadBlob"));
    }

    [Fact]
    public async Task Storage_unreachable_answers_503_with_retry_after_and_writes_nothing()
    {
        await using var app = await AppHarness.StartAsync(storage: TestStorage.Unreachable());
        var answer = await PostAsync(app, Envelope());
        Assert.Equal(503, answer.Status);
        Assert.Equal("30", answer.RetryAfter);
        Assert.Contains("not stored", answer.Body["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Queue_unreachable_after_the_blob_was_written_rolls_it_back_and_writes_no_row()
    {
        // Tables and blobs work, the queue does not: the claim-check blob written first goes again, and no row is written.
        await using var app = await AppHarness.StartAsync(storage: TestStorage.WithUnreachableQueues());
        var data = SampleData("form.submitted");
        data["pad"] = new string('x', 100 * 1024);

        var answer = await PostAsync(app, Envelope("form.submitted", data));

        Assert.Equal(503, answer.Status);
        Assert.Empty(await app.RowsAsync(app.Names.EventsTable));
        Assert.Empty(await app.BlobsAsync(app.Names.PayloadContainer));
    }

    [Fact]
    public async Task A_failing_row_insert_withdraws_the_queued_message()
    {
        await using var app = await AppHarness.StartAsync(services: s => s.AddSingleton<EventStore, FailingInsertStore>());
        var answer = await PostAsync(app, Envelope());
        Assert.Equal(503, answer.Status);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsQueue));
        Assert.Empty(await app.RowsAsync(app.Names.EventsTable));

        // SPP delivers again later: queued, not taken for a duplicate of nothing.
        ((FailingInsertStore)app.Get<EventStore>()).Failing = false;
        Assert.Equal(202, (await PostAsync(app, Envelope())).Status);
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
    }

    private sealed class FailingInsertStore(TableServiceClient tables, StorageNames names) : EventStore(tables, names)
    {
        public bool Failing { get; set; } = true;

        public override Task<Azure.ETag?> TryAddReceivedAsync(EventEntry entry, CancellationToken cancellationToken) =>
            Failing ? throw new Azure.RequestFailedException(503, "Simulated outage") : base.TryAddReceivedAsync(entry, cancellationToken);
    }

    [Fact]
    public async Task Concurrent_deliveries_of_one_event_queue_it_once()
    {
        await using var app = await AppHarness.StartAsync();
        var body = Encoding.UTF8.GetBytes(Envelope().ToJsonString());
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PostAsync(app, body)));
        Assert.Single(answers, a => a.Status == 202);
        Assert.All(answers, a => Assert.Contains(a.Status, new[] { 200, 202 }));
        Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue));
    }

    [Fact]
    public async Task An_oversized_body_without_content_length_is_not_read_in_full()
    {
        await using var app = await AppHarness.StartAsync(new() { ["Webhooks:MaxBodyBytes"] = "4096" });
        var endless = new EndlessStream();
        var answer = await PostAsync(app, Array.Empty<byte>(), contentLength: null, stream: endless);
        Assert.Equal(413, answer.Status);
        Assert.InRange(endless.BytesRead, 4097, 4096 + 64 * 1024);
        await app.AssertNothingStoredAsync("oversized");
    }

    [Fact]
    public async Task A_declared_oversized_body_is_refused_before_reading()
    {
        await using var app = await AppHarness.StartAsync();
        var endless = new EndlessStream();
        var answer = await PostAsync(app, Array.Empty<byte>(), contentLength: 2 * 1024 * 1024, stream: endless);
        Assert.Equal(413, answer.Status);
        Assert.Equal(0, endless.BytesRead);
    }

    [Fact]
    public async Task Logs_name_the_event_but_never_the_token_or_personal_data()
    {
        await using var app = await AppHarness.StartAsync();
        var accepted = await PostAsync(app, Envelope("order.created"));
        await PostAsync(app, Envelope("order.created", token: "tok_wrong_guess_1234567890"));
        await PostAsync(app, Envelope("invoice.paid"), "orders");

        var logs = app.AllLogText();
        Assert.Contains(accepted.Body["id"]!.GetValue<string>(), logs);
        Assert.Contains("order.created", logs);
        Assert.Contains("refused with 401", logs);
        Assert.DoesNotContain(AppHarness.Token, logs);
        Assert.DoesNotContain("tok_wrong_guess", logs);
        Assert.DoesNotContain("jane.doe@example.com", logs);
        Assert.DoesNotContain("Jane Doe", logs);
    }

    [Fact]
    public async Task Start_up_fails_without_a_webhook_token_naming_the_setting()
    {
        await using var app = await AppHarness.StartAsync(new() { ["Spp:WebhookTokens:0"] = null, ["Spp:WebhookTokens:1"] = null });
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(()
            => app.Get<Microsoft.Extensions.Options.IOptions<SppFunctions.Intake.SppWebhookTokenOptions>>().Value);
        Assert.Contains("Spp__WebhookTokens__0 is required", ex.Message);
    }

    private sealed class EndlessStream : Stream
    {
        public long BytesRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Fill(buffer, (byte)' ', offset, count);
            BytesRead += count;
            return count;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
