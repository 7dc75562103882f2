namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>Failures that leave a copy behind in a tier never bring back a deleted vector nor serve an outdated one;
/// the report of a failed move accounts for every vector; a search never waits for a write.</summary>
public sealed class StaleCopyTests
{
    private static readonly float[] Query = [1, 0, 0, 0];

    [Fact]
    public async Task Delete_TierFails_ThrowsTransient_AndTheVectorNeverComesBack()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("gone", 1, 0, 0, 0), TierRig.Record("kept", 0.5f, 0.5f, 0, 0)]);
        rig[VectorTier.Context].FailDeletes = true;

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => rig.Collection.DeleteAsync("gone"));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("Context failed", error.Message, StringComparison.Ordinal);
        Assert.Equal(["gone", "kept"], rig[VectorTier.Context].Keys); // the copy is still there...
        var hits = await rig.Collection.SearchWithReportAsync(Query);
        Assert.Equal(["kept"], hits.Results.Select(r => r.Record.Key)); // ...but never served
        Assert.Null(await rig.Collection.GetAsync("gone"));
        Assert.Null(rig.Collection.GetUsage("gone")); // and a read did not start tracking it again
        Assert.Equal([("gone", VectorTier.Context)], rig.Collection.GetStaleCopies());
        Assert.Equal(1, await rig.Collection.CountAsync()); // nor counted

        rig[VectorTier.Context].FailDeletes = false;
        await rig.Collection.RebalanceAsync();

        Assert.Equal(["kept"], rig[VectorTier.Context].Keys);
        Assert.Empty(rig.Collection.GetStaleCopies());
        Assert.Equal(1, await rig.Collection.CountAsync());
    }

    [Fact]
    public async Task Delete_TierFails_ThenRetried_Deletes()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("gone", 1, 0, 0, 0)]);
        rig[VectorTier.Context].FailDeletes = true;
        await Assert.ThrowsAsync<GhostieSyncException>(() => rig.Collection.DeleteAsync("gone"));
        rig[VectorTier.Context].FailDeletes = false;

        Assert.True(await rig.Collection.DeleteAsync("gone"));

        Assert.Empty(rig[VectorTier.Context].Keys);
        Assert.Empty(rig.Collection.GetStaleCopies());
    }

    [Fact]
    public async Task Delete_TierFails_ThenWrittenAgain_ServesTheNewVersion_AndRebalanceKeepsIt()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        rig[VectorTier.Context].FailDeletes = true;
        await Assert.ThrowsAsync<GhostieSyncException>(() => rig.Collection.DeleteAsync("k"));
        rig[VectorTier.Context].FailDeletes = false;

        await rig.Collection.UpsertAsync([TierRig.Record("k", 0, 1, 0, 0)]); // back in context, overwriting the stale copy
        await rig.Collection.RebalanceAsync();

        VectorSearchResult hit = Assert.Single((await rig.Collection.SearchWithReportAsync(new float[] { 0, 1, 0, 0 })).Results);
        Assert.Equal("k", hit.Record.Key);
        Assert.Equal(1f, hit.Score, 5);
        Assert.Equal(["k"], rig[VectorTier.Context].Keys);
    }

    [Fact]
    public async Task Delete_EdgeFails_TheCachedCopyIsNeverServed()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("gone", 1, 0, 0, 0)]);
        await rig.Collection.SearchWithReportAsync(Query);
        Assert.Equal(["gone"], rig[VectorTier.Edge].Keys);
        rig[VectorTier.Edge].FailDeletes = true;

        await Assert.ThrowsAsync<GhostieSyncException>(() => rig.Collection.DeleteAsync("gone"));

        Assert.Empty(rig[VectorTier.Context].Keys);
        Assert.Empty((await rig.Collection.SearchWithReportAsync(Query)).Results);
        rig[VectorTier.Edge].FailDeletes = false;
        await rig.Collection.RebalanceAsync();
        Assert.Empty(rig[VectorTier.Edge].Keys);
    }

    [Fact]
    public async Task Upsert_EdgeRefreshFails_TheOldCachedCopyIsNeverServed()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        await rig.Collection.SearchWithReportAsync(Query);
        Assert.Equal(["k"], rig[VectorTier.Edge].Keys);
        rig[VectorTier.Edge].FailUpserts = true;

        await rig.Collection.UpsertAsync([TierRig.Record("k", 0, 1, 0, 0)]); // the home tier is written: no error

        Assert.False(rig.Collection.GetUsage("k")!.InEdgeCache);
        var found = await rig.Collection.SearchWithReportAsync(Query, new VectorSearchOptions { IncludeVectors = true });
        VectorSearchResult hit = Assert.Single(found.Results);
        Assert.Equal(new float[] { 0, 1, 0, 0 }, hit.Record.Vector.ToArray()); // the new version, not the cached old one
        Assert.Equal(0f, hit.Score, 5);
        Assert.Equal(new float[] { 0, 1, 0, 0 }, (await rig.Collection.GetAsync("k"))!.Vector.ToArray());

        rig[VectorTier.Edge].FailUpserts = false;
        await rig.Collection.RebalanceAsync();
        Assert.DoesNotContain(("k", VectorTier.Edge), rig.Collection.GetStaleCopies());
    }

    [Fact]
    public async Task Search_EdgeSufficient_AStaleEdgeCopyDoesNotSkipTheRemoteTiers()
    {
        var rig = new TierRig(new VectorTiersOptions { EdgeSufficientScore = 0.5f });
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        await rig.Collection.SearchWithReportAsync(Query, new VectorSearchOptions { Top = 1 });
        rig[VectorTier.Edge].FailUpserts = true;
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 1, 0, 0)]); // the edge keeps the old copy, marked stale

        TieredSearchResult found = await rig.Collection.SearchWithReportAsync(Query, new VectorSearchOptions { Top = 1 });

        VectorSearchResult hit = Assert.Single(found.Results);
        Assert.Equal(0.7071f, hit.Score, 3); // the new version, from its home tier
        Assert.Equal(TierSearchOutcome.Answered, Assert.Single(found.Tiers, t => t.Tier == VectorTier.Context).Outcome);
    }

    [Fact]
    public async Task Rebalance_ReadFailsMidChunk_EveryPlannedMoveIsReported()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("a", 1, 0, 0, 0), TierRig.Record("b", 0, 1, 0, 0), TierRig.Record("c", 0, 0, 1, 0)]);
        rig.Time.Advance(TimeSpan.FromDays(8));
        rig[VectorTier.Context].FailGetsAfter = 1; // a is read, then the tier breaks

        VectorRebalanceReport report = await rig.Collection.RebalanceAsync();

        Assert.Empty(report.Moves);
        Assert.Equal(["a", "b", "c"], report.Failures.Select(f => f.Key).Order(StringComparer.Ordinal));
        Assert.All(report.Failures, f => Assert.Equal((VectorTier.Context, VectorTier.Historical), (f.From, f.To)));
        Assert.Equal(["a", "b", "c"], rig[VectorTier.Context].Keys);
        Assert.Empty(rig[VectorTier.Historical].Keys);
    }

    [Fact]
    public async Task Rebalance_TargetWriteFails_PartialCopiesAreNotServedLater()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]);
        rig.Time.Advance(TimeSpan.FromDays(8));
        await rig[VectorTier.Historical].UpsertAsync([TierRig.Record("k", 1, 0, 0, 0)]); // as if the failed batch got through in part
        rig[VectorTier.Historical].FailUpserts = true;

        VectorRebalanceReport report = await rig.Collection.RebalanceAsync();
        Assert.Single(report.Failures);
        Assert.Equal(VectorTier.Context, rig.Collection.GetUsage("k")!.Tier);

        // Updated at home: the partial copy in historical is older and must not be served.
        await rig.Collection.UpsertAsync([TierRig.Record("k", 0, 1, 0, 0)]);
        VectorSearchResult hit = Assert.Single((await rig.Collection.SearchWithReportAsync(Query)).Results);
        Assert.Equal(0f, hit.Score, 5);
    }

    [Fact]
    public async Task Search_CachingOnEdge_DoesNotWaitForARunningMove()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync([TierRig.Record("k", 1, 0, 0, 0), TierRig.Record("other", 0, 1, 0, 0)]);
        rig.Time.Advance(TimeSpan.FromDays(8));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig[VectorTier.Context].GetGate = gate;
        Task<VectorRebalanceReport> rebalance = rig.Collection.RebalanceAsync(); // holds the write gate, waiting on a slow read
        await rig[VectorTier.Context].GetEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Task<TieredSearchResult> search = rig.Collection.SearchWithReportAsync(Query);
        Task done = await Task.WhenAny(search, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.Same(search, done);
        Assert.Equal("k", (await search).Results[0].Record.Key);
        gate.SetResult();
        await rebalance.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Rebalance_ReportsProgressPerBatch_AndCancellationKeepsTheMovesMade()
    {
        var rig = new TierRig(new VectorTiersOptions { MigrationBatchSize = 2 });
        await rig.Collection.UpsertAsync(Enumerable.Range(0, 5).Select(i => TierRig.Record("k" + i, 1, i, 0, 0)));
        rig.Time.Advance(TimeSpan.FromDays(8));
        var seen = new List<VectorRebalanceProgress>();

        await rig.Collection.RebalanceAsync(new SyncProgress(seen.Add));

        Assert.Equal([new(5, 0, 0), new(5, 2, 0), new(5, 4, 0), new(5, 5, 0)], seen);

        // A second collection, cancelled from its progress after the first batch: two moved, the rest stay put.
        var other = new TierRig(new VectorTiersOptions { MigrationBatchSize = 2 });
        await other.Collection.UpsertAsync(Enumerable.Range(0, 5).Select(i => TierRig.Record("k" + i, 1, i, 0, 0)));
        other.Time.Advance(TimeSpan.FromDays(8));
        using var cts = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            other.Collection.RebalanceAsync(new SyncProgress(p => { if (p.Moved == 2) { cts.Cancel(); } }), cts.Token));
        Assert.Equal(2, other[VectorTier.Historical].Keys.Count);
        Assert.Equal(3, other[VectorTier.Context].Keys.Count);
        Assert.Equal(2, other.Collection.GetTierCounts()[VectorTier.Historical]);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<VectorRebalanceProgress> report) : IProgress<VectorRebalanceProgress>
    {
        public void Report(VectorRebalanceProgress value) => report(value);
    }
}
