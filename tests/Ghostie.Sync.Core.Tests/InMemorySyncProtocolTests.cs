namespace Ghostie.Sync.Tests;

/// <summary>The shared sync protocol suite over one repository in memory (all devices share one store object), with
/// the largest simulation runs: the store is fast, so the protocol gets the most random interleavings here.</summary>
public sealed class InMemorySyncProtocolTests : SyncProtocolConformanceTests
{
    public static new TheoryData<int, int, int, SimulationWorkload, bool> SimulationRuns => new()
    {
        { 1, 3, 300, SimulationWorkload.Full, true },
        { 2, 4, 300, SimulationWorkload.Full, true },
        { 3, 5, 250, SimulationWorkload.Full, true },
    };

    protected override Task<Func<Task<IStorageBackend>>> CreateStoreAsync()
    {
        var storage = new InMemoryStorageBackend();
        return Task.FromResult<Func<Task<IStorageBackend>>>(() => Task.FromResult<IStorageBackend>(storage));
    }
}
