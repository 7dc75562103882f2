namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>
/// When a vector qualifies for a tier. A vector qualifies when every requirement that is set holds (and at least one
/// is set), or when its access frequency reaches <see cref="PromoteAtAccessFrequency"/> (a hot vector qualifies
/// whatever the rest says). A tier with no criteria at all never qualifies anything by rule; the slowest configured
/// placement tier takes every vector no faster tier took.
/// </summary>
public sealed class VectorTierCriteria
{
    /// <summary>Recency: the vector was used (written, read or returned by a search) at most this long ago.
    /// Null: no recency requirement.</summary>
    public TimeSpan? MaxIdle { get; set; }

    /// <summary>The interaction score (0 to 1, set by the host through
    /// <see cref="TieredVectorCollection.RecordInteraction"/>) must be at least this. Null: no requirement.</summary>
    public double? MinInteractionScore { get; set; }

    /// <summary>The relevance (0 to 1, a moving average of the vector's scores when searches return it) must be at
    /// least this. Null: no requirement.</summary>
    public double? MinRelevance { get; set; }

    /// <summary>The access frequency (uses per day, exponentially weighted; see
    /// <see cref="VectorTiersOptions.FrequencyHalfLife"/>) must be at least this. Null: no requirement.</summary>
    public double? MinAccessFrequency { get; set; }

    /// <summary>A vector used at least this many times per day qualifies regardless of the other requirements
    /// (promotion of hot vectors). Null: no such shortcut.</summary>
    public double? PromoteAtAccessFrequency { get; set; }

    /// <summary>Whether any requirement or shortcut is set.</summary>
    public bool IsEmpty => MaxIdle is null && MinInteractionScore is null && MinRelevance is null && MinAccessFrequency is null && PromoteAtAccessFrequency is null;

    /// <summary>Whether a vector with these usage figures qualifies.</summary>
    /// <param name="usage">The vector's usage.</param>
    /// <param name="now">The current time.</param>
    /// <param name="frequencyHalfLife">The half-life of the access frequency.</param>
    public bool IsMetBy(VectorUsage usage, DateTimeOffset now, TimeSpan frequencyHalfLife)
    {
        ArgumentNullException.ThrowIfNull(usage);
        double frequency = usage.AccessFrequencyAt(now, frequencyHalfLife);
        if (PromoteAtAccessFrequency is double hot && frequency >= hot)
        {
            return true;
        }

        if (MaxIdle is null && MinInteractionScore is null && MinRelevance is null && MinAccessFrequency is null)
        {
            return false;
        }

        return (MaxIdle is not TimeSpan maxIdle || now - usage.LastUsedAt <= maxIdle)
            && (MinInteractionScore is not double interaction || usage.InteractionScore >= interaction)
            && (MinRelevance is not double relevance || usage.Relevance >= relevance)
            && (MinAccessFrequency is not double minFrequency || frequency >= minFrequency);
    }

    internal IEnumerable<string> Problems(string tier)
    {
        if (MaxIdle is TimeSpan idle && idle <= TimeSpan.Zero)
        {
            yield return $"{tier}.Criteria.MaxIdle must be positive.";
        }

        if (MinInteractionScore is double i && (double.IsNaN(i) || i < 0 || i > 1))
        {
            yield return $"{tier}.Criteria.MinInteractionScore must be 0 to 1.";
        }

        if (MinRelevance is double r && (double.IsNaN(r) || r < -1 || r > 1))
        {
            yield return $"{tier}.Criteria.MinRelevance must be -1 to 1.";
        }

        if (MinAccessFrequency is double f && (double.IsNaN(f) || f < 0))
        {
            yield return $"{tier}.Criteria.MinAccessFrequency must be 0 or more.";
        }

        if (PromoteAtAccessFrequency is double p && (double.IsNaN(p) || p <= 0))
        {
            yield return $"{tier}.Criteria.PromoteAtAccessFrequency must be positive.";
        }
    }
}
