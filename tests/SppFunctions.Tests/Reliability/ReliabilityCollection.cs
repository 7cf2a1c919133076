namespace SppFunctions.Tests.Reliability;

/// <summary>
/// The fault-injection suite runs on its own, after the other tests: it times SPP calls out, injects crashes and stops
/// storage, so it must not compete for the two cores with the rest of the test run (or share its Azurite restarts).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReliabilityCollection
{
    public const string Name = "Reliability";
}
