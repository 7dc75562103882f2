namespace Ghostie.Sync.Vectors.Tiers.Internal;

/// <summary>
/// The edge cache's replacement decision, LRU plus relevance: each entry's retention score is
/// <see cref="VectorUsage.EdgeRetentionScore"/>; a candidate is admitted when the cache has room, or when its score
/// beats the lowest score in the cache, which is then evicted. Ties evict the least recently used, then the
/// smallest key (ordinal), so the decision is deterministic.
/// </summary>
internal static class EdgeCachePolicy
{
    public static (List<string> Admitted, List<string> Evicted) Decide(
        IEnumerable<VectorUsage> cached, IEnumerable<VectorUsage> candidates, int capacity, DateTimeOffset now, VectorTiersOptions options)
    {
        var admitted = new List<string>();
        var evicted = new List<string>();
        if (capacity <= 0)
        {
            return (admitted, evicted);
        }

        double Score(VectorUsage u) => u.EdgeRetentionScore(now, options.EdgeRecencyHalfLife, options.EdgeRelevanceBoost);

        var inCache = cached.Select(u => (Usage: u, Score: Score(u), New: false)).ToList();
        var present = inCache.Select(e => e.Usage.Key).ToHashSet(StringComparer.Ordinal);
        var ordered = candidates
            .Where(u => !present.Contains(u.Key))
            .DistinctBy(u => u.Key, StringComparer.Ordinal)
            .Select(u => (Usage: u, Score: Score(u)))
            .OrderByDescending(c => c.Score).ThenByDescending(c => c.Usage.LastUsedAt).ThenBy(c => c.Usage.Key, StringComparer.Ordinal)
            .ToList();

        foreach ((VectorUsage usage, double score) in ordered)
        {
            if (inCache.Count < capacity)
            {
                inCache.Add((usage, score, true));
                admitted.Add(usage.Key);
                continue;
            }

            int victim = 0;
            for (int i = 1; i < inCache.Count; i++)
            {
                if (Weaker(inCache[i], inCache[victim]))
                {
                    victim = i;
                }
            }

            if (score <= inCache[victim].Score)
            {
                break; // candidates come best first: no later one beats the weakest entry either
            }

            (VectorUsage out_, _, bool wasNew) = inCache[victim];
            if (wasNew)
            {
                admitted.Remove(out_.Key);
            }
            else
            {
                evicted.Add(out_.Key);
            }

            inCache[victim] = (usage, score, true);
            admitted.Add(usage.Key);
        }

        return (admitted, evicted);
    }

    private static bool Weaker((VectorUsage Usage, double Score, bool New) a, (VectorUsage Usage, double Score, bool New) b)
    {
        if (a.Score != b.Score)
        {
            return a.Score < b.Score;
        }

        if (a.Usage.LastUsedAt != b.Usage.LastUsedAt)
        {
            return a.Usage.LastUsedAt < b.Usage.LastUsedAt;
        }

        return string.CompareOrdinal(a.Usage.Key, b.Usage.Key) < 0;
    }
}
