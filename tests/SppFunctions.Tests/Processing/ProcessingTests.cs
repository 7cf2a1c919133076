using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.FakeSpp;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;

namespace SppFunctions.Tests.Processing;

/// <summary>Events from the queue through rules to SPP, against Azurite and the fake SPP server.</summary>
public class ProcessingTests
{
    private const string WelcomeRule = """
        [{
          "name": "welcome",
          "on": "order.created",
          "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "<p>Thanks {{ data.client.name }}!</p>" }]
        }]
        """;

    private static JsonObject Order(FakeSppServer spp) => FakeSppWebhooks.OldStyleOrder(spp.Store.AddOrder(status: "Pending"));

    [Fact]
    public async Task Create_order_message_runs_end_to_end_from_a_webhook()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = Order(app.Spp);
        var answer = await WebhookTestKit.PostAsync(app, WebhookTestKit.Envelope("order.created", order));

        await app.Driver().DrainAsync();

        var message = Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.StartsWith("<p>Thanks Jane Doe!</p>", message["message"]!.GetValue<string>());
        var row = await app.EventRowAsync(answer.Body["id"]!.GetValue<string>());
        Assert.Equal(EventStatus.Succeeded, row!.Status);
        Assert.Equal(1, row.Attempts);
        Assert.NotNull(row.CompletedAt);
    }

    [Fact]
    public async Task Template_values_are_html_escaped_in_messages_and_url_escaped_in_paths()
    {
        const string rules = """
            [{ "name": "r", "on": "order.created", "actions": [
              { "type": "create_order_message", "order": "{{ data.id }}", "message": "Hi {{ data.client.name }}" },
              { "type": "api_call", "method": "GET", "path": "orders/{{ data.note }}" }
            ]}]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = Order(app.Spp);
        order["client"]!["name"] = "<script>x</script>";
        order["note"] = "../../evil";
        var evt = await app.EnqueueEventAsync("order.created", order);

        await app.Driver().DrainAsync();

        Assert.StartsWith("Hi &lt;script&gt;x&lt;/script&gt;",
            Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()))["message"]!.GetValue<string>());
        // The value was escaped into one segment, and the client's guard still refused its encoded '..': nothing was sent.
        Assert.Empty(app.Spp.RequestsTo("GET", "/api/orders/"));
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("orders/..%2F..%2Fevil' is refused", row.Error);
    }

    [Fact]
    public async Task A_missing_template_value_fails_that_action_and_posts_nothing()
    {
        const string rules = """
            [{ "name": "r", "on": "order.created", "actions": [
              { "type": "create_order_message", "order": "{{ data.id }}", "message": "Due {{ data.date_due }}" }
            ]},
             { "name": "optional", "on": "order.created", "actions": [
              { "type": "create_order_message", "order": "{{ data.id }}", "message": "Due {{ data.date_due | default: 'soon' }}" }
            ]}]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);

        await app.Driver().DrainAsync();

        var posted = Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.StartsWith("Due soon", posted["message"]!.GetValue<string>());
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("rule 'r' action 0", row.Error);
        Assert.Contains("data.date_due", row.Error);
    }

    [Fact]
    public async Task When_conditions_decide_which_rules_run()
    {
        const string rules = """
            [
              { "name": "pending", "on": "order.*", "when": { "field": "data.status", "equals": "Pending" },
                "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "pending" }] },
              { "name": "service", "on": "order.*", "when": [{ "field": "data.service", "oneOf": ["SEO", "Logo design"] },
                  { "field": "data.client.id", "exists": true }],
                "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "service" }] },
              { "name": "no-coupon", "on": "order.*", "when": { "field": "data.coupon", "exists": true },
                "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "coupon" }] },
              { "name": "complete", "on": "order.*", "when": { "field": "data.status", "oneOf": ["Complete", "Cancelled"] },
                "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "complete" }] },
              { "name": "numbers", "on": "order.*", "when": { "field": "data.client.id", "equals": "12" },
                "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "numbers" }] },
              { "name": "other-events", "on": "invoice.*", "actions": [{ "type": "create_order_message", "order": "{{ data.id }}",
                  "message": "invoice" }] }
            ]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = Order(app.Spp);
        order["client"]!["id"] = 12;
        await app.EnqueueEventAsync("order.created", order);

        await app.Driver().DrainAsync();

        var texts = app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()).Select(m
            => m["message"]!.GetValue<string>().Split('\n')[0]).Order();
        Assert.Equal(new[] { "numbers", "pending", "service" }, texts);
    }

    [Fact]
    public async Task Delete_order_message_runs_and_a_message_already_gone_fails_it()
    {
        const string rules = """
            [{ "name": "del", "on": "message.created", "actions": [{ "type": "delete_order_message", "messageId": "{{ data.id }}" }] }]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = app.Spp.Store.AddOrder();
        var message = app.Spp.Store.AddOrderMessage(order["id"]!.ToString(), "spam");
        var ok = await app.EnqueueEventAsync("message.created", new JsonObject { ["id"] = message["id"]!.GetValue<long>(), ["message"] = "spam" });
        var missing = await app.EnqueueEventAsync("message.created", new JsonObject { ["id"] = 999999, ["message"] = "?" });

        await app.Driver().DrainAsync();

        Assert.Empty(app.Spp.Store.GetOrderMessages(order["id"]!.ToString()));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(ok.Id))!.Status);
        var failed = await app.EventRowAsync(missing.Id);
        Assert.Equal(EventStatus.Failed, failed!.Status);
        Assert.Contains("404", failed.Error);
    }

    [Fact]
    public async Task Api_call_sends_method_path_query_headers_and_templated_body()
    {
        const string rules = """
            [{ "name": "tag", "on": "order.created", "actions": [{
               "type": "api_call", "method": "PUT", "path": "orders/{{ data.id }}",
               "query": { "source": "{{ topic }}" }, "headers": { "X-Rule": "tag" },
               "body": { "tags": ["new", "{{ data.service }}"], "note": "Order {{ data.id }} from {{ event }}", "status": 3 }
            }]}]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = Order(app.Spp);
        await app.EnqueueEventAsync("order.created", order);

        await app.Driver().DrainAsync();

        var put = Assert.Single(app.Spp.RequestsTo("PUT", "/api/orders/"));
        Assert.Equal("orders", put.Query("source").Single());
        Assert.Equal("tag", put.Headers["X-Rule"]);
        var body = JsonNode.Parse(put.Body)!;
        Assert.Equal(3, body["status"]!.GetValue<int>());
        Assert.Equal($"Order {order["id"]} from order.created", body["note"]!.GetValue<string>());
        var stored = app.Spp.Store.GetOrder(order["id"]!.GetValue<string>())!;
        Assert.Equal(new[] { "new", "Logo design" }, stored["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal("Working", stored["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Forward_posts_the_event_to_an_allowed_host_and_is_refused_for_others()
    {
        await using var target = await RecordingHttpServer.StartAsync();
        var rules = $$$"""
            [{ "name": "fwd", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{{target.BaseUrl}}}hook" }] },
             { "name": "fwd-text", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{{target.BaseUrl}}}slack",
                 "body": { "text": "Ticket {{ data.subject }}" } }] },
             { "name": "fwd-elsewhere", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{ data.callback }}" }] }]
            """;
        await using var app = await AppHarness.StartAsync(new() { ["Forward:AllowedHosts:0"] = $"127.0.0.1:{target.BaseUrl.Port}" }, rules: rules);
        var evt = await app.EnqueueEventAsync("ticket.created", new JsonObject { ["id"] = 3, ["subject"] = "Broken link",
            ["callback"] = "https://evil.example.com/steal" });

        await app.Driver().DrainAsync();

        var hook = Assert.Single(target.Requests, r => r.Path == "/hook");
        var posted = JsonNode.Parse(hook.Body)!;
        Assert.Equal(evt.Id, posted["id"]!.GetValue<string>());
        Assert.Equal("ticket.created", posted["event"]!.GetValue<string>());
        Assert.Equal("Broken link", posted["data"]!["subject"]!.GetValue<string>());
        Assert.Equal($"{evt.Id}.fwd.0", hook.Headers["Idempotency-Key"]);
        Assert.Equal("application/json; charset=utf-8", hook.Headers["Content-Type"]);
        Assert.Equal("Ticket Broken link", JsonNode.Parse(Assert.Single(target.Requests, r => r.Path == "/slack").Body)!["text"]!.GetValue<string>());
        Assert.Equal(2, target.Requests.Count);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("host evil.example.com is not on Forward__AllowedHosts", row.Error);
    }

    [Fact]
    public async Task Forward_urls_and_headers_can_come_from_rule_secrets_kept_out_of_the_rules_file()
    {
        await using var target = await RecordingHttpServer.StartAsync();
        const string rules = """
            [{ "name": "slack", "on": "ticket.created", "actions": [{ "type": "forward", "url": "{{ secrets.SlackHook }}",
               "headers": { "X-Signature": "{{ secrets.Signature }}" }, "body": { "text": "Ticket {{ data.subject }}" } }] }]
            """;
        var hook = new Uri(target.BaseUrl, "services/T000/B000/s3cr3tpath").ToString();
        await using var app = await AppHarness.StartAsync(new()
        {
            ["Forward:AllowedHosts:0"] = $"127.0.0.1:{target.BaseUrl.Port}",
            ["RuleSecrets:SlackHook"] = hook,
            ["RuleSecrets:Signature"] = "sig-0123456789",
        }, rules: rules);
        var evt = await app.EnqueueEventAsync("ticket.created", new JsonObject { ["id"] = 3, ["subject"] = "Broken link" });

        await app.Driver().DrainAsync();

        var posted = Assert.Single(target.Requests);
        Assert.Equal("/services/T000/B000/s3cr3tpath", posted.Path);
        Assert.Equal("sig-0123456789", posted.Headers["X-Signature"]);
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
        Assert.DoesNotContain("s3cr3tpath", app.AllLogText());
        Assert.DoesNotContain("sig-0123456789", app.AllLogText());
    }

    [Fact]
    public async Task A_rule_naming_an_unset_secret_stops_start_up_naming_the_setting()
    {
        const string rules = """[{ "name": "slack", "on": "ticket.*", "actions": [{ "type": "forward", "url": "{{ secrets.SlackHook }}" }] }]""";
        await using var app = await AppHarness.StartAsync(rules: rules);
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(()
            => app.Get<Microsoft.Extensions.Options.IOptions<SppFunctions.Processing.Rules.RulesOptions>>().Value);
        Assert.Contains("'slack': actions[0].url: template error: it uses secrets.SlackHook, "
            + "but the app setting RuleSecrets__SlackHook is not set.", ex.Message);
    }

    [Fact]
    public async Task A_duplicate_delivery_posts_one_message()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);
        await app.Queue(app.Names.EventsQueue).SendMessageAsync(evt.ToBinaryData()); // the queue delivers it twice

        await app.Driver().DrainAsync();

        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages"));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
    }

    [Fact]
    public async Task The_row_moves_on_without_a_read_and_a_late_copy_or_a_missing_row_changes_no_outcome()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = Order(app.Spp);
        var answer = await WebhookTestKit.PostAsync(app, WebhookTestKit.Envelope("order.created", order));
        var id = answer.Body["id"]!.GetValue<string>();
        var received = await app.EventRowAsync(id);
        var text = (await app.PeekAllAsync(app.Names.EventsQueue)).Single().Body.ToString();
        var message = SppFunctions.Events.EventMessage.Parse(text);
        Assert.Null(message.LogETag); // the row is written after the message: the message says so instead
        Assert.Equal(SppFunctions.Events.EventMessage.Current, message.V);
        Assert.Equal(received!.DataId, message.DataId);
        var processor = app.Get<SppFunctions.Processing.EventProcessor>();

        await processor.ProcessAsync(text, 1, CancellationToken.None);
        var done = await app.EventRowAsync(id);
        // Written without a read, the row still has everything intake wrote.
        Assert.Equal(EventStatus.Succeeded, done!.Status);
        Assert.Equal((received.EventName, received.Topic, received.Source, received.DataId, received.Size, received.ReceivedAt, received.CreatedAt,
            received.PayloadBlob),
            (done.EventName, done.Topic, done.Source, done.DataId, done.Size, done.ReceivedAt, done.CreatedAt, done.PayloadBlob));
        Assert.Null(done.Error);

        // A late copy of the message (a first delivery too) writes "processing" over the row, finds its action recorded
        // and records the same outcome again.
        await processor.ProcessAsync(text, 1, CancellationToken.None);
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
        Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages"));

        // A row that is gone (e.g. removed by hand) is written anew rather than failing the event.
        await app.Get<EventStore>().Table.DeleteEntityAsync(done.PartitionKey, done.RowKey);
        await processor.ProcessAsync(text, 1, CancellationToken.None);
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
    }

    [Fact]
    public async Task A_first_delivery_claims_by_insert_and_a_second_copy_still_finds_every_outcome()
    {
        // Both copies arrive as first deliveries (dequeue count 1), so both try to claim by insert without reading:
        // the second copy's inserts fail on the records of the first, which it then reads and follows.
        const string rules = """
            [{ "name": "r", "on": "order.created", "actions": [
              { "type": "create_order_message", "order": "{{ data.id }}", "message": "Hi" }
            ]},
             { "name": "broken", "on": "order.created", "actions": [
              { "type": "create_order_message", "order": "{{ data.no_such_field }}", "message": "never" }
            ]}]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);
        var text = evt.ToBinaryData().ToString();
        var processor = app.Get<SppFunctions.Processing.EventProcessor>();

        await processor.ProcessAsync(text, 1, CancellationToken.None);
        var records = await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None);
        await processor.ProcessAsync(text, 1, CancellationToken.None);

        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        var after = await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None);
        Assert.Equal(records.Select(r => (r.Key, r.Status, r.Attempts, r.ETag)), after.Select(r => (r.Key, r.Status, r.Attempts,
            r.ETag))); // untouched
        Assert.Equal(ActionStatus.Failed, after.Single(r => r.Key == "broken.0").Status);
        Assert.Equal(ActionStatus.Succeeded, after.Single(r => r.Key == "r.0").Status);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("no_such_field", row.Error);
    }

    [Fact]
    public async Task Two_instances_racing_on_one_message_post_once()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);
        var text = evt.ToBinaryData().ToString();
        var processor = app.Get<SppFunctions.Processing.EventProcessor>();

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            try { await processor.ProcessAsync(text, 1, CancellationToken.None); return "done"; }
            catch (RetryLaterException) { return "retry"; }
        }));

        Assert.Contains("done", results);
        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_crash_between_the_SPP_call_and_its_record_still_leaves_one_message_after_redelivery()
    {
        var crash = new CrashOnce();
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule, fakeTime: true,
            services: s => s.AddSingleton<ActionRecordStore>(sp => new CrashingRecordStore(sp.GetRequiredService<TableServiceClient>(),
                sp.GetRequiredService<StorageNames>(), crash)));
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);

        // Each round the redelivered message finds the action held until the lease of the dead attempt runs out.
        await app.Driver().DrainAsync(betweenRounds: _ => { app.Time!.Advance(TimeSpan.FromSeconds(30)); return Task.CompletedTask; });

        Assert.True(crash.Crashed);
        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages"));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
        var record = (await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None)).Single(r => r.Key == "welcome.0");
        Assert.Equal(ActionStatus.Succeeded, record.Status);
        Assert.Equal(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>())[0]["id"]!.ToString(), record.Result);
    }

    [Fact]
    public async Task An_attempt_stops_calling_SPP_before_its_lease_runs_out_and_the_next_one_reconciles()
    {
        // Lease 5 s: the attempt gives up at 4 s, while SPP would take 10 s to answer.
        await using var app = await AppHarness.StartAsync(new() { ["Processing:ActionLease"] = "00:00:05", ["Spp:AttemptTimeout"] = "00:00:30" },
            rules: WelcomeRule);
        var order = Order(app.Spp);
        app.Spp.InjectFault(new FaultRule(FaultKind.Delay) { Delay = TimeSpan.FromSeconds(10), Times = 1, Method = "POST" });
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Contains(driver.Retries, r => r.Reason.Contains("ran out of its lease", StringComparison.Ordinal));
        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
    }

    [Fact]
    public async Task Failing_to_record_the_own_message_never_undoes_a_recorded_success()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule,
            services: s => s.AddSingleton<ActionRecordStore>(sp => new OwnMessageFailingStore(sp.GetRequiredService<TableServiceClient>(),
                sp.GetRequiredService<StorageNames>())));
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(0, driver.Failures);
        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        var record = (await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None)).Single(r => r.Key == "welcome.0");
        Assert.Equal(ActionStatus.Succeeded, record.Status);
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
    }

    private sealed class OwnMessageFailingStore(TableServiceClient tables, StorageNames names) : ActionRecordStore(tables, names)
    {
        public override Task AddOwnMessageAsync(long messageId, string scope, CancellationToken cancellationToken) =>
            throw new Azure.RequestFailedException(503, "Simulated outage");
    }

    [Fact]
    public async Task After_a_500_where_SPP_did_store_the_message_the_retry_finds_it_instead_of_posting_again()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = Order(app.Spp);
        app.Spp.InjectFault(new FaultRule(FaultKind.StatusAfterHandling) { Status = 500, Times = 1, Method = "POST" });
        var evt = await app.EnqueueEventAsync("order.created", order);

        await app.Driver().DrainAsync();

        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages"));
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Succeeded, row!.Status);
        Assert.Equal(2, row.Attempts);
    }

    [Fact]
    public async Task A_500_and_a_429_are_retried_and_then_succeed()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = Order(app.Spp);
        app.Spp.InjectFault(FaultRule.Fail(500, times: 1, method: "POST"));
        app.Spp.InjectFault(FaultRule.Throttle("0", times: 1, method: "POST"));
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.Equal(new[] { 500, 429, 201 }, app.Spp.RequestsTo("POST", "/api/order_messages").Select(r => r.Status));
        Assert.Equal(0, driver.Failures);
        Assert.Single(driver.Retries); // the 500 re-scheduled the event once; the 429 was retried inside the client
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
    }

    [Fact]
    public async Task A_400_fails_the_event_without_a_retry()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = Order(app.Spp);
        app.Spp.InjectFault(FaultRule.Fail(400, times: null, method: "POST"));
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(0, driver.Failures);
        Assert.Empty(driver.Retries);
        Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages"));
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Equal(1, row.Attempts);
        Assert.Contains("400", row.Error);
        Assert.NotNull(row.PayloadBlob); // kept for a replay
    }

    [Fact]
    public async Task Messages_the_app_posted_do_not_trigger_rules_again()
    {
        const string rules = """
            [{ "name": "echo", "on": "order_message.created", "actions": [{ "type": "create_order_message", "order": "{{ data.order_id }}",
                "message": "echo" }] },
             { "name": "audit", "on": "order_message.created", "includeOwnMessages": true, "actions": [{ "type": "api_call", "method": "GET",
                 "path": "orders/{{ data.order_id }}" }] }]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = app.Spp.Store.AddOrder();
        var client = app.Spp.Store.AddOrderMessage(order["id"]!.ToString(), "question?");
        await app.EnqueueEventAsync("order_message.created", new JsonObject { ["id"] = client["id"]!.GetValue<long>(),
            ["order_id"] = order["id"]!.GetValue<long>(), ["message"] = "question?" });
        await app.Driver().DrainAsync();

        // The app's own answer arrives as an event too (from a webhook or the poller).
        var answer = app.Spp.Store.GetOrderMessages(order["id"]!.ToString())[0];
        Assert.Contains("<!-- sppfn:", answer["message"]!.GetValue<string>());
        await app.EnqueueEventAsync("order_message.created", new JsonObject { ["id"] = answer["id"]!.GetValue<long>(),
            ["order_id"] = order["id"]!.GetValue<long>(), ["message"] = answer["message"]!.GetValue<string>() });
        // ...and one without the marker (SPP stripped it): recognised by its id.
        await app.EnqueueEventAsync("order_message.created", new JsonObject { ["id"] = answer["id"]!.GetValue<long>(),
            ["order_id"] = order["id"]!.GetValue<long>(), ["message"] = "echo" }, created: 1764403300);
        await app.Driver().DrainAsync();

        Assert.Equal(2, app.Spp.Store.GetOrderMessages(order["id"]!.ToString()).Count);
        Assert.Equal(3, app.Spp.RequestsTo("GET", "/api/orders/").Count); // the opted-in rule saw all three
    }
}

/// <summary>
/// The process "dies" right after the SPP call: the write recording success fails, and so does every write of that
/// attempt after it (nothing of it reaches storage), so the record stays claimed until its lease runs out. The
/// success goes alone or in a transaction with the event's other writes: either way it is lost.
/// </summary>
public sealed class CrashOnce
{
    public bool Crashed { get; set; }
    /// <summary>The attempt that died (its claim's owner): none of its later writes reaches storage.</summary>
    public string? DeadOwner { get; set; }

    internal void BeforeWrite(IEnumerable<ActionRecord> records)
    {
        foreach (var record in records)
        {
            if (!Crashed && record.Status == ActionStatus.Succeeded)
            {
                Crashed = true;
                DeadOwner = record.Owner;
            }
            if (Crashed && record.Owner == DeadOwner) throw new InvalidOperationException("Simulated crash after the SPP call, before recording it.");
        }
    }
}

public sealed class CrashingRecordStore(TableServiceClient tables, StorageNames names, CrashOnce crash) : ActionRecordStore(tables, names)
{
    public override Task<bool> TryUpdateAsync(ActionRecord record, CancellationToken cancellationToken)
    {
        crash.BeforeWrite([record]);
        return base.TryUpdateAsync(record, cancellationToken);
    }

    public override Task<bool> TryCommitAsync(EventWriteBatch batch, ActionRecord? claim, EventEntry? row, CancellationToken cancellationToken)
    {
        crash.BeforeWrite(claim is null ? batch.Records : [.. batch.Records, claim]);
        return base.TryCommitAsync(batch, claim, row, cancellationToken);
    }
}
