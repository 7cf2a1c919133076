using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.FakeSpp;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;

namespace SppFunctions.Tests.Rules;

/// <summary>Steps that feed each other, action conditions and forEach, through the real processing path (Azurite, fake SPP).</summary>
public class StepsTests
{
    private static JsonObject Order(FakeSppServer spp, string status = "Pending") =>
        FakeSppWebhooks.OldStyleOrder(spp.Store.AddOrder(status: status));

    private const string PriceOver1000 = """{ "field": "steps.order.body.price", "gt": 1000 }""";

    private const string ChainRules = $$$"""
        [{ "name": "chain", "on": "order.created", "actions": [
            { "id": "order", "type": "api_call", "method": "GET", "path": "orders/{{ data.id }}" },
            { "type": "create_order_message", "order": "{{ data.id }}",
              "when": [{ "field": "steps.order.status", "equals": 200 }, { "field": "steps.order.body.price", "gt": "50.00" }],
              "message": "<p>Your {{ steps.order.body.service }} order ({{ steps.order.headers.content-type }}) is in.</p>" },
            { "type": "create_order_message", "order": "{{ data.id }}", "when": {{{PriceOver1000}}}, "message": "never" }
        ]}]
        """;

    [Fact]
    public async Task A_later_step_reads_an_earlier_steps_status_headers_and_body_and_a_false_when_skips_a_step()
    {
        await using var app = await AppHarness.StartAsync(rules: ChainRules);
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);

        await app.Driver().DrainAsync();

