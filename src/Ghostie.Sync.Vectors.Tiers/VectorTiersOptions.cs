namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>One tier of the plan: its rule, its capacity, what it costs and how fast it answers.</summary>
public sealed class VectorTierSettings
{
    /// <summary>When a vector belongs in this tier (see <see cref="VectorTierCriteria"/>).</summary>
    public VectorTierCriteria Criteria { get; set; } = new();

    /// <summary>The most vectors the tier should hold (per collection). Placement never puts more into a faster tier;
    /// the slowest configured tier takes the overflow and the rebalance report says it is over capacity.</summary>
    public int Capacity { get; set; }

    /// <summary>The provider's price per 1,000 stored vectors per month, in the plan's currency (the seed uses US dollars).</summary>
    public decimal CostPer1000Vectors { get; set; }

    /// <summary>The provider's price per million queries, in the plan's currency (default 0: the seed prices storage only).</summary>
    public decimal CostPerMillionQueries { get; set; }

    /// <summary>The query latency the provider is expected to have (used by the cost model's latency estimate).</summary>
    public TimeSpan ExpectedLatency { get; set; }

    /// <summary>How long a search waits for this tier before reporting it timed out and going on without it.</summary>
    public TimeSpan SearchTimeout { get; set; }

    internal IEnumerable<string> Problems(string tier)
    {
        if (Criteria is null)
        {
            yield return $"{tier}.Criteria must be set.";
            yield break;
        }

        foreach (string problem in Criteria.Problems(tier))
        {
            yield return problem;
        }

        if (Capacity < 0)
        {
            yield return $"{tier}.Capacity must be 0 or more.";
        }

        if (CostPer1000Vectors < 0 || CostPerMillionQueries < 0)
        {
            yield return $"{tier} costs must be 0 or more.";
        }

        if (ExpectedLatency < TimeSpan.Zero)
        {
            yield return $"{tier}.ExpectedLatency must be 0 or more.";
        }

        if (SearchTimeout <= TimeSpan.Zero)
        {
            yield return $"{tier}.SearchTimeout must be positive.";
        }
    }
}

