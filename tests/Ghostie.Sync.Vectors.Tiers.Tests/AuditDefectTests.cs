namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>Defects an audit of the vector tiers found (issue 18 item 5). Each test failed before its fix.</summary>
public sealed class AuditDefectTests
{
    private static readonly float[] V1 = [1, 0, 0, 0];
    private static readonly float[] V2 = [0, 1, 0, 0];

    private static VectorRecord Version(string key, float[] vector, string version) =>
        new(key, vector, new Dictionary<string, string> { ["version"] = version });

    [Fact]
    public void SameCollectionForTwoTiers_IsRefusedAtStart_NamingBothTiers()
    {
        var shared = new MemoryVectorCollection("notes", TierRig.Model);
        var tiers = new Dictionary<VectorTier, IVectorCollection> { [VectorTier.Critical] = shared, [VectorTier.Historical] = shared };

        var error = Assert.ThrowsAny<GhostieSyncException>(() => new TieredVectorCollection("notes", TierRig.Model, tiers));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("Critical", error.Message, StringComparison.Ordinal);
        Assert.Contains("Historical", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartWithoutImport_GetThenUpdate_NeverServesTheOldEdgeCopy()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([Version("k", V1, "1")]);
        await rig.Collection.SearchWithReportAsync(V1); // the result is cached on the edge
        Assert.Contains("k", rig[VectorTier.Edge].Keys);

        TieredVectorCollection restarted = rig.Reopen();
        Assert.NotNull(await restarted.GetAsync("k"));
        await restarted.UpsertAsync([Version("k", V2, "2")]);

        TieredSearchResult hits = await restarted.SearchWithReportAsync(V1, new VectorSearchOptions { Top = 1 });
        Assert.Equal("2", hits.Results.Single().Record.Data!["version"]);

        await restarted.RebalanceAsync();
        hits = await restarted.SearchWithReportAsync(V1, new VectorSearchOptions { Top = 1 });
        Assert.Equal("2", hits.Results.Single().Record.Data!["version"]);
        foreach (MemoryVectorCollection tier in rig.Tiers.Values.Where(t => t.Keys.Contains("k")))
        {
            Assert.Equal("2", (await tier.GetAsync("k"))!.Data!["version"]); // no tier keeps the old version
        }
    }

    [Fact]
    public async Task ImportOfUsageSavedBeforeARebalance_FindsTheVectorWhereItMoved()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        IReadOnlyList<VectorUsage> saved = rig.Collection.ExportUsage(); // k in Context
        Assert.Equal(VectorTier.Context, saved.Single().Tier);
        rig.Collection.RecordInteraction("k", 1.0);
        await rig.Collection.RebalanceAsync();
        Assert.Equal(["k"], rig[VectorTier.Critical].Keys); // moved to the dearest tier after the save

        TieredVectorCollection restarted = rig.Reopen();
        restarted.ImportUsage(saved);
        rig.Time.Advance(TimeSpan.FromDays(8));
        VectorRebalanceReport report = await restarted.RebalanceAsync();

        Assert.Empty(report.Failures);
        Assert.Equal(VectorTier.Historical, restarted.GetUsage("k")?.Tier);
        Assert.Equal(["k"], rig[VectorTier.Historical].Keys);
        Assert.Empty(rig[VectorTier.Critical].Keys);
    }

    [Fact]
    public async Task SearchAfterRestart_TracksWhatItReturns()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0), TierRig.Record("b", 0.9f, 0.1f, 0, 0)]);

        TieredVectorCollection restarted = rig.Reopen();
        TieredSearchResult hits = await restarted.SearchWithReportAsync(V1);

        Assert.Equal(["a", "b"], hits.Results.Select(r => r.Record.Key));
        Assert.Equal(VectorTier.Context, restarted.GetUsage("a")?.Tier);
        Assert.Equal(1, restarted.GetUsage("b")?.UseCount);
        Assert.Equal(2, restarted.GetTierCounts()[VectorTier.Context]);
        Assert.True(restarted.EstimateMonthlyCost().MonthlyTotal > 0);
    }

    [Fact]
    public async Task WritingAnExistingKey_CountsAsAUse()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        Assert.Equal(0, rig.Collection.GetUsage("k")!.UseCount);

        rig.Time.Advance(TimeSpan.FromMinutes(1));
        await rig.Collection.UpsertAsync([TierRig.Record("k", 0, 1, 0, 0)]);

        VectorUsage usage = rig.Collection.GetUsage("k")!;
        Assert.Equal(1, usage.UseCount);
        Assert.True(usage.DecayedUses > 0.99);
        Assert.Equal(rig.Time.GetUtcNow(), usage.LastUsedAt);
    }

    [Fact]
    public async Task Defaults_AVectorUsed50TimesReachesTheCriticalTier()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("hot", 1, 0, 0, 0), TierRig.Record("cold", 0, 1, 0, 0)]);
        for (int i = 0; i < 50; i++)
        {
            rig.Time.Advance(TimeSpan.FromMinutes(10));
            Assert.NotNull(await rig.Collection.GetAsync("hot"));
        }

        await rig.Collection.RebalanceAsync();

        Assert.Equal(VectorTier.Critical, rig.Collection.GetUsage("hot")?.Tier);
        Assert.Equal(VectorTier.Context, rig.Collection.GetUsage("cold")?.Tier);
    }

    [Fact]
    public async Task Defaults_TheEdgeAnswersAloneWhenItHoldsCloseMatches()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0), TierRig.Record("b", 0.99f, 0.01f, 0, 0), TierRig.Record("c", 0, 0, 1, 0)]);
        await rig.Collection.SearchWithReportAsync(V1, new VectorSearchOptions { Top = 2 }); // caches a and b on the edge
        int before = rig[VectorTier.Context].Searches;

        TieredSearchResult hits = await rig.Collection.SearchWithReportAsync(V1, new VectorSearchOptions { Top = 2 });

        Assert.Equal(["a", "b"], hits.Results.Select(r => r.Record.Key));
        Assert.Equal(before, rig[VectorTier.Context].Searches);
        Assert.All(hits.Tiers.Where(t => t.Tier != VectorTier.Edge), t => Assert.Equal(TierSearchOutcome.Skipped, t.Outcome));

        // A far query is not answered by the edge alone.
        TieredSearchResult far = await rig.Collection.SearchWithReportAsync(new float[] { 0, 0, 1, 0 }, new VectorSearchOptions { Top = 1 });
        Assert.Equal("c", far.Results.Single().Record.Key);
    }
}
