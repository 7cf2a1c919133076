using System.Diagnostics;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;
using SppFunctions.Tracing;

namespace SppFunctions.Telemetry;

/// <summary>
/// Gives every telemetry item made within one of the app's event spans the span's event id and name as custom
/// dimensions: the SPP calls and storage calls the SDK collects as dependencies carry no log scope, so without this
/// only logs and the app's own spans could be found by <c>customDimensions.EventId</c>.
/// </summary>
public sealed class EventIdTelemetryInitializer : ITelemetryInitializer
{
    public void Initialize(ITelemetry telemetry)
    {
        if (telemetry is not ISupportProperties item || item.Properties.ContainsKey(EventTracing.EventIdKey)) return;
        for (var activity = Activity.Current; activity is not null; activity = activity.Parent)
        {
            if (activity.Source != EventTracing.Source || activity.GetTagItem(EventTracing.EventIdKey) is not string id) continue;
            item.Properties[EventTracing.EventIdKey] = id;
            if (activity.GetTagItem(EventTracing.EventNameKey) is string name) item.Properties.TryAdd(EventTracing.EventNameKey, name);
            return;
        }
    }
}
