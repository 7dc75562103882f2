using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>The shared sync protocol suite with its repository in an Azurite container, under the prefix
/// "ghostie/shared"; each device has a backend (and client) of its own on the container.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobSyncProtocolTests(AzuriteFixture azurite) : SyncProtocolConformanceTests
{
    private string _container = "";

    public static new TheoryData<int, int, int, SimulationWorkload, bool> SimulationRuns => new()
    {
        { 11, 3, 120, SimulationWorkload.EditsAndSyncs, true },
    };

    protected override async Task<Func<Task<IStorageBackend>>> CreateStoreAsync()
    {
        using (AzureBlobBackend created = await azurite.NewBackendAsync())
        {
            _container = created.Container;
        }

        string container = _container;
        return () =>
        {
            AzureBlobBackendOptions options = azurite.Options(container);
            options.Prefix = "ghostie/shared";
            return Task.FromResult<IStorageBackend>(new AzureBlobBackend(options));
        };
    }

    /// <summary>The repository is really in the container, under the prefix only.</summary>
    protected override async Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        using var whole = new AzureBlobBackend(azurite.Options(_container));
        List<string> names = await whole.ListAsync("").ToListAsync();

        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.StartsWith("ghostie/shared/", n, StringComparison.Ordinal));
    }
}
