namespace Ghostie.Sync.Vectors.Tiers.Tests;

public sealed class TierMigrationTests
{
    [Fact]
    public async Task Rebalance_FollowsAccessPatternsOverTime()
    {
        var rig = new TierRig();
        TieredVectorCollection c = rig.Collection;
        await c.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0), TierRig.Record("b", 0, 1, 0, 0), TierRig.Record("c", 0, 0, 1, 0), TierRig.Record("d", 0, 0, 0, 1)]);

        // New memories are presumed relevant and just used: context.
        Assert.Equal(["a", "b", "c", "d"], rig[VectorTier.Context].Keys);

        // Eight days without use: every one is stale, demoted to historical.
        rig.Time.Advance(TimeSpan.FromDays(8));
        VectorRebalanceReport demoted = await c.RebalanceAsync();
        Assert.Equal(4, demoted.Moves.Count);
        Assert.All(demoted.Moves, m => Assert.False(m.IsPromotion));
        Assert.Empty(rig[VectorTier.Context].Keys);
        Assert.Equal(["a", "b", "c", "d"], rig[VectorTier.Historical].Keys);

        // b is read again; the user pins c (interaction 0.95): b back to context, c to critical.
        Assert.NotNull(await c.GetAsync("b"));
        Assert.True(c.RecordInteraction("c", 0.95));
        VectorRebalanceReport promoted = await c.RebalanceAsync();
        Assert.Equal([new VectorMove("b", VectorTier.Historical, VectorTier.Context), new VectorMove("c", VectorTier.Historical, VectorTier.Critical)],
            promoted.Moves.OrderBy(m => m.Key, StringComparer.Ordinal));
        Assert.Equal(["c"], rig[VectorTier.Critical].Keys);
        Assert.Equal(["b"], rig[VectorTier.Context].Keys);
        Assert.Equal(["a", "d"], rig[VectorTier.Historical].Keys);

        // Two hours later c is no longer in the active conversation: demoted to context (still recent and relevant).
        rig.Time.Advance(TimeSpan.FromHours(2));
        VectorRebalanceReport later = await c.RebalanceAsync();
        Assert.Equal([new VectorMove("c", VectorTier.Critical, VectorTier.Context)], later.Moves);
        Assert.Equal(["b", "c"], rig[VectorTier.Context].Keys);
        Assert.Equal(VectorTier.Context, c.GetUsage("c")!.Tier);
        Assert.Equal(TierRig.Start + TimeSpan.FromDays(8) + TimeSpan.FromHours(2), later.At);

        // Moves carry the whole record, and nothing is lost or duplicated.
        VectorRecord? moved = await rig[VectorTier.Context].GetAsync("c");
        Assert.Equal(new float[] { 0, 0, 1, 0 }, moved!.Vector.ToArray());
        Assert.Equal("c", moved.Data!["memory"]);
        Assert.Equal(4, await c.CountAsync());

        // A pass with nothing to do moves nothing.
        Assert.Empty((await c.RebalanceAsync()).Moves);
    }

    [Fact]
    public async Task Rebalance_HotVector_IsPromotedByFrequencyAlone()
    {
        var options = new VectorTiersOptions();
        options.Context.Criteria.MaxIdle = TimeSpan.FromDays(1); // recency alone would not bring it back
        var rig = new TierRig(options);
        await rig.Collection.UpsertAsync([TierRig.Record("hot", 1, 0, 0, 0), TierRig.Record("cold", 0, 1, 0, 0)]);
        rig.Time.Advance(TimeSpan.FromDays(30));
        await rig.Collection.RebalanceAsync();
        Assert.Equal(["cold", "hot"], rig[VectorTier.Historical].Keys);

        // Two uses, then two quiet days: 2 * 2^(-2/7) * ln2/7 = 0.162 uses/day >= 0.1, idle 2 days > 1 day.
        rig.Collection.RecordAccess("hot");
        rig.Collection.RecordAccess("hot");
        rig.Time.Advance(TimeSpan.FromDays(2));
        VectorRebalanceReport report = await rig.Collection.RebalanceAsync();

        Assert.Equal([new VectorMove("hot", VectorTier.Historical, VectorTier.Context)], report.Moves);
        Assert.Equal(0.162, rig.Collection.GetUsage("hot")!.AccessFrequencyAt(report.At, options.FrequencyHalfLife), 3);
        Assert.Equal(["cold"], rig[VectorTier.Historical].Keys);
    }

    [Fact]
    public async Task Rebalance_SourceTierFails_ReportsFailureAndKeepsVectorInPlace()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0)]);
        rig.Time.Advance(TimeSpan.FromDays(8));
        rig[VectorTier.Historical].Fail = true;

        VectorRebalanceReport report = await rig.Collection.RebalanceAsync();

        VectorMoveFailure failure = Assert.Single(report.Failures);
        Assert.Equal(("a", VectorTier.Context, VectorTier.Historical), (failure.Key, failure.From, failure.To));
        Assert.Contains("InvalidOperationException", failure.Error, StringComparison.Ordinal);
        Assert.Empty(report.Moves);
        Assert.Equal(["a"], rig[VectorTier.Context].Keys);
        Assert.Equal(VectorTier.Context, rig.Collection.GetUsage("a")!.Tier);

        rig[VectorTier.Historical].Fail = false;
        Assert.Single((await rig.Collection.RebalanceAsync()).Moves);
        Assert.Equal(["a"], rig[VectorTier.Historical].Keys);
    }

    [Fact]
    public async Task Rebalance_WriteDuringAMove_LosesNoUpdate()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        rig.Time.Advance(TimeSpan.FromDays(8));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig[VectorTier.Context].GetGate = gate;

        // The move has read k from context and waits; a new version of k is written meanwhile.
        Task<VectorRebalanceReport> rebalance = rig.Collection.RebalanceAsync();
        await rig[VectorTier.Context].GetEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Task write = rig.Collection.UpsertAsync([TierRig.Record("k", 0, 1, 0, 0)]);
        gate.SetResult();
        await Task.WhenAll(rebalance, write).WaitAsync(TimeSpan.FromSeconds(10));

        var holder = Assert.Single(rig.Tiers, t => t.Key != VectorTier.Edge && t.Value.Keys.Contains("k"));
        Assert.Equal(new float[] { 0, 1, 0, 0 }, (await holder.Value.GetAsync("k"))!.Vector.ToArray());
        Assert.Equal(holder.Key, rig.Collection.GetUsage("k")!.Tier);
    }

    [Fact]
    public async Task Rebalance_SourceDeleteFails_LeftOverCopyIsRemovedByTheNextPass()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        rig.Time.Advance(TimeSpan.FromDays(8));
        rig[VectorTier.Context].FailDeletes = true;

        VectorRebalanceReport first = await rig.Collection.RebalanceAsync();
        Assert.Single(first.Moves);
        Assert.Equal(["k"], rig[VectorTier.Context].Keys); // left behind
        Assert.Equal(["k"], rig[VectorTier.Historical].Keys);

        rig[VectorTier.Context].FailDeletes = false;
        await rig.Collection.RebalanceAsync();

        Assert.Empty(rig[VectorTier.Context].Keys);
        Assert.Equal(["k"], rig[VectorTier.Historical].Keys);
    }

    [Fact]
    public async Task Rebalance_FallbackTierOverCapacity_KeepsEveryVectorAndWarns()
    {
        var options = new VectorTiersOptions();
        options.Historical.Capacity = 2;
        var rig = new TierRig(options);
        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0), TierRig.Record("b", 0, 1, 0, 0), TierRig.Record("c", 0, 0, 1, 0)]);
        rig.Time.Advance(TimeSpan.FromDays(8));

        VectorRebalanceReport report = await rig.Collection.RebalanceAsync();

        Assert.Equal(3, report.Counts[VectorTier.Historical]);
        Assert.Equal(["a", "b", "c"], rig[VectorTier.Historical].Keys);
        Assert.Contains(report.Warnings, w => w.Contains("Historical", StringComparison.Ordinal) && w.Contains("capacity of 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upsert_NewVectorWithFullTier_GoesToTheNextTier()
    {
        var options = new VectorTiersOptions();
        options.Context.Capacity = 1;
        var rig = new TierRig(options);

        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0)]);
        await rig.Collection.UpsertAsync([TierRig.Record("b", 0, 1, 0, 0)]);
        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 1, 0, 0)]); // an update stays where it is

        Assert.Equal(["a"], rig[VectorTier.Context].Keys);
        Assert.Equal(["b"], rig[VectorTier.Historical].Keys);
        Assert.Equal(new float[] { 1, 1, 0, 0 }, (await rig[VectorTier.Context].GetAsync("a"))!.Vector.ToArray());
    }

    [Fact]
    public async Task Upsert_UnknownKeyWithStaleCopyElsewhere_RemovesTheStaleCopy()
    {
        var rig = new TierRig();
        await rig[VectorTier.Historical].UpsertAsync([TierRig.Record("k", 0, 0, 0, 1)]); // left by an earlier process

        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);

        Assert.Equal(["k"], rig[VectorTier.Context].Keys);
        Assert.Empty(rig[VectorTier.Historical].Keys);
    }

    [Fact]
    public async Task Delete_RemovesFromHomeTierAndEdge_AndForgetsUsage()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        await rig.Collection.SearchWithReportAsync(new float[] { 1, 0, 0, 0 });
        Assert.Equal(["k"], rig[VectorTier.Edge].Keys);

        Assert.True(await rig.Collection.DeleteAsync("k"));

        Assert.Empty(rig[VectorTier.Context].Keys);
        Assert.Empty(rig[VectorTier.Edge].Keys);
        Assert.Null(rig.Collection.GetUsage("k"));
        Assert.False(await rig.Collection.DeleteAsync("k"));
    }

    [Fact]
    public async Task ExportThenImportUsage_RestoresPlacementInANewProcess()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0)]);
        rig.Collection.RecordInteraction("a", 1);
        await rig.Collection.RebalanceAsync();
        IReadOnlyList<VectorUsage> saved = rig.Collection.ExportUsage();

        var restarted = new TieredVectorCollection("notes", TierRig.Model,
            rig.Tiers.ToDictionary(t => t.Key, t => (IVectorCollection)t.Value), rig.Options, rig.Time);
        restarted.ImportUsage(saved);

        Assert.Equal(VectorTier.Critical, restarted.GetUsage("a")!.Tier);
        Assert.Equal(1, restarted.GetUsage("a")!.InteractionScore);
        var onlyHistorical = new TieredVectorCollection("notes", TierRig.Model,
            new Dictionary<VectorTier, IVectorCollection> { [VectorTier.Historical] = rig[VectorTier.Historical] }, rig.Options, rig.Time);
        Assert.Equal(GhostieErrorCode.InvalidArgument, Assert.Throws<GhostieSyncException>(() => onlyHistorical.ImportUsage(saved)).Code);
    }

    [Fact]
    public void Create_TierOfOtherModel_ThrowsMismatch()
    {
        var tiers = new Dictionary<VectorTier, IVectorCollection>
        {
            [VectorTier.Historical] = new MemoryVectorCollection("h", new EmbeddingModelInfo("test-model", 8)),
        };

        Assert.Throws<VectorModelMismatchException>(() => new TieredVectorCollection("notes", TierRig.Model, tiers));
    }
}
