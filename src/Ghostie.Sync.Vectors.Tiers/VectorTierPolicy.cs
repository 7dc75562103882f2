namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>
/// The placement rules as pure functions, so a host can preview a rebalance and tests can check the rules without
/// any store. Deterministic: the same usage, options and time give the same placement.
/// </summary>
/// <remarks>
/// Placement takes the configured placement tiers fastest first (critical, context, historical). For each tier
/// except the slowest, the vectors not yet placed that meet the tier's criteria are ranked by priority and the
/// first <see cref="VectorTierSettings.Capacity"/> of them go there; the rest try the next tier. The slowest
/// configured tier takes everything left, even beyond its capacity (a memory is never dropped; the rebalance report
/// warns instead). Priority: interaction score, then access frequency, then relevance, then most recent use (all
/// descending), then key (ordinal) to break ties.
/// </remarks>
public static class VectorTierPolicy
{
    /// <summary>The placement tiers in search and placement order (fastest first).</summary>
    public static IReadOnlyList<VectorTier> PlacementOrder { get; } = [VectorTier.Critical, VectorTier.Context, VectorTier.Historical];

    /// <summary>Where each vector belongs at <paramref name="now"/>.</summary>
    /// <param name="usages">The vectors' usage.</param>
    /// <param name="configuredTiers">The placement tiers that exist (at least one of critical, context, historical).</param>
    /// <param name="options">The plan.</param>
    /// <param name="now">The current time.</param>
    /// <returns>Each key's tier.</returns>
    /// <exception cref="GhostieSyncException">No placement tier is configured (<see cref="GhostieErrorCode.NotConfigured"/>).</exception>
    public static IReadOnlyDictionary<string, VectorTier> Plan(IEnumerable<VectorUsage> usages, IEnumerable<VectorTier> configuredTiers, VectorTiersOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(usages);
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<VectorTier> tiers = OrderedPlacementTiers(configuredTiers);
        var ranked = usages.Select(u => (Usage: u, Frequency: u.AccessFrequencyAt(now, options.FrequencyHalfLife))).ToList();
        ranked.Sort((a, b) => ComparePriority(a.Usage, a.Frequency, b.Usage, b.Frequency));

        var placement = new Dictionary<string, VectorTier>(StringComparer.Ordinal);
        for (int t = 0; t < tiers.Count - 1; t++)
        {
            VectorTierSettings settings = options.For(tiers[t]);
            int room = settings.Capacity;
            foreach ((VectorUsage usage, _) in ranked)
            {
                if (room == 0)
                {
                    break;
                }

                if (!placement.ContainsKey(usage.Key) && settings.Criteria.IsMetBy(usage, now, options.FrequencyHalfLife))
                {
                    placement[usage.Key] = tiers[t];
                    room--;
                }
            }
        }

        foreach ((VectorUsage usage, _) in ranked)
        {
            placement.TryAdd(usage.Key, tiers[^1]);
        }

        return placement;
    }

    /// <summary>Where a vector seen for the first time goes: the fastest configured tier whose criteria it meets and
    /// that has room, else the slowest configured tier.</summary>
    /// <param name="usage">The new vector's usage.</param>
    /// <param name="configuredTiers">The placement tiers that exist.</param>
    /// <param name="counts">How many vectors each tier holds now.</param>
    /// <param name="options">The plan.</param>
    /// <param name="now">The current time.</param>
    /// <exception cref="GhostieSyncException">No placement tier is configured (<see cref="GhostieErrorCode.NotConfigured"/>).</exception>
    public static VectorTier PlaceNew(VectorUsage usage, IEnumerable<VectorTier> configuredTiers, IReadOnlyDictionary<VectorTier, int> counts, VectorTiersOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<VectorTier> tiers = OrderedPlacementTiers(configuredTiers);
        for (int t = 0; t < tiers.Count - 1; t++)
        {
            VectorTierSettings settings = options.For(tiers[t]);
            if (counts.GetValueOrDefault(tiers[t]) < settings.Capacity && settings.Criteria.IsMetBy(usage, now, options.FrequencyHalfLife))
            {
                return tiers[t];
            }
        }

        return tiers[^1];
    }

    internal static IReadOnlyList<VectorTier> OrderedPlacementTiers(IEnumerable<VectorTier> configuredTiers)
    {
        ArgumentNullException.ThrowIfNull(configuredTiers);
        var set = configuredTiers.ToHashSet();
        VectorTier[] tiers = PlacementOrder.Where(set.Contains).ToArray();
        if (tiers.Length == 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                "No placement tier is configured: register at least one of the critical, context or historical tiers (for example AddPgVectorTier(...) or AddVectorTier(VectorTier.Historical, ...)).");
        }

        return tiers;
    }

    private static int ComparePriority(VectorUsage a, double aFrequency, VectorUsage b, double bFrequency)
    {
        int c = b.InteractionScore.CompareTo(a.InteractionScore);
        if (c == 0)
        {
            c = bFrequency.CompareTo(aFrequency);
        }

        if (c == 0)
        {
            c = b.Relevance.CompareTo(a.Relevance);
        }

        if (c == 0)
        {
            c = b.LastUsedAt.CompareTo(a.LastUsedAt);
        }

        return c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
    }
}
