namespace Ghostie.Sync.Vectors.Tiers.Tests;

public sealed class CostModelTests
{
    [Fact]
    public void Estimate_SeedPlan_HundredUsers_MatchesHandComputedFigures()
    {
        // 25,000 vectors per user, fast tiers full: critical 1,000, context 5,000, historical 19,000, edge 200 copies.
        // x 100 users: 100,000 x 0.75/1k = 75; 500,000 x 0.35/1k = 175; 1,900,000 x 0.12/1k = 228; edge free.
        VectorCostEstimate estimate = VectorCostModel.Estimate(new VectorTiersOptions(), new VectorUsageProfile
        {
            Users = 100,
            VectorsPerUser = 25_000,
            EdgeHitRatio = 0.6,
        });

        Assert.Equal([VectorTier.Edge, VectorTier.Critical, VectorTier.Context, VectorTier.Historical], estimate.Lines.Select(l => l.Tier));
        Assert.Equal([20_000L, 100_000L, 500_000L, 1_900_000L], estimate.Lines.Select(l => l.Vectors));
        Assert.Equal([0m, 75m, 175m, 228m], estimate.Lines.Select(l => l.StorageCost));
        Assert.Equal(478m, estimate.MonthlyTotal);
        Assert.Equal(4.78m, estimate.PerUser);
        Assert.Empty(estimate.Warnings);

        // 10 ms on the edge, plus 40% of searches waiting for the slowest remote tier (300 ms): 130 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(130), estimate.ExpectedSearchLatency);
    }

    [Fact]
    public void Estimate_BeyondCapacity_WarnsAndStillPrices()
    {
        VectorCostEstimate estimate = VectorCostModel.Estimate(new VectorTiersOptions(), new VectorUsageProfile { VectorsPerUser = 30_000 });

        TierCostLine historical = estimate.Lines.Single(l => l.Tier == VectorTier.Historical);
        Assert.Equal(24_000, historical.Vectors);
        Assert.True(historical.OverCapacity);
        Assert.Equal(2.88m, historical.StorageCost);
        Assert.Equal(5.38m, estimate.MonthlyTotal); // 0.75 + 1.75 + 2.88
        Assert.Single(estimate.Warnings);
        Assert.Equal(TimeSpan.FromMilliseconds(310), estimate.ExpectedSearchLatency);
    }

    [Fact]
    public void Estimate_QueryPricing_ChargesOnlySearchesTheEdgeDidNotAnswer()
    {
        var plan = new VectorTiersOptions();
        plan.Critical.CostPerMillionQueries = 2m;
        plan.Edge.CostPerMillionQueries = 1m;

        VectorCostEstimate estimate = VectorCostModel.Estimate(plan, new VectorUsageProfile
        {
            VectorsPerTier = new Dictionary<VectorTier, long> { [VectorTier.Critical] = 10 },
            QueriesPerUserPerMonth = 2_000_000,
            EdgeHitRatio = 0.25,
            Tiers = [VectorTier.Edge, VectorTier.Critical],
        });

        TierCostLine critical = estimate.Lines.Single(l => l.Tier == VectorTier.Critical);
        Assert.Equal(1_500_000, critical.Queries);
        Assert.Equal(3m, critical.QueryCost);
        Assert.Equal(2m, estimate.Lines.Single(l => l.Tier == VectorTier.Edge).QueryCost);
        Assert.Equal(3m + 2m + 0.0075m, estimate.MonthlyTotal); // 10 vectors in critical: 0.01 x 0.75
    }

    [Fact]
    public async Task EstimateMonthlyCost_OfACollection_UsesItsActualPlacement()
    {
        var rig = new TierRig();
        await rig.Collection.UpsertAsync(Enumerable.Range(0, 2_000).Select(i => TierRig.Record("k" + i, 1, i, 0, 0)));
        rig.Time.Advance(TimeSpan.FromDays(8));
        await rig.Collection.RebalanceAsync(); // all stale: historical

        VectorCostEstimate estimate = rig.Collection.EstimateMonthlyCost();

        Assert.Equal(0.24m, estimate.MonthlyTotal); // 2,000 x 0.12 / 1,000
        Assert.Equal(2_000, estimate.Lines.Single(l => l.Tier == VectorTier.Historical).Vectors);
    }

    [Fact]
    public void Estimate_InvalidUsage_Throws()
    {
        var error = Assert.Throws<GhostieSyncException>(() => VectorCostModel.Estimate(new VectorTiersOptions(), new VectorUsageProfile { Users = 0 }));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Throws<GhostieSyncException>(() => VectorCostModel.Estimate(new VectorTiersOptions(), new VectorUsageProfile { EdgeHitRatio = 1.5 }));
    }
}
