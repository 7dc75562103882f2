using Ghostie.Sync.Vectors.Local;
using Ghostie.Sync.Vectors.PgVector;
using Ghostie.Sync.Vectors.Tests.VectorData;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.VectorData;

namespace Ghostie.Sync.Vectors.Tiers.Tests.VectorData;

/// <summary>The Microsoft.Extensions.VectorData scenario over pgvector (PGlite).</summary>
[Collection(PgliteCollection.Name)]
public sealed class PgVectorVectorDataTests(PgliteFixture pglite) : VectorDataScenarioTests, IAsyncLifetime
{
    private readonly List<PgVectorStore> _stores = [];

    protected override Task<IVectorStore> CreateInnerStoreAsync()
    {
        PgVectorStore store = pglite.CreateStore(o => o.TablePrefix = "vd_");
        _stores.Add(store);
        return Task.FromResult<IVectorStore>(store);
    }

    [Fact]
    public async Task ListCollectionNames_ListsTheMetadataTable_InOrdinalOrder()
    {
        PgVectorStore inner = pglite.CreateStore(o => o.TablePrefix = "vdlist_");
        _stores.Add(inner);
        using var store = new GhostieVectorStore(inner, new GhostieVectorStoreOptions { ModelName = "test-model-v1" });
        foreach (string name in new[] { "notes", "memories", "memories-2" })
        {
            await store.GetCollection<string, MemoryNote>(name).EnsureCollectionExistsAsync();
        }

        Assert.Equal(["memories", "memories-2", "notes"], await store.ListCollectionNamesAsync().ToListAsync());
        await store.EnsureCollectionDeletedAsync("memories-2");
        Assert.Equal(["memories", "notes"], await store.ListCollectionNamesAsync().ToListAsync());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (PgVectorStore store in _stores)
        {
            await store.DisposeAsync();
        }
    }
}

/// <summary>Builds tiered stores over given tier stores, with the usage kept in a temporary folder.</summary>
public abstract class TieredVectorDataTestsBase : VectorDataScenarioTests, IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();
    private readonly List<IDisposable> _owned = [];

    protected string UsageFolder { get; } = Directory.CreateTempSubdirectory("ghostie-vd-usage-").FullName;

    protected abstract IEnumerable<VectorTierRegistration> Tiers();

    protected TieredVectorStore NewTieredStore(IEnumerable<VectorTierRegistration> tiers) =>
        new(tiers, Options.Create(new VectorTiersOptions()), _services, usageStore: new FileVectorUsageStore(UsageFolder));

    protected override Task<IVectorStore> CreateInnerStoreAsync() => Task.FromResult<IVectorStore>(NewTieredStore(Tiers()));

    protected LocalVectorStore Local()
    {
        var store = new LocalVectorStore(new LocalVectorStoreOptions());
        _owned.Add(store);
        return store;
    }

    public virtual void Dispose()
    {
        _owned.ForEach(o => o.Dispose());
        _services.Dispose();
        Directory.Delete(UsageFolder, recursive: true);
    }
}

/// <summary>The scenario over the tiered collection: an on-device edge cache and two local placement tiers.</summary>
public sealed class TieredVectorDataTests : TieredVectorDataTestsBase
{
    protected override IEnumerable<VectorTierRegistration> Tiers()
    {
        LocalVectorStore edge = Local(), context = Local(), historical = Local();
        return
        [
            new(VectorTier.Edge, _ => edge),
            new(VectorTier.Context, _ => context),
            new(VectorTier.Historical, _ => historical),
        ];
    }

    [Fact]
    public async Task EnsureCollectionDeleted_DeletesEveryTiersCollection_TheEdgeToo()
    {
        LocalVectorStore edge = Local(), historical = Local();
        TieredVectorStore tiered = NewTieredStore([new(VectorTier.Edge, _ => edge), new(VectorTier.Historical, _ => historical)]);
        using var store = new GhostieVectorStore(tiered, new GhostieVectorStoreOptions { ModelName = "test-model-v1" });
        VectorStoreCollection<string, MemoryNote> collection = store.GetCollection<string, MemoryNote>("memories");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new MemoryNote { Id = "n1", Category = "work", Embedding = new float[] { 1, 0, 0, 0, 0, 0, 0, 0 } });
        Assert.True(await edge.CollectionExistsAsync("memories-edge"));
        Assert.True(await historical.CollectionExistsAsync("memories"));
        Assert.Equal(["memories"], await store.ListCollectionNamesAsync().ToListAsync());

        await collection.EnsureCollectionDeletedAsync();

        Assert.False(await edge.CollectionExistsAsync("memories-edge"));
        Assert.False(await historical.CollectionExistsAsync("memories"));
        Assert.Empty(tiered.OpenCollections);
        VectorUsageState? usage = await new FileVectorUsageStore(UsageFolder).LoadAsync("memories");
        Assert.True(usage is null || usage.Usages.Count == 0, "the usage of deleted records must not come back");

        // The same name again is a new, empty collection.
        await collection.EnsureCollectionExistsAsync();
        Assert.Null(await collection.GetAsync("n1"));
    }

    [Fact]
    public async Task CatalogOperations_WithATierStoreThatCannotDelete_AreNotSupported_NamingTheTier()
    {
        LocalVectorStore historical = Local();
        TieredVectorStore tiered = NewTieredStore([new(VectorTier.Edge, _ => new MemoryVectorStore()), new(VectorTier.Historical, _ => historical)]);
        using var store = new GhostieVectorStore(tiered, new GhostieVectorStoreOptions { ModelName = "test-model-v1" });
        await store.GetCollection<string, MemoryNote>("memories").EnsureCollectionExistsAsync();

        Assert.True(await store.CollectionExistsAsync("memories")); // placement tiers can tell
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => store.EnsureCollectionDeletedAsync("memories"));
        Assert.Contains("Edge tier's MemoryVectorStore", error.Message, StringComparison.Ordinal);
        Assert.True(await historical.CollectionExistsAsync("memories")); // checked before anything was deleted
    }
}

/// <summary>The scenario over a tiered collection whose historical tier is pgvector (PGlite).</summary>
[Collection(PgliteCollection.Name)]
public sealed class TieredPgVectorDataTests(PgliteFixture pglite) : TieredVectorDataTestsBase
{
    private readonly List<PgVectorStore> _pg = [];

    protected override IEnumerable<VectorTierRegistration> Tiers()
    {
        LocalVectorStore edge = Local(), critical = Local();
        PgVectorStore historical = pglite.CreateStore(o => o.TablePrefix = "vdtier_");
        _pg.Add(historical);
        return
        [
            new(VectorTier.Edge, _ => edge),
            new(VectorTier.Critical, _ => critical),
            new(VectorTier.Historical, _ => historical),
        ];
    }

    public override void Dispose()
    {
        foreach (PgVectorStore store in _pg)
        {
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose();
    }
}
