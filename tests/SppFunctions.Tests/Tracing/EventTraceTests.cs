using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using SppFunctions.Events;
using SppFunctions.FakeSpp;
using SppFunctions.Functions.Ops;
using SppFunctions.Polling;
using SppFunctions.Storage;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;
using SppFunctions.Tracing;

namespace SppFunctions.Tests.Tracing;

/// <summary>
/// One event, one trace: the processing of a message continues the trace of whoever queued it (the webhook's
/// invocation, the poll run, the replay request), through re-scheduled retries, and every log line about the event
/// carries its id in a scope.
/// </summary>
public class EventTraceTests
{
    private const string WelcomeRule = """
        [{ "name": "welcome", "on": "order.created",
           "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "<p>Thanks!</p>" }] }]
        """;

    /// <summary>An order.created webhook body of its own (a unique note makes a unique event id across parallel tests).</summary>
    private static JsonObject OrderWebhook(AppHarness app)
    {
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        order["note"] = Guid.NewGuid().ToString("N");
        return WebhookTestKit.Envelope("order.created", order);
    }

    private static async Task<string> PostWithinAsync(AppHarness app, Activity invocation, JsonObject body)
    {
        Assert.Same(invocation, Activity.Current);
        var answer = await WebhookTestKit.PostAsync(app, body);
        Assert.Equal(202, answer.Status);
        return answer.Body["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task A_webhook_is_processed_in_the_trace_of_its_request_and_every_SPP_call_carries_it()
    {
        using var spans = new SpanRecorder();
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);

        string id;
        ActivityTraceId webhookTrace;
        using (var request = SpanRecorder.Invocation("SppWebhook"))
        {
            webhookTrace = request.TraceId;
            id = await PostWithinAsync(app, request, OrderWebhook(app));
            Assert.Equal(id, request.GetTagItem(EventTracing.EventIdKey)); // the invocation itself is tagged too
        }
        var queued = EventMessage.Parse(Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue)).Body.ToString());

        ActivityContext processingInvocation;
        using (var invocation = SpanRecorder.Invocation("ProcessEvent"))
        {
            processingInvocation = invocation.Context;
            await app.Driver().DrainAsync();
            Assert.Equal(id, invocation.GetTagItem(EventTracing.EventIdKey));
        }

        var send = Assert.Single(spans.For(id, EventTracing.QueueEvent));
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal(webhookTrace, send.TraceId);
        Assert.Equal(EventTracing.Outcomes.Queued, send.GetTagItem(EventTracing.OutcomeKey));
        // The message carries the sending span's context ...
        Assert.Equal(send.Id, queued.TraceParent);
        // ... and its processing, in another invocation with a trace of its own, continues it and links to that invocation.
        var process = Assert.Single(spans.For(id, EventTracing.ProcessEvent));
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        Assert.Equal(webhookTrace, process.TraceId);
        Assert.Equal(send.SpanId, process.ParentSpanId);
        Assert.Contains(process.Links, l => l.Context.TraceId == processingInvocation.TraceId && l.Context.SpanId == processingInvocation.SpanId);
        Assert.Equal(EventTracing.Outcomes.Succeeded, process.GetTagItem(EventTracing.OutcomeKey));
        Assert.Equal(ActivityStatusCode.Ok, process.Status);
        Assert.Equal("webhook", process.GetTagItem(EventTracing.EventSourceKey));