        var message = Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.StartsWith("<p>Your Logo design order (application/json", message["message"]!.GetValue<string>());
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
        var records = await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None);
        Assert.Equal(new[] { "chain.0", "chain.1" }, records.Select(r => r.Key).Order());
        Assert.Contains("Logo design", records.Single(r => r.Key == "chain.0").Output);
    }

    /// <summary>The attempt "dies" when it records the second step's success: that write and every later one of the attempt are lost.</summary>
    private sealed class CrashOnSecondStep(TableServiceClient tables, StorageNames names) : ActionRecordStore(tables, names)
    {
        private string? _deadOwner;

        private void BeforeWrite(IEnumerable<ActionRecord> records)
        {
            foreach (var record in records)
            {
                if (_deadOwner is null && record.Key == "chain.1" && record.Status == ActionStatus.Succeeded) _deadOwner = record.Owner;
                if (_deadOwner is not null && record.Owner == _deadOwner)
                {
                    throw new InvalidOperationException("Simulated crash after the second step's SPP call.");
                }
            }
        }

        public override Task<bool> TryUpdateAsync(ActionRecord record, CancellationToken cancellationToken)
        {
            BeforeWrite([record]);
            return base.TryUpdateAsync(record, cancellationToken);
        }

        public override Task<bool> TryCommitAsync(EventWriteBatch batch, ActionRecord? claim, EventEntry? row, CancellationToken cancellationToken)
        {
            BeforeWrite(claim is null ? batch.Records : [.. batch.Records, claim]);
            return base.TryCommitAsync(batch, claim, row, cancellationToken);
        }
    }

    /// <summary>
    /// The attempt fails between the two steps: the first step's success is recorded (alone, or after the transaction
    /// that was to carry it with the second step's claim failed), the second step never starts.
    /// </summary>
    private sealed class CrashBetweenSteps(TableServiceClient tables, StorageNames names) : ActionRecordStore(tables, names)
    {
        public int Crashes { get; private set; }

        private void Crash(string key)
        {
            if (key != "chain.1" || Crashes != 0) return;
            Crashes++;
            throw new InvalidOperationException("Simulated crash between two steps.");
        }

        public override async Task<bool> TryAddAsync(ActionRecord record, CancellationToken cancellationToken)
        {
            Crash(record.Key);
            return await base.TryAddAsync(record, cancellationToken);
        }

        public override Task<bool> TryCommitAsync(EventWriteBatch batch, ActionRecord? claim, EventEntry? row, CancellationToken cancellationToken)
        {
            if (claim is not null) Crash(claim.Key);
            return base.TryCommitAsync(batch, claim, row, cancellationToken);
        }

        public override async Task<ActionRecord?> GetAsync(string scope, string key, CancellationToken cancellationToken)
        {
            Crash(key);
            return await base.GetAsync(scope, key, cancellationToken);
        }
    }

    [Fact]
    public async Task A_crash_between_two_steps_the_second_sees_the_first_steps_recorded_output_and_SPP_sees_the_first_call_once()
    {
        await using var app = await AppHarness.StartAsync(rules: ChainRules, services: s => s.AddSingleton<ActionRecordStore, CrashBetweenSteps>());
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(1, ((CrashBetweenSteps)app.Get<ActionRecordStore>()).Crashes);
        Assert.Equal(1, driver.Failures); // the crashed delivery; the redelivery finished the event
        var number = order["id"]!.GetValue<string>();
        Assert.Single(app.Spp.RequestsTo("GET", $"/api/orders/{number}"));
        var message = Assert.Single(app.Spp.Store.GetOrderMessages(number));
        Assert.StartsWith("<p>Your Logo design order (application/json", message["message"]!.GetValue<string>());
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
    }

    [Fact]
    public async Task A_crash_after_the_second_steps_call_reconciles_it_with_the_first_steps_output_and_posts_once()
    {
        await using var app = await AppHarness.StartAsync(rules: ChainRules, fakeTime: true,
            services: s => s.AddSingleton<ActionRecordStore, CrashOnSecondStep>());
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        // The crashed attempt's claim holds the action until its lease runs out: move the clock past it between rounds.
        await driver.DrainAsync(betweenRounds: _ => { app.Time!.Advance(TimeSpan.FromMinutes(2)); return Task.CompletedTask; });

        var number = order["id"]!.GetValue<string>();
        Assert.Single(app.Spp.RequestsTo("GET", $"/api/orders/{number}"));
        Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages/"));
        Assert.Single(app.Spp.Store.GetOrderMessages(number));
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
    }

    [Fact]
    public async Task An_output_over_the_cap_fails_the_rule_naming_the_step_and_the_call_is_not_repeated_on_replay()
    {
        const string rules = """
            [{ "name": "big", "on": "order.created", "actions": [
                { "id": "all", "type": "api_call", "method": "GET", "path": "orders" },
                { "type": "create_order_message", "order": "{{ data.id }}", "message": "{{ steps.all.body.data | size }} orders" }
            ]}]
            """;
        await using var app = await AppHarness.StartAsync(new() { ["Processing:MaxStepOutputBytes"] = "2048" }, rules: rules);
        for (var i = 0; i < 20; i++) app.Spp.Store.AddOrder();
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);

        await app.Driver().DrainAsync();

        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("rule 'big' action 0 (api_call): step 'all' succeeded, but its output is", row.Error);
        Assert.Contains("more than Processing__MaxStepOutputBytes (2048)", row.Error);
        Assert.Empty(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));

        // A replay does not call SPP again for the step that succeeded; the rule fails the same way.
        var replay = await app.Get<SppFunctions.Processing.ReplayService>()
            .ReplayAsync(new SppFunctions.Processing.ReplayRequest(new[] { evt.Id }), CancellationToken.None);
        await app.Driver().DrainAsync();
        Assert.Single(app.Spp.RequestsTo("GET", "/api/orders"));
        Assert.Contains("Processing__MaxStepOutputBytes", (await app.EventRowAsync(evt.Id))!.Error);
    }

    [Fact]
    public async Task A_large_output_is_kept_in_the_payload_container_and_read_back_on_a_redelivery()
    {
        const string rules = """
            [{ "name": "chain", "on": "order.created", "actions": [
                { "id": "all", "type": "api_call", "method": "GET", "path": "orders", "query": { "limit": "100" } },
                { "type": "create_order_message", "order": "{{ data.id }}", "message": "{{ steps.all.body.data | size }} orders" }
            ]}]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules, services: s => s.AddSingleton<ActionRecordStore, CrashBetweenSteps>());
        for (var i = 0; i < 60; i++) app.Spp.Store.AddOrder(customize: o => o["note"] = new string('n', 400));
        var order = Order(app.Spp);
        var evt = await app.EnqueueEventAsync("order.created", order);

        await app.Driver().DrainAsync();

        Assert.Contains($"{evt.Id}/step-chain.0.json", await app.BlobsAsync(app.Names.PayloadContainer));
        var message = Assert.Single(app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()));
        Assert.StartsWith("61 orders", message["message"]!.GetValue<string>());
        Assert.Single(app.Spp.RequestsTo("GET", "/api/orders"));
    }

    private const string CleanUpRules = """
        [{ "name": "clean-up", "on": "order.status_changed", "when": { "field": "data.status", "equals": "Complete" }, "actions": [
            { "id": "messages", "type": "list_order_messages", "order": "{{ data.id }}", "limit": 50 },
            { "forEach": "steps.messages.body", "actions": [
                { "type": "delete_order_message", "messageId": "{{ item.id }}",
                  "when": [{ "field": "item.staff_only", "equals": true }, { "field": "item.message", "contains": "[tmp]" }] }
            ] }
        ]}]
        """;

    [Fact]
    public async Task ForEach_deletes_the_marked_staff_only_messages_each_with_its_own_record_and_a_redelivery_deletes_nothing_twice()
    {
        await using var app = await AppHarness.StartAsync(rules: CleanUpRules);
        var order = Order(app.Spp, "Complete");
        var number = order["id"]!.GetValue<string>();
        var keep1 = app.Spp.Store.AddOrderMessage(number, "<p>Hello</p>");
        var tmp1 = app.Spp.Store.AddOrderMessage(number, "[tmp] call notes", staffOnly: true);
        var keep2 = app.Spp.Store.AddOrderMessage(number, "[tmp] but visible to the client");
        var tmp2 = app.Spp.Store.AddOrderMessage(number, "internal [tmp]", staffOnly: true);
        // The second DELETE fails with a 503 once: the event is retried and only what is left runs.
        app.Spp.InjectFault(new FaultRule(FaultKind.StatusAfterHandling)
        {
            Status = 503, Method = "DELETE", PathPrefix = "/api/order_messages/", Times = 1, SkipFirst = 1,
        });
        var evt = await app.EnqueueEventAsync("order.status_changed", order);

        await app.Driver().DrainAsync();
        // SPP redelivers the same webhook: nothing runs again.
        await app.EnqueueEventAsync("order.status_changed", order, id: evt.Id);
        await app.Driver().DrainAsync();

        var left = app.Spp.Store.GetOrderMessages(number).Select(m => m["id"]!.GetValue<long>()).Order().ToArray();
        Assert.Equal(new[] { keep1["id"]!.GetValue<long>(), keep2["id"]!.GetValue<long>() }.Order(), left);
        Assert.Single(app.Spp.RequestsTo("GET", "/api/order_messages/"));
        var deletes = app.Spp.RequestsTo("DELETE", "/api/order_messages/");
        Assert.Equal(3, deletes.Count); // two messages, one of them again after the 503 (a DELETE is idempotent)
        Assert.Equal(2, deletes.Select(d => d.Path).Distinct().Count());
        var records = await app.Get<ActionRecordStore>().ListAsync(evt.Id, CancellationToken.None);
        Assert.Equal(new[] { "clean-up.0", $"clean-up.1.id-{tmp1["id"]}.0", $"clean-up.1.id-{tmp2["id"]}.0" }.Order(),
            records.Select(r => r.Key).Order());
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
    }

    [Fact]
    public async Task A_list_longer_than_the_bound_fails_the_rule_before_any_item_runs()
    {
        await using var app = await AppHarness.StartAsync(new() { ["Processing:MaxForEachItems"] = "3" }, rules: CleanUpRules);
        var order = Order(app.Spp, "Complete");
        var number = order["id"]!.GetValue<string>();
        for (var i = 0; i < 4; i++) app.Spp.Store.AddOrderMessage(number, "[tmp] x", staffOnly: true);
        var evt = await app.EnqueueEventAsync("order.status_changed", order);

        await app.Driver().DrainAsync();

        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Contains("rule 'clean-up' action 1 (forEach steps.messages.body): " +
            "the list has 4 items, more than Processing__MaxForEachItems (3); none of them ran.", row.Error);
        Assert.Empty(app.Spp.RequestsTo("DELETE", "/api/order_messages/"));
        Assert.Equal(4, app.Spp.Store.GetOrderMessages(number).Count);
    }

    [Fact]
    public async Task A_huge_number_in_the_event_no_longer_sends_it_to_poison_and_the_events_other_rules_run()
    {
        const string rules = """
            [{ "name": "big-total", "on": "order.created", "when": [{ "field": "data.total", "equals": 5 }], "actions": [
                { "type": "create_order_message", "order": "{{ data.id }}", "message": "five" } ] },
             { "name": "huge-total", "on": "order.created", "when": [{ "field": "data.total", "gt": 1000 }], "actions": [
                { "type": "create_order_message", "order": "{{ data.id }}", "message": "huge {{ data.total | times: 10 }}" } ] },
             { "name": "welcome", "on": "order.created", "actions": [
                { "type": "create_order_message", "order": "{{ data.id }}", "message": "welcome" } ] }]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = Order(app.Spp);
        order["total"] = JsonNode.Parse("1e30");
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(0, driver.Failures);
        Assert.Empty(await app.PeekAllAsync(app.Names.EventsPoisonQueue));
        var texts = app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>())
            .Select(m => m["message"]!.GetValue<string>().Split('\n')[0]).ToList();
        Assert.Contains("welcome", texts);
        Assert.DoesNotContain("five", texts);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(1, row!.Attempts);
        // The huge total met "gt 1000"; what its template did with it is that rule's own outcome, never a retry.
        Assert.True(texts.Any(t => t.StartsWith("huge", StringComparison.Ordinal)) || row.Error?.Contains("rule 'huge-total' action 0") == true,
            row.Error);
    }

    [Fact]
    public async Task A_template_that_fails_on_the_events_data_fails_its_rule_for_good_naming_the_field_and_the_other_rules_run()
    {
        const string rules = """
            [{ "name": "ratio", "on": "order.created", "actions": [
                { "type": "create_order_message", "order": "{{ data.id }}", "message": "Share: {{ data.price | divided_by: data.quantity }}" } ] },
             { "name": "welcome", "on": "order.created", "actions": [
                { "type": "create_order_message", "order": "{{ data.id }}", "message": "welcome" } ] }]
            """;
        await using var app = await AppHarness.StartAsync(rules: rules);
        var order = Order(app.Spp);
        order["price"] = 10;
        order["quantity"] = 0;
        var evt = await app.EnqueueEventAsync("order.created", order);
        var driver = app.Driver();

        await driver.DrainAsync();

        Assert.Equal(0, driver.Failures);
        var row = await app.EventRowAsync(evt.Id);
        Assert.Equal(EventStatus.Failed, row!.Status);
        Assert.Equal(1, row.Attempts);
        Assert.Contains(
            "rule 'ratio' action 0 (create_order_message): message: the template failed on this event's data (DivideByZeroException).", row.Error);
        var texts = app.Spp.Store.GetOrderMessages(order["id"]!.GetValue<string>()).Select(m => m["message"]!.GetValue<string>().Split('\n')[0]);
        Assert.Equal(new[] { "welcome" }, texts);
    }

    [Theory]
    [InlineData("Processing:MaxStepOutputBytes", "100", "Processing__MaxStepOutputBytes must be between 1024 and 16777216")]
    [InlineData("Processing:MaxForEachItems", "0", "Processing__MaxForEachItems must be between 1 and 10000")]
    public async Task A_bad_step_setting_stops_start_up_naming_it(string setting, string value, string expected)
    {
        await using var app = await AppHarness.StartAsync(new() { [setting] = value });
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            app.Get<Microsoft.Extensions.Options.IOptions<ProcessingOptions>>().Value);
        Assert.Contains(expected, ex.Message);
    }
}
