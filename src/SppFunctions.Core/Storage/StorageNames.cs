namespace SppFunctions.Storage;

/// <summary>
/// Names of the app's queues, tables and blob container. The constants are what the triggers and infra/ use;
/// an instance with a suffix gives tests their own isolated set on a shared Azurite.
/// </summary>
public sealed class StorageNames
{
    public const string EventsQueueName = "spp-events";
    public const string CommandsQueueName = "spp-commands";
    /// <summary>The Functions host moves a message here after its last failed dequeue.</summary>
    public const string PoisonSuffix = "-poison";
    public const string EventsPoisonQueueName = EventsQueueName + PoisonSuffix;
    public const string CommandsPoisonQueueName = CommandsQueueName + PoisonSuffix;

    public static StorageNames Default { get; } = new();

    private StorageNames(string queueSuffix = "", string tableSuffix = "")
    {
        EventsQueue = EventsQueueName + queueSuffix;
        CommandsQueue = CommandsQueueName + queueSuffix;
        EventsPoisonQueue = EventsQueue + PoisonSuffix;
        CommandsPoisonQueue = CommandsQueue + PoisonSuffix;
        EventsTable = "SppEvents" + tableSuffix;
        DedupeTable = "SppDedupe" + tableSuffix;
        ActionsTable = "SppActions" + tableSuffix;
        WatchTable = "SppWatch" + tableSuffix;
        PollRunsTable = "SppPollRuns" + tableSuffix;
        PayloadContainer = "spp-payloads" + queueSuffix;
    }

    /// <summary>A separate set of names (for tests sharing one storage account): <c>spp-events-x1</c>, <c>SppEventsx1</c>, ...</summary>
    public static StorageNames WithSuffix(string suffix)
    {
        if (suffix.Length is 0 or > 12 || !suffix.All(char.IsAsciiLetterOrDigit))
            throw new ArgumentException("Use 1-12 letters or digits.", nameof(suffix));
        return new StorageNames("-" + suffix.ToLowerInvariant(), suffix.ToLowerInvariant());
    }

    public string EventsQueue { get; }
    public string EventsPoisonQueue { get; }
    public string CommandsQueue { get; }
    public string CommandsPoisonQueue { get; }
    /// <summary>Event log: one row per event and its processing status.</summary>
    public string EventsTable { get; }
    /// <summary>Webhook dedupe records, kept for the dedupe window.</summary>
    public string DedupeTable { get; }
    /// <summary>Action idempotency records (one per action of an event or command).</summary>
    public string ActionsTable { get; }
    /// <summary>Watched orders and their poll cursors.</summary>
    public string WatchTable { get; }
    /// <summary>Summaries of poller runs.</summary>
    public string PollRunsTable { get; }
    /// <summary>Claim-check payloads too large for a queue message.</summary>
    public string PayloadContainer { get; }
}
