using Ghostie.Sync.Vectors.PgVector;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddVectorTiers_WithTiers_OpensATieredCollection()
    {
        var local = new MemoryVectorStore();
        var remote = new MemoryVectorStore();
        var services = new ServiceCollection();
        services.AddGhostieSync()
            .AddVectorTiers(o => o.Edge.Capacity = 5)
            .AddVectorTiers()
            .AddVectorTier(VectorTier.Edge, _ => local)
            .AddVectorTier(VectorTier.Historical, _ => new MemoryVectorStore())
            .AddVectorTier(VectorTier.Historical, _ => remote); // the last registration of a tier wins
        await using ServiceProvider provider = services.BuildServiceProvider();

        TieredVectorStore store = provider.GetRequiredService<TieredVectorStore>();
        TieredVectorCollection collection = await store.GetOrCreateCollectionAsync("notes", TierRig.Model);

        Assert.Same(collection, await store.GetOrCreateCollectionAsync("notes", TierRig.Model));
        Assert.Equal([VectorTier.Edge, VectorTier.Historical], collection.Tiers);
        Assert.Equal(5, collection.Options.Edge.Capacity);
        Assert.Contains("notes-edge", local.Collections.Keys);
        await collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        Assert.Equal(["k"], remote.Collections["notes"].Keys);
        await Assert.ThrowsAsync<VectorModelMismatchException>(() => store.GetOrCreateCollectionAsync("notes", new EmbeddingModelInfo("other", 4)));
    }

    [Fact]
    public async Task AddVectorTiers_WithoutPlacementTier_FailsClearlyOnOpen()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync().AddVectorTiers().AddVectorTier(VectorTier.Edge, _ => new MemoryVectorStore());
        await using ServiceProvider provider = services.BuildServiceProvider();

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => provider.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync("notes", TierRig.Model));

        Assert.Equal(GhostieErrorCode.NotConfigured, error.Code);
    }

    [Fact]
    public void AddVectorTiers_InvalidOptions_FailValidationNamingTheOption()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync().AddVectorTiers(o => o.Critical.Capacity = -1);
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<VectorTiersOptions>>().Value);

        Assert.Contains("Critical.Capacity", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPgVectorTier_AsEdge_IsRefused()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<GhostieSyncException>(() => services.AddGhostieSync().AddPgVectorTier(VectorTier.Edge, o => o.ConnectionString = "Host=x"));

        Assert.Contains("edge cache stays on the device", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPgVectorTier_InvalidOptions_FailValidation()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync().AddPgVectorTier(o => o.ConnectionString = "");
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<PgVectorOptions>>().Get("pgvector-historical"));

        Assert.Contains("Historical", error.Message, StringComparison.Ordinal);
    }
}