        // The SPP call made while processing went out with the webhook's trace id (HttpClient propagates the current span).
        var post = Assert.Single(app.Spp.RequestsTo("POST", "/api/order_messages/"));
        Assert.True(post.Headers.TryGetValue("traceparent", out var traceparent), "the SPP call carried no traceparent");
        Assert.Equal(webhookTrace.ToHexString(), traceparent!.Split('-')[1]);
    }

    [Fact]
    public async Task Every_log_line_about_a_webhook_from_intake_to_processing_carries_its_event_id()
    {
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var id = (await WebhookTestKit.PostAsync(app, OrderWebhook(app))).Body["id"]!.GetValue<string>();
        await app.Driver().DrainAsync();

        var logs = app.Logs.GetSnapshot();
        var queued = Assert.Single(logs, r => r.Category == typeof(SppFunctions.Intake.WebhookIntake).FullName && r.Message.Contains(id));
        Assert.True(SpanRecorder.HasEventScope(queued, id), "intake's log line has no event scope");
        var settled = Assert.Single(logs,
            r => r.Category == typeof(SppFunctions.Processing.EventProcessor).FullName && r.Message.Contains("succeeded"));
        Assert.True(SpanRecorder.HasEventScope(settled, id), "processing's log line has no event scope");
        // Log lines that do not name the event (the action runner's, the SPP client's) carry it through the scope.
        var inScope = logs.Where(r => SpanRecorder.HasEventScope(r, id)).ToList();
        Assert.Contains(inScope, r => !r.Message.Contains(id));
        Assert.All(logs.Where(r => r.Message.Contains(id)), r => Assert.True(SpanRecorder.HasEventScope(r, id), $"no event scope: {r.Message}"));
    }

    [Fact]
    public async Task An_event_the_poller_emits_is_processed_in_the_poll_runs_trace_and_its_emit_is_logged_with_its_id()
    {
        using var spans = new SpanRecorder();
        var time = AppHarness.NewFakeTime();
        var spp = await FakeSppServer.StartAsync(new FakeSppServerOptions { Time = time });
        await using var app = await AppHarness.StartAsync(spp: spp, time: time);
        var order = app.Spp.Store.AddOrder();
        await app.Get<WatchStore>().AddAsync(order["number"]!.GetValue<string>(), "test", time.GetUtcNow(), CancellationToken.None);
        var poller = app.Get<OrderMessagePoller>();
        time.Advance(TimeSpan.FromMinutes(1));
        await poller.RunAsync(CancellationToken.None); // the baseline
        time.Advance(TimeSpan.FromMinutes(1));
        app.Spp.Store.AddOrderMessage(order["id"]!.ToString(), $"hello {Guid.NewGuid():N}");
        time.Advance(TimeSpan.FromMinutes(1));

        ActivityTraceId runTrace;
        using (var run = SpanRecorder.Invocation("PollOrderMessages"))
        {
            runTrace = run.TraceId;
            Assert.Equal(1, (await poller.RunAsync(CancellationToken.None)).EventsEmitted);
        }
        var id = EventMessage.Parse(Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue)).Body.ToString()).Id;
        await app.Driver().DrainAsync();

        var send = Assert.Single(spans.For(id, EventTracing.QueueEvent));
        Assert.Equal(runTrace, send.TraceId);
        Assert.Equal("poller", send.GetTagItem(EventTracing.EventSourceKey));
        var process = Assert.Single(spans.For(id, EventTracing.ProcessEvent));
        Assert.Equal(runTrace, process.TraceId);
        Assert.Equal(send.SpanId, process.ParentSpanId);

        var emitted = Assert.Single(app.Logs.GetSnapshot(),
            r => r.Category == typeof(OrderMessagePoller).FullName && r.Message.StartsWith("Emitted message"));
        Assert.Contains(id, emitted.Message);
        Assert.True(SpanRecorder.HasEventScope(emitted, id), "the poller's emit has no event scope");
    }

    [Fact]
    public async Task A_retry_is_processed_in_the_trace_of_the_original_delivery()
    {
        using var spans = new SpanRecorder();
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        app.Spp.InjectFault(FaultRule.Fail(503, times: 1, method: "POST"));
        string id;
        ActivityTraceId webhookTrace;
        using (var request = SpanRecorder.Invocation("SppWebhook"))
        {
            webhookTrace = request.TraceId;
            id = await PostWithinAsync(app, request, OrderWebhook(app));
        }
        var original = EventMessage.Parse(Assert.Single(await app.PeekAllAsync(app.Names.EventsQueue)).Body.ToString());
        var driver = app.Driver();

        // Each delivery in an invocation of its own, as the host runs them (possibly on another instance).
        using (SpanRecorder.Invocation("ProcessEvent")) await driver.DrainAsync();

        Assert.Single(driver.Retries);
        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
        var send = Assert.Single(spans.For(id, EventTracing.QueueEvent));
        var attempts = spans.For(id, EventTracing.ProcessEvent);
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(webhookTrace, a.TraceId);
            Assert.Equal(send.SpanId, a.ParentSpanId);
        });
        Assert.Equal(EventTracing.Outcomes.Retrying, attempts[0].GetTagItem(EventTracing.OutcomeKey));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status); // a failed attempt shows as one
        Assert.Equal(EventTracing.Outcomes.Succeeded, attempts[1].GetTagItem(EventTracing.OutcomeKey));
        Assert.Equal(1, attempts[1].GetTagItem(EventTracing.RetryKey));
        Assert.Equal(original.TraceParent, send.Id);
    }

    [Fact]
    public void A_re_scheduled_message_keeps_its_trace_context_and_one_without_takes_the_failed_attempts()
    {
        var plan = new SppFunctions.Queueing.RetryPlan(1, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30), DateTimeOffset.UtcNow.AddSeconds(30));
        var delivery = MessageTraceContext.Parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "vendor=1")!;
        var attempt = MessageTraceContext.Parse("00-11111111111111111111111111111111-2222222222222222-01", null)!;
        var with = new JsonObject { ["id"] = "c1", ["type"] = "x" };
        delivery.WriteTo(with);

        var kept = JsonNode.Parse(SppFunctions.Queueing.RetryScheduler.WithRetry(with.ToJsonString(), plan, attempt).ToString())!.AsObject();
        Assert.Equal(delivery.TraceParent, kept["traceparent"]!.GetValue<string>());
        Assert.Equal("vendor=1", kept["tracestate"]!.GetValue<string>());

        var garbled = SppFunctions.Queueing.RetryScheduler.WithRetry("""{"id":"c2","traceparent":"garbage"}""", plan, attempt);
        var taken = JsonNode.Parse(garbled.ToString())!.AsObject();
        Assert.Equal(attempt.TraceParent, taken["traceparent"]!.GetValue<string>());
        Assert.Null(taken["tracestate"]);
    }

    [Fact]
    public async Task A_message_without_a_trace_context_still_processes_in_a_trace_of_its_invocation()
    {
        using var spans = new SpanRecorder();
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        var evt = await app.EnqueueEventAsync("order.created", order); // as a message queued before this version
        Assert.Null(evt.TraceParent);

        ActivityContext invocation;
        using (var current = SpanRecorder.Invocation("ProcessEvent"))
        {
            invocation = current.Context;
            await app.Driver().DrainAsync();
        }

        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(evt.Id))!.Status);
        var process = Assert.Single(spans.For(evt.Id, EventTracing.ProcessEvent));
        Assert.Equal(invocation.TraceId, process.TraceId);
        Assert.Equal(invocation.SpanId, process.ParentSpanId);
    }

    [Fact]
    public async Task A_command_continues_the_trace_its_sender_put_in_it_and_one_with_a_bad_value_still_runs()
    {
        using var spans = new SpanRecorder();
        await using var app = await AppHarness.StartAsync();
        var order = app.Spp.Store.AddOrder();
        const string sender = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        string Command(string id, string trace) =>
            $$"""{ "id": "{{id}}", "type": "create_order_message", "order": "{{order["number"]}}", "message": "<p>Hi</p>"{{trace}} }""";
        var traced = $"crm-{Guid.NewGuid():N}";
        var garbled = $"crm-{Guid.NewGuid():N}";
        var mistyped = $"crm-{Guid.NewGuid():N}";
        await app.SendCommandAsync(Command(traced, $", \"traceparent\": \"{sender}\", \"tracestate\": \"crm=7\""));
        await app.SendCommandAsync(Command(garbled, ", \"traceparent\": \"not-a-traceparent\""));
        await app.SendCommandAsync(Command(mistyped, ", \"traceparent\": 42"));

        await app.Driver().DrainAsync();

        var rows = (await app.RowsAsync(app.Names.EventsTable)).ToList();
        var commandSpans = rows.SelectMany(r => spans.For(r.RowKey, EventTracing.ProcessCommand)).ToList();
        Assert.Equal(2, commandSpans.Count); // the refused one never ran
        var tracedSpan = Assert.Single(commandSpans, a => a.TraceId.ToHexString() == "4bf92f3577b34da6a3ce929d0e0e4736");
        Assert.Equal("00f067aa0ba902b7", tracedSpan.ParentSpanId.ToHexString());
        Assert.Equal("crm=7", tracedSpan.TraceStateString);
        Assert.Equal(2, rows.Count(r => r.GetString("Status") == EventStatus.Succeeded)); // the traced and the garbled one
        var refused = Assert.Single(rows, r => r.GetString("Status") == EventStatus.Failed);
        Assert.Contains("traceparent must be a string", refused.GetString("Error"));
        Assert.Equal(2, app.Spp.Store.GetOrderMessages(order["id"]!.ToString()).Count);
    }

    [Fact]
    public async Task A_replay_is_processed_in_the_trace_of_the_replay_request()
    {
        using var spans = new SpanRecorder();
        await using var app = await AppHarness.StartAsync(rules: WelcomeRule);
        app.Spp.InjectFault(FaultRule.Fail(400, times: 1, method: "POST")); // a permanent failure: the event fails
        var id = (await WebhookTestKit.PostAsync(app, OrderWebhook(app))).Body["id"]!.GetValue<string>();
        await app.Driver().DrainAsync();
        Assert.Equal(EventStatus.Failed, (await app.EventRowAsync(id))!.Status);
        var firstTrace = Assert.Single(spans.For(id, EventTracing.ProcessEvent)).TraceId;

        ActivityTraceId replayTrace;
        using (var request = SpanRecorder.Invocation("ReplayEvents"))
        {
            replayTrace = request.TraceId;
            var body = $$"""{ "ids": ["{{id}}"] }""";
            var result = (ContentResult)await app.Function<ReplayFunction>().Run(app.Request("POST", body), CancellationToken.None);
            Assert.Equal(200, result.StatusCode);
        }
        await app.Driver().DrainAsync();

        Assert.Equal(EventStatus.Succeeded, (await app.EventRowAsync(id))!.Status);
        var replay = Assert.Single(spans.For(id, EventTracing.ReplayEvent));
        Assert.Equal(replayTrace, replay.TraceId);
        var second = spans.For(id, EventTracing.ProcessEvent)[^1];
        Assert.Equal(replayTrace, second.TraceId);
        Assert.Equal(replay.SpanId, second.ParentSpanId);
        Assert.NotEqual(firstTrace, second.TraceId);
        Assert.Equal(1, second.GetTagItem(EventTracing.ReplayKey));
    }

    [Fact]
    public void A_processing_span_that_ends_by_an_exception_is_marked_as_an_error()
    {
        using var spans = new SpanRecorder();
        var id = $"test-{Guid.NewGuid():N}";
        var logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        try
        {
            using var span = EventTracing.StartProcessing(logger, EventTracing.ProcessEvent, id, "order.created", "webhook", null);
            throw new InvalidOperationException("storage fell over");
        }
        catch (InvalidOperationException)
        {
        }
        using (var done = EventTracing.StartProcessing(logger, EventTracing.ProcessEvent, id, "order.created", "webhook", null))
        {
            EventTracing.SetOutcome(EventTracing.Outcomes.Succeeded);
        }

        var ended = spans.For(id, EventTracing.ProcessEvent);
        Assert.Equal(ActivityStatusCode.Error, ended[0].Status);
        Assert.Null(ended[0].GetTagItem(EventTracing.OutcomeKey));
        Assert.Equal(ActivityStatusCode.Ok, ended[1].Status);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("garbage", false)]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01", false)] // an all-zero trace id is invalid
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", false)] // so is an all-zero span id
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true)]
    public void Only_a_valid_W3C_traceparent_is_continued(string? traceParent, bool valid)
    {
        Assert.Equal(valid, MessageTraceContext.Parse(traceParent, null) is not null);
    }

    [Fact]
    public void A_tracestate_longer_than_W3C_allows_is_dropped_and_the_traceparent_kept()
    {
        var context = MessageTraceContext.Parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", new string('a', 513))!;
        Assert.Null(context.TraceState);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", context.TraceId);
    }
}
