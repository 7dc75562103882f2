namespace Ghostie.Sync.Vectors.Tiers.Tests;

public sealed class TierPolicyTests
{
    private static readonly DateTimeOffset Now = TierRig.Start;
    private static readonly VectorTier[] AllPlacement = [VectorTier.Critical, VectorTier.Context, VectorTier.Historical];

    private static VectorUsage Usage(string key, TimeSpan idle, double decayedUses = 0, double interaction = 0, double relevance = 1) =>
        new(key, VectorTier.Historical, Now - TimeSpan.FromDays(60), Now - idle, (long)decayedUses, decayedUses, interaction, relevance, false);

    [Fact]
    public void Plan_DefaultRules_PlaceEachVectorWhereTheSeedSays()
    {
        VectorUsage[] usages =
        [
            // used 30 minutes ago with interaction 0.92: critical
            Usage("critical", TimeSpan.FromMinutes(30), interaction: 0.92),
            // interaction 1 but idle 61 minutes: no longer critical; used within 7 days and relevant: context
            Usage("stale-critical", TimeSpan.FromMinutes(61), interaction: 1, relevance: 0.8),
            // idle 10 days, relevance 0.2, but 3 decayed uses: 3 * 2^(-10/7) * ln2 / 7 = 0.1104 uses/day >= 0.1: hot, context
            Usage("hot", TimeSpan.FromDays(10), decayedUses: 3, relevance: 0.2),
            // idle 10 days, one use: 0.0368 uses/day: historical
            Usage("cold", TimeSpan.FromDays(10), decayedUses: 1, relevance: 0.9),
            // used yesterday but relevance 0.5 < 0.7: historical
            Usage("irrelevant", TimeSpan.FromDays(1), relevance: 0.5),
            // used 6 days ago, relevance 0.7: context
            Usage("recent", TimeSpan.FromDays(6), relevance: 0.7),
        ];

        IReadOnlyDictionary<string, VectorTier> plan = VectorTierPolicy.Plan(usages, AllPlacement, new VectorTiersOptions(), Now);

        Assert.Equal(VectorTier.Critical, plan["critical"]);
        Assert.Equal(VectorTier.Context, plan["stale-critical"]);
        Assert.Equal(VectorTier.Context, plan["hot"]);
        Assert.Equal(VectorTier.Historical, plan["cold"]);
        Assert.Equal(VectorTier.Historical, plan["irrelevant"]);
        Assert.Equal(VectorTier.Context, plan["recent"]);
    }

    [Fact]
    public void AccessFrequency_SteadyRate_ConvergesToTheRate()
    {
        var usage = new VectorUsage("k", VectorTier.Context, Now, Now, 0, 0, 0, 1, false);
        TimeSpan halfLife = TimeSpan.FromDays(7);
        for (int day = 1; day <= 200; day++)
        {
            usage = usage.Used(Now + TimeSpan.FromDays(day * 0.5), halfLife); // two uses a day
        }

        Assert.InRange(usage.AccessFrequencyAt(usage.LastUsedAt, halfLife), 1.9, 2.1);
        Assert.Equal(200, usage.UseCount);
    }

    [Fact]
    public void Plan_OverCapacity_KeepsHighestPriorityAndOverflowsToTheNextTier()
    {
        var options = new VectorTiersOptions();
        options.Critical.Capacity = 2;
        VectorUsage[] usages =
        [
            Usage("a", TimeSpan.Zero, interaction: 0.91),
            Usage("b", TimeSpan.Zero, interaction: 0.99),
            Usage("c", TimeSpan.Zero, interaction: 0.95),
        ];

        IReadOnlyDictionary<string, VectorTier> plan = VectorTierPolicy.Plan(usages, AllPlacement, options, Now);

        Assert.Equal(VectorTier.Critical, plan["b"]);
        Assert.Equal(VectorTier.Critical, plan["c"]);
        Assert.Equal(VectorTier.Context, plan["a"]);
    }

    [Fact]
    public void Plan_SlowestConfiguredTier_TakesEverythingLeft()
    {
        VectorUsage[] usages = [Usage("critical", TimeSpan.Zero, interaction: 1), Usage("cold", TimeSpan.FromDays(30), relevance: 0)];

        IReadOnlyDictionary<string, VectorTier> onlyHistorical = VectorTierPolicy.Plan(usages, [VectorTier.Historical], new VectorTiersOptions(), Now);
        IReadOnlyDictionary<string, VectorTier> noHistorical = VectorTierPolicy.Plan(usages, [VectorTier.Critical, VectorTier.Context], new VectorTiersOptions(), Now);

        Assert.All(onlyHistorical.Values, t => Assert.Equal(VectorTier.Historical, t));
        Assert.Equal(VectorTier.Critical, noHistorical["critical"]);
        Assert.Equal(VectorTier.Context, noHistorical["cold"]);
    }

    [Fact]
    public void Plan_NoPlacementTier_ThrowsNotConfigured()
    {
        var error = Assert.Throws<GhostieSyncException>(() => VectorTierPolicy.Plan([], [VectorTier.Edge], new VectorTiersOptions(), Now));

        Assert.Equal(GhostieErrorCode.NotConfigured, error.Code);
    }

    [Fact]
    public void Options_Invalid_ListEveryProblem()
    {
        var options = new VectorTiersOptions { FrequencyHalfLife = TimeSpan.Zero, RelevanceSmoothing = 0 };
        options.Context.Criteria.MinInteractionScore = 2;
        options.Edge.SearchTimeout = TimeSpan.Zero;

        var error = Assert.Throws<GhostieSyncException>(options.Validate);

        Assert.Contains("FrequencyHalfLife", error.Message, StringComparison.Ordinal);
        Assert.Contains("RelevanceSmoothing", error.Message, StringComparison.Ordinal);
        Assert.Contains("Context.Criteria.MinInteractionScore", error.Message, StringComparison.Ordinal);
        Assert.Contains("Edge.SearchTimeout", error.Message, StringComparison.Ordinal);
        Assert.Empty(new VectorTiersOptions().Problems());
    }
}
