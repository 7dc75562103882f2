using Ghostie.Sync.Vectors.Tiers.Internal;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

public sealed class EdgeCacheTests
{
    private static readonly DateTimeOffset Now = TierRig.Start;

    private static VectorUsage Cached(string key, double idleHours, double relevance, bool inCache = true) =>
        new(key, VectorTier.Historical, Now - TimeSpan.FromDays(1), Now - TimeSpan.FromHours(idleHours), 1, 1, 0, relevance, inCache);

    [Fact]
    public void Decide_ZeroRelevanceBoost_IsPlainLru()
    {
        var options = new VectorTiersOptions { EdgeRelevanceBoost = 0 };
        VectorUsage[] cache = [Cached("a", 3, 1.0), Cached("b", 1, 0), Cached("c", 0.5, 0)];

        var (admitted, evicted) = EdgeCachePolicy.Decide(cache, [Cached("d", 0, 0.5, false)], 3, Now, options);

        Assert.Equal(["d"], admitted);
        Assert.Equal(["a"], evicted); // the least recently used, although the most relevant
    }

    [Fact]
    public void Decide_RelevanceBoost_KeepsRelevantOlderEntry()
    {
        // Retention = 2^(-idle/1h) + 0.5 * relevance: a = 0.125 + 0.5 = 0.625, b = 0.5, c = 0.707, d = 1.25.
        VectorUsage[] cache = [Cached("a", 3, 1.0), Cached("b", 1, 0), Cached("c", 0.5, 0)];

        var (admitted, evicted) = EdgeCachePolicy.Decide(cache, [Cached("d", 0, 0.5, false)], 3, Now, new VectorTiersOptions());

        Assert.Equal(["d"], admitted);
        Assert.Equal(["b"], evicted);
        Assert.Equal(0.625, cache[0].EdgeRetentionScore(Now, TimeSpan.FromHours(1), 0.5), 9);
    }

    [Fact]
    public void Decide_CandidateWeakerThanEveryEntry_IsNotAdmitted()
    {
        VectorUsage[] cache = [Cached("a", 0, 1), Cached("b", 0, 1)];

        var (admitted, evicted) = EdgeCachePolicy.Decide(cache, [Cached("old", 10, 0, false)], 2, Now, new VectorTiersOptions());

        Assert.Empty(admitted);
        Assert.Empty(evicted);
    }

    [Fact]
    public void Decide_WithRoom_AdmitsBestCandidatesFirst()
    {
        VectorUsage[] candidates = [Cached("x", 2, 0, false), Cached("y", 0, 1, false), Cached("z", 1, 0, false)];

        var (admitted, evicted) = EdgeCachePolicy.Decide([], candidates, 2, Now, new VectorTiersOptions());

        Assert.Equal(["y", "z"], admitted);
        Assert.Empty(evicted);
    }

    [Fact]
    public async Task Search_CachesRemoteResultsOnEdge_ReplacingTheWeakest()
    {
        var options = new VectorTiersOptions();
        options.Edge.Capacity = 2;
        var rig = new TierRig(options);
        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0), TierRig.Record("b", 0, 1, 0, 0), TierRig.Record("c", 0, 0, 1, 0)]);

        await rig.Collection.SearchWithReportAsync(new float[] { 1, 0.1f, 0, 0 }, new VectorSearchOptions { Top = 1 });
        rig.Time.Advance(TimeSpan.FromMinutes(10));
        await rig.Collection.SearchWithReportAsync(new float[] { 0.1f, 1, 0, 0 }, new VectorSearchOptions { Top = 1 });
        Assert.Equal(["a", "b"], rig[VectorTier.Edge].Keys);

        // c is used now; a (idle 20 min) is weaker than b (idle 10 min) at equal relevance: a leaves.
        rig.Time.Advance(TimeSpan.FromMinutes(10));
        await rig.Collection.SearchWithReportAsync(new float[] { 0, 0, 1, 0.1f }, new VectorSearchOptions { Top = 1 });

        Assert.Equal(["b", "c"], rig[VectorTier.Edge].Keys);
        Assert.False(rig.Collection.GetUsage("a")!.InEdgeCache);
        Assert.True(rig.Collection.GetUsage("c")!.InEdgeCache);
        Assert.Equal(2, rig.Collection.GetTierCounts()[VectorTier.Edge]);
    }

    [Fact]
    public async Task Rebalance_OffersFrequentlyUsedVectorsToTheEdge()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("often", 1, 0, 0, 0), TierRig.Record("once", 0, 1, 0, 0)]);
        for (int i = 0; i < 11; i++)
        {
            rig.Collection.RecordAccess("often"); // 11 * ln2 / 7 = 1.09 uses/day >= 1
        }

        rig.Collection.RecordAccess("once");

        VectorRebalanceReport report = await rig.Collection.RebalanceAsync();

        Assert.Equal(["often"], report.EdgeAdmitted);
        Assert.Equal(["often"], rig[VectorTier.Edge].Keys);
        Assert.Equal(new float[] { 1, 0, 0, 0 }, (await rig[VectorTier.Edge].GetAsync("often"))!.Vector.ToArray());
    }

    [Fact]
    public async Task Upsert_OfCachedVector_RefreshesTheEdgeCopy()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        await rig.Collection.SearchWithReportAsync(new float[] { 1, 0, 0, 0 });

        await rig.Collection.UpsertAsync([TierRig.Record("k", 0, 1, 0, 0)]);

        Assert.Equal(new float[] { 0, 1, 0, 0 }, (await rig[VectorTier.Edge].GetAsync("k"))!.Vector.ToArray());
        Assert.Equal(new float[] { 0, 1, 0, 0 }, (await rig.Collection.GetAsync("k"))!.Vector.ToArray());
    }
}