/// <summary>
/// The tiered vector plan. Defaults come from the seed's distributed vector strategy: critical (1,000 vectors,
/// 0.75 per 1,000, 50 ms), context (5,000, 0.35, 150 ms), historical (20,000, 0.12, 300 ms) and an edge cache
/// (200, free, 10 ms); searches give the edge cache 200 ms and remote tiers 2 s, as the seed's mobile search does.
/// </summary>
public sealed class VectorTiersOptions
{
    /// <summary>The critical tier. Default rule (the seed's "last turns of the conversation, interaction score above
    /// 0.9"; a turn count is not known to a vector store, so recency is time): used within the last hour and an
    /// interaction score of at least 0.9, or used at least 3 times a day (a hot memory is critical without the host
    /// pinning it: 30 times the seed's 0.1 a day that separates context from historical, and three times the edge's
    /// "frequently accessed" day; 50 uses in a day give about 5 a day). Capacity 1,000; 0.75 per 1,000 vectors; 50 ms;
    /// timeout 2 s.</summary>
    public VectorTierSettings Critical { get; set; } = new()
    {
        Criteria = new() { MaxIdle = TimeSpan.FromHours(1), MinInteractionScore = 0.9, PromoteAtAccessFrequency = 3.0 },
        Capacity = 1_000,
        CostPer1000Vectors = 0.75m,
        ExpectedLatency = TimeSpan.FromMilliseconds(50),
        SearchTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>The context tier. Default rule (the seed's "younger than 7 days, relevance above 0.7", and the
    /// promotion of hot historical vectors): used within 7 days with a relevance of at least 0.7, or used at least
    /// 0.1 times a day (the seed's historical limit). Capacity 5,000; 0.35 per 1,000 vectors; 150 ms; timeout 2 s.</summary>
    public VectorTierSettings Context { get; set; } = new()
    {
        Criteria = new() { MaxIdle = TimeSpan.FromDays(7), MinRelevance = 0.7, PromoteAtAccessFrequency = 0.1 },
        Capacity = 5_000,
        CostPer1000Vectors = 0.35m,
        ExpectedLatency = TimeSpan.FromMilliseconds(150),
        SearchTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>The historical tier. Default rule: none, so it takes everything no faster tier took (the seed's
    /// "older than 7 days, used less than 0.1 times a day" is exactly what the context rule leaves). Capacity 20,000;
    /// 0.12 per 1,000 vectors; 300 ms; timeout 2 s.</summary>
    public VectorTierSettings Historical { get; set; } = new()
    {
        Capacity = 20_000,
        CostPer1000Vectors = 0.12m,
        ExpectedLatency = TimeSpan.FromMilliseconds(300),
        SearchTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>The edge cache. Its rule says which vectors a rebalance offers to the cache (the seed's "frequently
    /// accessed"): default, used at least once a day. Search results are offered too. Capacity 200; free; 10 ms;
    /// timeout 200 ms.</summary>
    public VectorTierSettings Edge { get; set; } = new()
    {
        Criteria = new() { MinAccessFrequency = 1.0 },
        Capacity = 200,
        CostPer1000Vectors = 0m,
        ExpectedLatency = TimeSpan.FromMilliseconds(10),
        SearchTimeout = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>The half-life of the access frequency (default 7 days): a use counts half as much after this long.</summary>
    public TimeSpan FrequencyHalfLife { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The relevance a vector has before any search returned it (default 1: new memories are presumed
    /// relevant until searches say otherwise, so they start in the context tier).</summary>
    public double InitialRelevance { get; set; } = 1.0;

    /// <summary>The interaction score a vector has before the host sets one (default 0).</summary>
    public double InitialInteractionScore { get; set; }

    /// <summary>The weight of a new search score in the relevance moving average (default 0.3):
    /// relevance = (1 - w) * relevance + w * score.</summary>
    public double RelevanceSmoothing { get; set; } = 0.3;

    /// <summary>The idle time that halves the recency part of the edge cache's retention score (default 1 hour).</summary>
    public TimeSpan EdgeRecencyHalfLife { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The weight of relevance in the edge cache's retention score (default 0.5; 0 makes the cache plain LRU).</summary>
    public double EdgeRelevanceBoost { get; set; } = 0.5;

    /// <summary>When the edge cache alone returns the full top-k with every score (cosine similarity) at least this, the
    /// remote tiers are not asked (default 0.8: the seed's "cache first with fallback", in which the device cache answers
    /// and the cloud is the fallback; results that close to the query are near-duplicates of it, so a remote tier could
    /// add little). Null: the remote tiers are always asked too, and the edge only answers first. Set null when every
    /// search must see every tier (for example an audit).</summary>
    public float? EdgeSufficientScore { get; set; } = 0.8f;

    /// <summary>Whether results that came from a remote tier are offered to the edge cache (default true).</summary>
    public bool CacheSearchResultsOnEdge { get; set; } = true;

    /// <summary>Whether writing a key the store does not track yet also deletes it from the other tiers (default
    /// true). After a restart without <see cref="TieredVectorCollection.ImportUsage"/>, an old copy could otherwise
    /// linger in another tier and answer searches with a stale vector; hosts that persist the usage table can turn
    /// this off to save the extra deletes.</summary>
    public bool RemoveStrayCopiesOnInsert { get; set; } = true;

    /// <summary>How often the hosted <see cref="VectorTierMaintenanceService"/> rebalances every open collection
    /// (default 1 hour: the seed's rules are in hours and days — critical within the last hour, context within 7 days —
    /// so an hourly pass keeps placement at most an hour late). Null: no periodic rebalance (the host calls
    /// <see cref="TieredVectorCollection.RebalanceAsync(CancellationToken)"/> itself).</summary>
    public TimeSpan? RebalanceInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the hosted service saves the usage state of the collections that changed (default 1 minute: a
    /// crash loses at most a minute of use counts and stale marks).</summary>
    public TimeSpan UsageSaveInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The directory of the default <see cref="FileVectorUsageStore"/> (default null:
    /// <see cref="FileVectorUsageStore.DefaultDirectory"/>, <c>$GHOSTIE_HOME/vector-usage</c> or <c>~/.ghostie/vector-usage</c>).
    /// Ignored when the host registers its own <see cref="IVectorUsageStore"/>.</summary>
    public string? UsageDirectory { get; set; }

    /// <summary>How many records a rebalance moves per batch (default 100).</summary>
    public int MigrationBatchSize { get; set; } = 100;

    /// <summary>The settings of <paramref name="tier"/>.</summary>
    /// <param name="tier">The tier.</param>
    public VectorTierSettings For(VectorTier tier) => tier switch
    {
        VectorTier.Edge => Edge,
        VectorTier.Critical => Critical,
        VectorTier.Context => Context,
        VectorTier.Historical => Historical,
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "Unknown vector tier."),
    };

    /// <summary>Every problem with the options, as messages naming the option (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (VectorTier tier in Enum.GetValues<VectorTier>())
        {
            VectorTierSettings? settings = For(tier);
            if (settings is null)
            {
                problems.Add($"VectorTiersOptions.{tier} must be set.");
                continue;
            }

            problems.AddRange(settings.Problems("VectorTiersOptions." + tier));
        }

        if (FrequencyHalfLife <= TimeSpan.Zero)
        {
            problems.Add("VectorTiersOptions.FrequencyHalfLife must be positive.");
        }

        if (EdgeRecencyHalfLife <= TimeSpan.Zero)
        {
            problems.Add("VectorTiersOptions.EdgeRecencyHalfLife must be positive.");
        }

        if (double.IsNaN(InitialRelevance) || InitialRelevance is < -1 or > 1)
        {
            problems.Add("VectorTiersOptions.InitialRelevance must be -1 to 1.");
        }

        if (double.IsNaN(InitialInteractionScore) || InitialInteractionScore is < 0 or > 1)
        {
            problems.Add("VectorTiersOptions.InitialInteractionScore must be 0 to 1.");
        }

        if (double.IsNaN(RelevanceSmoothing) || RelevanceSmoothing is <= 0 or > 1)
        {
            problems.Add("VectorTiersOptions.RelevanceSmoothing must be above 0 and at most 1.");
        }

        if (double.IsNaN(EdgeRelevanceBoost) || EdgeRelevanceBoost < 0)
        {
            problems.Add("VectorTiersOptions.EdgeRelevanceBoost must be 0 or more.");
        }

        if (EdgeSufficientScore is float s && float.IsNaN(s))
        {
            problems.Add("VectorTiersOptions.EdgeSufficientScore must be a number or null.");
        }

        if (RebalanceInterval is TimeSpan every && every < TimeSpan.FromSeconds(1))
        {
            problems.Add("VectorTiersOptions.RebalanceInterval must be at least 1 second, or null.");
        }

        if (UsageSaveInterval < TimeSpan.FromSeconds(1))
        {
            problems.Add("VectorTiersOptions.UsageSaveInterval must be at least 1 second.");
        }

        if (UsageDirectory is not null && string.IsNullOrWhiteSpace(UsageDirectory))
        {
            problems.Add("VectorTiersOptions.UsageDirectory must be a path, or null.");
        }

        if (MigrationBatchSize is < 1 or > 10_000)
        {
            problems.Add("VectorTiersOptions.MigrationBatchSize must be 1 to 10,000.");
        }

        return problems;
    }

    /// <summary>Throws a clear error when the options are not valid.</summary>
    /// <exception cref="GhostieSyncException">An option is out of range (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        IReadOnlyList<string> problems = Problems();
        if (problems.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "Invalid vector tier options: " + string.Join(" ", problems));
        }
    }
}
