namespace Ghostie.Sync.Vectors.Tiers.Tests;

public sealed class TieredSearchTests
{
    private static readonly float[] Query = [1, 0.2f, 0, 0];

    /// <summary>a in critical, b in context, c in historical (placed directly, usage imported).</summary>
    private static async Task<TierRig> SpreadAsync(VectorTiersOptions? options = null)
    {
        var rig = new TierRig(options);
        await rig[VectorTier.Critical].UpsertAsync([TierRig.Record("a", 1, 0, 0, 0)]);
        await rig[VectorTier.Context].UpsertAsync([TierRig.Record("b", 1, 0.5f, 0, 0)]);
        await rig[VectorTier.Historical].UpsertAsync([TierRig.Record("c", 1, 1, 0, 0)]);
        rig.Collection.ImportUsage(
        [
            new VectorUsage("a", VectorTier.Critical, TierRig.Start, TierRig.Start, 0, 0, 1, 1, false),
            new VectorUsage("b", VectorTier.Context, TierRig.Start, TierRig.Start, 0, 0, 0, 1, false),
            new VectorUsage("c", VectorTier.Historical, TierRig.Start, TierRig.Start, 0, 0, 0, 1, false),
        ]);
        return rig;
    }

    [Fact]
    public async Task Search_AllTiersAnswer_MergesBestFirst()
    {
        TierRig rig = await SpreadAsync();

        TieredSearchResult result = await rig.Collection.SearchWithReportAsync(Query);

        Assert.Equal(["a", "b", "c"], result.Results.Select(r => r.Record.Key));
        Assert.True(result.IsComplete);
        Assert.Equal([VectorTier.Edge, VectorTier.Critical, VectorTier.Context, VectorTier.Historical], result.Tiers.Select(t => t.Tier));
        Assert.All(result.Results, r => Assert.True(r.Record.Vector.IsEmpty)); // vectors only when asked for
        Assert.Equal(1, rig.Collection.GetUsage("c")!.UseCount);
    }

    [Fact]
    public async Task Search_TierFails_ReturnsOthersAndReportsTheFailure()
    {
        TierRig rig = await SpreadAsync();
        rig[VectorTier.Context].Fail = true;

        TieredSearchResult result = await rig.Collection.SearchWithReportAsync(Query);

        Assert.Equal(["a", "c"], result.Results.Select(r => r.Record.Key));
        TierSearchReport failed = Assert.Single(result.Tiers, t => t.Outcome == TierSearchOutcome.Failed);
        Assert.Equal(VectorTier.Context, failed.Tier);
        Assert.Contains("InvalidOperationException", failed.Error, StringComparison.Ordinal);
        Assert.Equal([VectorTier.Context], result.Failed);
        Assert.False(result.IsComplete);
    }

