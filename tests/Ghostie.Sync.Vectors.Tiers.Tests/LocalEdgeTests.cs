using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>The on-device index (Ghostie.Sync.Vectors.Local) plugs in as the edge tier.</summary>
public sealed class LocalEdgeTests
{
    [Fact]
    public async Task LocalIndexAsEdge_CachesRemoteResults_AndAnswersFirst()
    {
        var time = new TierClock(TierRig.Start);
        using var local = new LocalVectorStore(new LocalVectorStoreOptions { TimeProvider = time });
        var remote = new MemoryVectorStore();
        IVectorCollection edge = await ((IVectorStore)local).GetOrCreateCollectionAsync(TieredVectorStore.EdgeCollectionName("notes"), TierRig.Model);
        IVectorCollection historical = await remote.GetOrCreateCollectionAsync("notes", TierRig.Model);
        var options = new VectorTiersOptions { EdgeSufficientScore = 0.95f };
        var collection = new TieredVectorCollection("notes", TierRig.Model,
            new Dictionary<VectorTier, IVectorCollection> { [VectorTier.Edge] = edge, [VectorTier.Historical] = historical }, options, time);
        List<VectorRecord> records = BruteForce.Clustered(30, TierRig.Model.Dimensions, seed: 9);
        await collection.UpsertAsync(records);
        float[] query = records[4].Vector.ToArray();

        TieredSearchResult first = await collection.SearchWithReportAsync(query, new VectorSearchOptions { Top = 1 });
        TieredSearchResult second = await collection.SearchWithReportAsync(query, new VectorSearchOptions { Top = 1 });

        Assert.Equal("k004", first.Results.Single().Record.Key);
        Assert.Equal(1, await edge.CountAsync());
        Assert.Equal("k004", second.Results.Single().Record.Key);
        Assert.Equal(TierSearchOutcome.Skipped, second.Tiers.Single(t => t.Tier == VectorTier.Historical).Outcome);
        Assert.Equal(records[4].Data, second.Results.Single().Record.Data);
    }
}
