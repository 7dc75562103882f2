namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>The usage a cost estimate is made for.</summary>
public sealed class VectorUsageProfile
{
    /// <summary>How many users (or repositories), each with its own collection (default 1).</summary>
    public int Users { get; set; } = 1;

    /// <summary>Vectors per user. Used when <see cref="VectorsPerTier"/> is null: the placement tiers are filled
    /// fastest first up to their capacity and the slowest takes the rest (the most expensive case of the plan, with
    /// every fast tier full).</summary>
    public long VectorsPerUser { get; set; }

    /// <summary>Vectors per user in each tier, for example from <see cref="TieredVectorCollection.GetTierCounts"/>
    /// (default null: derived from <see cref="VectorsPerUser"/>). The edge figure counts cached copies.</summary>
    public IReadOnlyDictionary<VectorTier, long>? VectorsPerTier { get; set; }

    /// <summary>Searches per user per month (default 0).</summary>
    public long QueriesPerUserPerMonth { get; set; }

    /// <summary>The share of searches the edge cache answers alone, 0 to 1 (default 0: every search also asks every
    /// remote tier).</summary>
    public double EdgeHitRatio { get; set; }

    /// <summary>The tiers the plan uses (default null: all four).</summary>
    public IReadOnlyList<VectorTier>? Tiers { get; set; }
}

/// <summary>One tier's line of a cost estimate (all users together).</summary>
/// <param name="Tier">The tier.</param>
/// <param name="Vectors">Vectors stored in the tier, all users together.</param>
/// <param name="Capacity">The tier's capacity, all users together.</param>
/// <param name="StorageCost">Monthly storage cost: vectors / 1,000 x cost per 1,000.</param>
/// <param name="Queries">Searches the tier receives per month.</param>
/// <param name="QueryCost">Monthly query cost: queries / 1,000,000 x cost per million.</param>
/// <param name="OverCapacity">Whether the tier would hold more than its capacity.</param>
public sealed record TierCostLine(VectorTier Tier, long Vectors, long Capacity, decimal StorageCost, long Queries, decimal QueryCost, bool OverCapacity)
{
    /// <summary>Storage plus queries.</summary>
    public decimal Total => StorageCost + QueryCost;
}

/// <summary>A monthly cost estimate.</summary>
/// <param name="Lines">One line per tier, edge first.</param>
/// <param name="MonthlyTotal">The sum of the lines, unrounded.</param>
/// <param name="PerUser">The total divided by the number of users.</param>
/// <param name="ExpectedSearchLatency">The expected search latency: the edge's latency, plus, for the share of
/// searches the edge does not answer alone, the slowest remote tier's (they are asked in parallel).</param>
/// <param name="Warnings">For example a tier over its capacity.</param>
public sealed record VectorCostEstimate(IReadOnlyList<TierCostLine> Lines, decimal MonthlyTotal, decimal PerUser, TimeSpan ExpectedSearchLatency, IReadOnlyList<string> Warnings);

/// <summary>The monthly cost of a tier plan for a given usage (storage priced per 1,000 vectors a month and,
/// optionally, queries per million, per tier), with the expected search latency.</summary>
public static class VectorCostModel
{
    /// <summary>Estimates the monthly cost of <paramref name="plan"/> for <paramref name="usage"/>.</summary>
    /// <param name="plan">The tiers' capacities, prices and latencies.</param>
    /// <param name="usage">Users, vectors, searches.</param>
    /// <exception cref="GhostieSyncException">A figure is negative or out of range, or the plan is invalid
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static VectorCostEstimate Estimate(VectorTiersOptions plan, VectorUsageProfile usage)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(usage);
        plan.Validate();
        if (usage.Users < 1 || usage.VectorsPerUser < 0 || usage.QueriesPerUserPerMonth < 0
            || double.IsNaN(usage.EdgeHitRatio) || usage.EdgeHitRatio is < 0 or > 1
            || (usage.VectorsPerTier?.Values.Any(v => v < 0) ?? false))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "The usage profile is out of range: Users must be at least 1, vector and query counts 0 or more, and EdgeHitRatio 0 to 1.");
        }

        IReadOnlyList<VectorTier> tiers = usage.Tiers ?? [VectorTier.Edge, .. VectorTierPolicy.PlacementOrder];
        IReadOnlyList<VectorTier> placement = VectorTierPolicy.OrderedPlacementTiers(tiers.Where(t => t != VectorTier.Edge));
        bool hasEdge = tiers.Contains(VectorTier.Edge);
        Dictionary<VectorTier, long> perUser = usage.VectorsPerTier?.ToDictionary(p => p.Key, p => p.Value) ?? Distribute(plan, placement, hasEdge, usage.VectorsPerUser);

        long queries = usage.QueriesPerUserPerMonth * usage.Users;
        decimal remoteShare = hasEdge ? (decimal)(1 - usage.EdgeHitRatio) : 1m;
        var lines = new List<TierCostLine>();
        var warnings = new List<string>();
        foreach (VectorTier tier in (IEnumerable<VectorTier>)(hasEdge ? [VectorTier.Edge, .. placement] : placement))
        {
            VectorTierSettings settings = plan.For(tier);
            long vectors = perUser.GetValueOrDefault(tier) * usage.Users;
            long capacity = (long)settings.Capacity * usage.Users;
            long tierQueries = tier == VectorTier.Edge ? queries : (long)Math.Round(queries * remoteShare, MidpointRounding.AwayFromZero);
            decimal storage = vectors / 1000m * settings.CostPer1000Vectors;
            decimal queryCost = tierQueries / 1_000_000m * settings.CostPerMillionQueries;
            bool over = vectors > capacity;
            if (over)
            {
                warnings.Add($"The {tier} tier would hold {vectors:N0} vectors, over its capacity of {capacity:N0}.");
            }

            lines.Add(new TierCostLine(tier, vectors, capacity, storage, tierQueries, queryCost, over));
        }

        decimal total = lines.Sum(l => l.Total);
        TimeSpan edgeLatency = hasEdge ? plan.Edge.ExpectedLatency : TimeSpan.Zero;
        TimeSpan remoteLatency = placement.Max(t => plan.For(t).ExpectedLatency);
        double missShare = hasEdge ? 1 - usage.EdgeHitRatio : 1;
        TimeSpan latency = edgeLatency + TimeSpan.FromTicks((long)Math.Round(remoteLatency.Ticks * missShare));
        return new VectorCostEstimate(lines, total, total / usage.Users, latency, warnings);
    }

    private static Dictionary<VectorTier, long> Distribute(VectorTiersOptions plan, IReadOnlyList<VectorTier> placement, bool hasEdge, long vectors)
    {
        var result = new Dictionary<VectorTier, long>();
        long left = vectors;
        for (int i = 0; i < placement.Count; i++)
        {
            long take = i == placement.Count - 1 ? left : Math.Min(left, plan.For(placement[i]).Capacity);
            result[placement[i]] = take;
            left -= take;
        }

        if (hasEdge)
        {
            result[VectorTier.Edge] = Math.Min(vectors, plan.Edge.Capacity);
        }

        return result;
    }
}
