using System.Diagnostics;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.ApplicationInsights.Extensibility.Implementation;
using SppFunctions.Tracing;

namespace SppFunctions.Telemetry;

/// <summary>
/// Sends the app's own spans (<see cref="EventTracing.Source"/>) to Application Insights. The Application Insights SDK
/// collects HttpClient and Azure SDK calls and the Functions worker's invocation spans, but no other ActivitySource:
/// without this module the processing of a message would have no telemetry item of its own. Processing spans become
/// requests (a message being handled, as the SDK's guidance for queue consumers has it), sending spans become
/// dependencies of type "Queue Message"; both keep the span's trace id, id and parent, its tags as custom dimensions,
/// and its links in <c>_MS.links</c> (the processing's link to the invocation that ran it).
/// </summary>
public sealed class EventSpanTelemetryModule : ITelemetryModule, IDisposable
{
    public const string QueueDependencyType = "Queue Message";

    private readonly object _gate = new();
    private TelemetryClient? _client;
    private ActivityListener? _listener;

    public void Initialize(TelemetryConfiguration configuration)
    {
        lock (_gate)
        {
            if (_listener is not null) return;
            _client = new TelemetryClient(configuration);
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == EventTracing.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = Track,
            };
            ActivitySource.AddActivityListener(_listener);
        }
    }

    private void Track(Activity activity)
    {
        try
        {
            switch (ToTelemetry(activity))
            {
                case RequestTelemetry request:
                    _client?.TrackRequest(request);
                    break;
                case DependencyTelemetry dependency:
                    _client?.TrackDependency(dependency);
                    break;
            }
        }
        catch (Exception)
        {
            // Telemetry must never fail the work it describes.
        }
    }

    /// <summary>The telemetry item of a finished span.</summary>
    public static OperationTelemetry ToTelemetry(Activity activity)
    {
        var outcome = activity.GetTagItem(EventTracing.OutcomeKey)?.ToString();
        OperationTelemetry telemetry = activity.Kind is ActivityKind.Consumer or ActivityKind.Server
            ? new RequestTelemetry { ResponseCode = outcome ?? "" }
            : new DependencyTelemetry
            {
                Type = activity.Kind == ActivityKind.Producer ? QueueDependencyType : "InProc",
                Target = activity.GetTagItem(EventTracing.EventSourceKey)?.ToString() ?? "",
                Data = activity.GetTagItem(EventTracing.EventIdKey)?.ToString() ?? "",
                ResultCode = outcome ?? "",
            };
        telemetry.Name = activity.DisplayName;
        telemetry.Id = activity.SpanId.ToHexString();
        telemetry.Timestamp = new DateTimeOffset(activity.StartTimeUtc, TimeSpan.Zero);
        telemetry.Duration = activity.Duration;
        telemetry.Success = activity.Status != ActivityStatusCode.Error;
        telemetry.Context.Operation.Id = activity.TraceId.ToHexString();
        if (activity.ParentSpanId != default) telemetry.Context.Operation.ParentId = activity.ParentSpanId.ToHexString();
        foreach (var (key, value) in activity.EnumerateTagObjects())
        {
            if (value is not null) telemetry.Properties[key] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        if (activity.Status == ActivityStatusCode.Error && activity.StatusDescription is { } why) telemetry.Properties["Error"] = why;
        var links = activity.Links.Select(l => new Dictionary<string, string>
        {
            ["operation_Id"] = l.Context.TraceId.ToHexString(),
            ["id"] = l.Context.SpanId.ToHexString(),
        }).ToList();
        if (links.Count > 0) telemetry.Properties["_MS.links"] = System.Text.Json.JsonSerializer.Serialize(links);
        return telemetry;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _listener?.Dispose();
            _listener = null;
        }
    }
}
