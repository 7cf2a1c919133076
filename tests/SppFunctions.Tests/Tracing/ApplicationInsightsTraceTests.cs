using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.ApplicationInsights.WorkerService;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SppFunctions.FakeSpp;
using SppFunctions.Telemetry;
using SppFunctions.Tests.Infrastructure;
using SppFunctions.Tests.Intake;
using SppFunctions.Tracing;

namespace SppFunctions.Tests.Tracing;

/// <summary>
/// What an operator finds in Application Insights: the app wired with the worker's telemetry exactly as Program.cs
/// wires it (<c>AddWorkerTelemetry</c>), its items caught by a channel instead of being sent. One webhook's sending,
/// processing and log lines share the webhook invocation's operation id and carry the event id.
/// </summary>
public class ApplicationInsightsTraceTests
{
    private sealed class CapturingChannel : ITelemetryChannel
    {
        public ConcurrentQueue<ITelemetry> Items { get; } = new();
        public bool? DeveloperMode { get; set; }
        public string EndpointAddress { get; set; } = "http://127.0.0.1:9/";
        public void Send(ITelemetry item) => Items.Enqueue(item);
        public void Flush() { }
        public void Dispose() { }
    }

    private static void WorkerTelemetry(IServiceCollection services, CapturingChannel channel)
    {
        services.AddWorkerTelemetry(new ConfigurationBuilder().Build());
        services.AddSingleton<ITelemetryChannel>(channel);
        // Only what this test looks at: nothing that reaches out (live metrics, instance metadata) or samples.
        services.Configure<ApplicationInsightsServiceOptions>(o =>
        {
            o.ConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000001;"
                + "IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/";
            o.EnableQuickPulseMetricStream = false;
            o.EnableAdaptiveSampling = false;
            o.EnableHeartbeat = false;
            o.EnableAzureInstanceMetadataTelemetryModule = false;
            o.EnableAppServicesHeartbeatTelemetryModule = false;
            o.EnableDiagnosticsTelemetryModule = false;
            o.EnablePerformanceCounterCollectionModule = false;
            o.EnableEventCounterCollectionModule = false;
            o.EnableDependencyTrackingTelemetryModule = false; // process-wide: it would add headers to other tests' calls
            o.AddAutoCollectedMetricExtractor = false;
        });
    }

    [Fact]
    public async Task A_webhooks_queueing_processing_and_logs_are_one_operation_carrying_its_event_id()
    {
        var channel = new CapturingChannel();
        const string rule = """
            [{ "name": "welcome", "on": "order.created",
               "actions": [{ "type": "create_order_message", "order": "{{ data.id }}", "message": "<p>Thanks!</p>" }] }]
            """;
        await using var app = await AppHarness.StartAsync(rules: rule, services: s => WorkerTelemetry(s, channel));
        app.Get<TelemetryClient>(); // builds the telemetry configuration, which starts the modules
        var order = FakeSppWebhooks.OldStyleOrder(app.Spp.Store.AddOrder(status: "Pending"));
        order["note"] = Guid.NewGuid().ToString("N");

        string id;
        string operation;
        using (var request = SpanRecorder.Invocation("SppWebhook"))
        {
            operation = request.TraceId.ToHexString();
            id = (await WebhookTestKit.PostAsync(app, WebhookTestKit.Envelope("order.created", order))).Body["id"]!.GetValue<string>();
        }
        using (SpanRecorder.Invocation("ProcessEvent")) await app.Driver().DrainAsync();

        var items = channel.Items.Where(i => i.Context.Operation.Id == operation).ToList();
        var queued = Assert.Single(items.OfType<DependencyTelemetry>(), d => d.Type == EventSpanTelemetryModule.QueueDependencyType);
        Assert.Equal("QueueEvent order.created", queued.Name);
        Assert.Equal(id, queued.Properties[EventTracing.EventIdKey]);
        Assert.Equal("queued", queued.ResultCode);

        var processed = Assert.Single(items.OfType<RequestTelemetry>());
        Assert.Equal("ProcessEvent order.created", processed.Name);
        Assert.Equal(queued.Id, processed.Context.Operation.ParentId);
        Assert.Equal(id, processed.Properties[EventTracing.EventIdKey]);
        Assert.Equal("succeeded", processed.ResponseCode);
        Assert.True(processed.Success);
        Assert.Contains("operation_Id", processed.Properties["_MS.links"]); // the invocation that ran it

        // Log lines: intake's and processing's, in the same operation, with the event id as a custom dimension.
        var traces = items.OfType<TraceTelemetry>().ToList();
        Assert.Contains(traces, t => t.Message.StartsWith($"Webhook {id}") && t.Properties[EventTracing.EventIdKey] == id);
        Assert.Contains(traces, t => t.Message.StartsWith($"Event {id}") && t.Message.Contains("succeeded")
            && t.Properties[EventTracing.EventIdKey] == id && t.Context.Operation.ParentId == processed.Id);
    }

    [Fact]
    public void Telemetry_made_inside_an_event_span_gets_its_event_id_and_a_failed_span_is_a_failed_request()
    {
        using var spans = new SpanRecorder();
        var initializer = new EventIdTelemetryInitializer();
        var id = $"test-{Guid.NewGuid():N}";
        var logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        var call = new DependencyTelemetry("HTTP", "acme.spp.co", "POST /api/order_messages/1", "");
        using (var span = EventTracing.StartProcessing(logger, EventTracing.ProcessEvent, id, "order.created", "webhook", null))
        {
            using var http = new Activity("System.Net.Http.HttpRequestOut").Start(); // as HttpClient makes one
            initializer.Initialize(call);
            EventTracing.SetOutcome(EventTracing.Outcomes.Failed, "rule 'welcome' action 0 (create_order_message): 400");
        }
        var outside = new DependencyTelemetry("HTTP", "acme.spp.co", "GET /api/orders", "");
        initializer.Initialize(outside);

        Assert.Equal(id, call.Properties[EventTracing.EventIdKey]);
        Assert.Equal("order.created", call.Properties[EventTracing.EventNameKey]);
        Assert.False(outside.Properties.ContainsKey(EventTracing.EventIdKey));
        var request = Assert.IsType<RequestTelemetry>(EventSpanTelemetryModule.ToTelemetry(Assert.Single(spans.For(id))));
        Assert.False(request.Success);
        Assert.Equal("failed", request.ResponseCode);
        Assert.Contains("400", request.Properties["Error"]);
    }
}
