namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>How one tier took part in a search.</summary>
public enum TierSearchOutcome
{
    /// <summary>The tier answered within its timeout.</summary>
    Answered = 0,

    /// <summary>The tier did not answer within <see cref="VectorTierSettings.SearchTimeout"/>; the search went on without it.</summary>
    TimedOut = 1,

    /// <summary>The tier threw; the search went on without it.</summary>
    Failed = 2,

    /// <summary>The tier was not asked, because the edge cache's answer was sufficient (<see cref="VectorTiersOptions.EdgeSufficientScore"/>).</summary>
    Skipped = 3,
}

/// <summary>One tier's part in a search.</summary>
/// <param name="Tier">The tier.</param>
/// <param name="Outcome">Answered, timed out, failed or skipped.</param>
/// <param name="ResultCount">How many results the tier gave (0 unless it answered).</param>
/// <param name="Elapsed">How long the tier took, or was waited for (measured with the store's TimeProvider).</param>
/// <param name="Error">For a failure: the error's type and, for Ghostie errors, its message (safe to log); otherwise null.</param>
public sealed record TierSearchReport(VectorTier Tier, TierSearchOutcome Outcome, int ResultCount, TimeSpan Elapsed, string? Error = null);

/// <summary>The merged answer of a tiered search, and which tiers gave it.</summary>
/// <param name="Results">The results, best first, de-duplicated by key (each key once, with its best score).</param>
/// <param name="Tiers">Each tier asked or skipped, edge first.</param>
public sealed record TieredSearchResult(IReadOnlyList<VectorSearchResult> Results, IReadOnlyList<TierSearchReport> Tiers)
{
    /// <summary>The tiers that answered.</summary>
    public IEnumerable<VectorTier> Answered => Tiers.Where(t => t.Outcome == TierSearchOutcome.Answered).Select(t => t.Tier);

    /// <summary>The tiers that timed out.</summary>
    public IEnumerable<VectorTier> TimedOut => Tiers.Where(t => t.Outcome == TierSearchOutcome.TimedOut).Select(t => t.Tier);

    /// <summary>The tiers that failed.</summary>
    public IEnumerable<VectorTier> Failed => Tiers.Where(t => t.Outcome == TierSearchOutcome.Failed).Select(t => t.Tier);

    /// <summary>Whether every tier asked answered (the results are complete).</summary>
    public bool IsComplete => Tiers.All(t => t.Outcome is TierSearchOutcome.Answered or TierSearchOutcome.Skipped);
}

/// <summary>One vector moved between placement tiers by a rebalance.</summary>
/// <param name="Key">The record key.</param>
/// <param name="From">The tier it left.</param>
/// <param name="To">The tier it went to.</param>
public sealed record VectorMove(string Key, VectorTier From, VectorTier To)
{
    /// <summary>Whether the move goes to a faster tier.</summary>
    public bool IsPromotion => To < From;
}

/// <summary>A move a rebalance could not make; the vector stayed where it was (or, when it was missing from its
/// tier, is no longer tracked).</summary>
/// <param name="Key">The record key.</param>
/// <param name="From">The tier it should have left.</param>
/// <param name="To">The tier it should have gone to.</param>
/// <param name="Error">What went wrong (safe to log).</param>
public sealed record VectorMoveFailure(string Key, VectorTier From, VectorTier To, string Error);

/// <summary>What a rebalance pass did.</summary>
/// <param name="At">The time the rules were evaluated at.</param>
/// <param name="Moves">The moves made (promotions and demotions).</param>
/// <param name="Failures">The moves that failed.</param>
/// <param name="EdgeAdmitted">Keys copied into the edge cache.</param>
/// <param name="EdgeEvicted">Keys removed from the edge cache.</param>
/// <param name="Counts">Vectors per tier after the pass (the edge count is the number of cached copies).</param>
/// <param name="Warnings">For example a tier over its capacity.</param>
public sealed record VectorRebalanceReport(
    DateTimeOffset At,
    IReadOnlyList<VectorMove> Moves,
    IReadOnlyList<VectorMoveFailure> Failures,
    IReadOnlyList<string> EdgeAdmitted,
    IReadOnlyList<string> EdgeEvicted,
    IReadOnlyDictionary<VectorTier, int> Counts,
    IReadOnlyList<string> Warnings);

/// <summary>How far a rebalance pass is, reported after each batch of moves.</summary>
/// <param name="Planned">Moves the pass's plan wants.</param>
/// <param name="Moved">Moves done so far.</param>
/// <param name="Failed">Moves failed so far.</param>
public sealed record VectorRebalanceProgress(int Planned, int Moved, int Failed);