    [Fact]
    public async Task Search_TierHangs_TimesOutOnTheClock_AndReturnsOthers()
    {
        TierRig rig = await SpreadAsync();
        rig[VectorTier.Historical].Hang = true;

        Task<TieredSearchResult> search = rig.Collection.SearchWithReportAsync(Query);
        await rig[VectorTier.Historical].HangEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await WaitUntilAsync(() => rig.Time.ActiveTimers == 1); // only the hanging tier's timeout is left
        Assert.False(search.IsCompleted);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        TieredSearchResult result = await search.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["a", "b"], result.Results.Select(r => r.Record.Key));
        TierSearchReport timedOut = Assert.Single(result.Tiers, t => t.Outcome == TierSearchOutcome.TimedOut);
        Assert.Equal(VectorTier.Historical, timedOut.Tier);
        Assert.Equal(TimeSpan.FromSeconds(2), timedOut.Elapsed);
        Assert.Equal([VectorTier.Edge, VectorTier.Critical, VectorTier.Context], result.Answered);
    }

    [Fact]
    public async Task Search_NoTierAnswers_ThrowsTransientBackendUnavailable()
    {
        TierRig rig = await SpreadAsync();
        foreach (MemoryVectorCollection tier in rig.Tiers.Values)
        {
            tier.Fail = true;
        }

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => rig.Collection.SearchWithReportAsync(Query));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("Historical failed", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<GhostieSyncException>(async () => await rig.Collection.SearchAsync(Query).ToListAsync());
    }

    [Fact]
    public async Task Search_SameKeyInSeveralTiers_ReturnsItOnceWithItsBestScore()
    {
        TierRig rig = await SpreadAsync();
        await rig[VectorTier.Historical].UpsertAsync([TierRig.Record("a", 0, 1, 0, 0)]); // stale copy of a
        await rig[VectorTier.Edge].UpsertAsync([TierRig.Record("b", 1, 0.5f, 0, 0)]);   // cached copy of b
        await rig[VectorTier.Critical].UpsertAsync([TierRig.Record("c", 0, 0, 1, 0)]);  // stale copy of c, in a faster tier

        TieredSearchResult result = await rig.Collection.SearchWithReportAsync(Query, new VectorSearchOptions { Top = 10 });

        Assert.Equal(["a", "b", "c"], result.Results.Select(r => r.Record.Key));
        Assert.Equal(BruteForce.Cosine(Query, [1, 0, 0, 0]), result.Results[0].Score, 5);
        Assert.Equal(BruteForce.Cosine(Query, [1, 1, 0, 0]), result.Results[2].Score, 5); // the better, slower copy wins
    }

    [Fact]
    public async Task Search_TopAndThreshold_ApplyToTheMergedList()
    {
        TierRig rig = await SpreadAsync();

        TieredSearchResult top2 = await rig.Collection.SearchWithReportAsync(Query, new VectorSearchOptions { Top = 2 });
        TieredSearchResult threshold = await rig.Collection.SearchWithReportAsync(Query, new VectorSearchOptions { MinScore = 0.9f });

        Assert.Equal(["a", "b"], top2.Results.Select(r => r.Record.Key));
        Assert.All(threshold.Results, r => Assert.True(r.Score >= 0.9f));
        Assert.Equal(["a", "b"], threshold.Results.Select(r => r.Record.Key)); // c scores 0.832
    }

    [Fact]
    public async Task Search_EdgeSufficient_SkipsRemoteTiers()
    {
        var options = new VectorTiersOptions { EdgeSufficientScore = 0.9f };
        TierRig rig = await SpreadAsync(options);
        await rig.Collection.SearchWithReportAsync(Query, new VectorSearchOptions { Top = 1 }); // caches a on the edge
        int remoteSearches = rig[VectorTier.Critical].Searches + rig[VectorTier.Historical].Searches;

        TieredSearchResult result = await rig.Collection.SearchWithReportAsync(Query, new VectorSearchOptions { Top = 1 });

        Assert.Equal(["a"], result.Results.Select(r => r.Record.Key));
        Assert.Equal(TierSearchOutcome.Answered, result.Tiers[0].Outcome);
        Assert.All(result.Tiers.Skip(1), t => Assert.Equal(TierSearchOutcome.Skipped, t.Outcome));
        Assert.Equal(remoteSearches, rig[VectorTier.Critical].Searches + rig[VectorTier.Historical].Searches);
        Assert.True(result.IsComplete);
    }

    [Fact]
    public async Task Search_CallerCancels_ThrowsCancellation_NotATierFailure()
    {
        TierRig rig = await SpreadAsync();
        rig[VectorTier.Context].Hang = true;
        using var cts = new CancellationTokenSource();

        Task<TieredSearchResult> search = rig.Collection.SearchWithReportAsync(Query, cancellationToken: cts.Token);
        await rig[VectorTier.Context].HangEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => search);
    }

    [Fact]
    public async Task Search_QueryOfWrongDimension_ThrowsMismatch()
    {
        TierRig rig = await SpreadAsync();

        await Assert.ThrowsAsync<VectorModelMismatchException>(() => rig.Collection.SearchWithReportAsync(new float[] { 1, 0 }));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "condition not reached");
    }
}
