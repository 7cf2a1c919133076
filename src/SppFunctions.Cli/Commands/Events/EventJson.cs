using System.Text.Json.Nodes;
using SppFunctions.Processing.Actions;
using SppFunctions.Storage;

namespace SppFunctions.Cli.Commands.Events;

/// <summary>The JSON forms of event-log rows and action records (stable field names for scripts).</summary>
internal static class EventJson
{
    public static JsonObject Row(EventEntry e) => new()
    {
        ["id"] = e.Id,
        ["event"] = e.EventName,
        ["topic"] = e.Topic,
        ["source"] = e.Source,
        ["status"] = e.Status,
        ["createdAt"] = e.CreatedAt,
        ["receivedAt"] = e.ReceivedAt,
        ["updatedAt"] = e.UpdatedAt,
        ["completedAt"] = e.CompletedAt,
        ["dataId"] = e.DataId,
        ["size"] = e.Size,
        ["payloadBlob"] = e.PayloadBlob,
        ["attempts"] = e.Attempts,
        ["replays"] = e.Replays,
        ["error"] = e.Error,
    };

    public static JsonObject Action(ActionRecord a) => new()
    {
        ["key"] = a.Key,
        ["type"] = a.Type,
        ["description"] = a.Description,
        ["status"] = a.Status,
        ["attempts"] = a.Attempts,
        ["generation"] = a.Generation,
        ["mayHaveActed"] = a.MayHaveActed,
        ["startedAt"] = a.StartedAt,
        ["completedAt"] = a.CompletedAt,
        ["leaseUntil"] = a.LeaseUntil,
        ["result"] = a.Result,
        ["error"] = a.Error,
    };
}
