namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>What the tiered store knows about one vector's use: where it lives, when it was last used, how often,
/// how much the user interacted with it and how well it scores in searches. Immutable; the store replaces it on
/// each use. Holds no vector and no memory content.</summary>
/// <param name="Key">The record key.</param>
/// <param name="Tier">The placement tier holding the vector (critical, context or historical).</param>
/// <param name="CreatedAt">When the store first saw the vector.</param>
/// <param name="LastUsedAt">When the vector was last written, read or returned by a search.</param>
/// <param name="UseCount">How many times it was read or returned by a search.</param>
/// <param name="DecayedUses">Uses counted with exponential decay (half-life
/// <see cref="VectorTiersOptions.FrequencyHalfLife"/>), as of <paramref name="LastUsedAt"/>.</param>
/// <param name="InteractionScore">The host's interaction score, 0 to 1.</param>
/// <param name="Relevance">A moving average of the vector's search scores.</param>
/// <param name="InEdgeCache">Whether a copy is in the edge cache.</param>
public sealed record VectorUsage(
    string Key,
    VectorTier Tier,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUsedAt,
    long UseCount,
    double DecayedUses,
    double InteractionScore,
    double Relevance,
    bool InEdgeCache)
{
    /// <summary>Uses per day at <paramref name="now"/>: the decayed use count, decayed further to
    /// <paramref name="now"/>, times ln 2 / half-life (in days). For a steady rate of r uses a day this converges to r.</summary>
    /// <param name="now">The current time.</param>
    /// <param name="halfLife">The half-life of the decay.</param>
    public double AccessFrequencyAt(DateTimeOffset now, TimeSpan halfLife)
    {
        double days = halfLife.TotalDays;
        if (days <= 0 || DecayedUses <= 0)
        {
            return 0;
        }

        double elapsed = Math.Max(0, (now - LastUsedAt).TotalDays);
        return DecayedUses * Math.Pow(2, -elapsed / days) * Math.Log(2) / days;
    }

    /// <summary>How strongly the edge cache wants to keep this vector at <paramref name="now"/> (LRU plus relevance):
    /// <c>2^(-idle / recencyHalfLife) + relevanceBoost * Relevance</c>. With a boost of 0 this orders exactly as LRU.</summary>
    /// <param name="now">The current time.</param>
    /// <param name="recencyHalfLife">The idle time that halves the recency part.</param>
    /// <param name="relevanceBoost">The weight of <see cref="Relevance"/>.</param>
    public double EdgeRetentionScore(DateTimeOffset now, TimeSpan recencyHalfLife, double relevanceBoost)
    {
        double idle = Math.Max(0, (now - LastUsedAt).TotalSeconds);
        return Math.Pow(2, -idle / recencyHalfLife.TotalSeconds) + (relevanceBoost * Relevance);
    }

    internal VectorUsage Used(DateTimeOffset now, TimeSpan halfLife)
    {
        double elapsed = Math.Max(0, (now - LastUsedAt).TotalDays);
        double decayed = (DecayedUses * Math.Pow(2, -elapsed / halfLife.TotalDays)) + 1;
        return this with { LastUsedAt = now > LastUsedAt ? now : LastUsedAt, UseCount = UseCount + 1, DecayedUses = decayed };
    }
}
