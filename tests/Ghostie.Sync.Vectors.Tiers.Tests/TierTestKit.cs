namespace Ghostie.Sync.Vectors.Tiers.Tests;

public sealed class MemoryVectorStore : IVectorStore
{
    public Dictionary<string, MemoryVectorCollection> Collections { get; } = new(StringComparer.Ordinal);

    public Task<IVectorCollection> GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        if (!Collections.TryGetValue(name, out MemoryVectorCollection? c))
        {
            Collections[name] = c = new MemoryVectorCollection(name, model);
        }

        c.Model.EnsureSameAs(model, name);
        return Task.FromResult<IVectorCollection>(c);
    }
}

/// <summary>A tiered collection over in-memory tiers and a fake clock.</summary>
public sealed class TierRig
{
    public static readonly EmbeddingModelInfo Model = new("test-model", 4);

    public static readonly DateTimeOffset Start = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);

    public TierRig(VectorTiersOptions? options = null, bool edge = true, params VectorTier[] placement)
    {
        Time = new TierClock(Start);
        var tiers = new Dictionary<VectorTier, IVectorCollection>();
        foreach (VectorTier t in placement.Length == 0 ? [VectorTier.Critical, VectorTier.Context, VectorTier.Historical] : placement)
        {
            Tiers[t] = new MemoryVectorCollection("notes-" + t.ToString().ToLowerInvariant(), Model);
            tiers[t] = Tiers[t];
        }

        if (edge)
        {
            Tiers[VectorTier.Edge] = new MemoryVectorCollection("notes-edge", Model);
            tiers[VectorTier.Edge] = Tiers[VectorTier.Edge];
        }

        Options = options ?? new VectorTiersOptions();
        Collection = new TieredVectorCollection("notes", Model, tiers, Options, Time);
    }

    public TierClock Time { get; }

    public VectorTiersOptions Options { get; }

    public Dictionary<VectorTier, MemoryVectorCollection> Tiers { get; } = [];

    public TieredVectorCollection Collection { get; }

    public MemoryVectorCollection this[VectorTier tier] => Tiers[tier];

    /// <summary>A new process over the same tier collections and clock (usage and stale marks start empty).</summary>
    public TieredVectorCollection Reopen(VectorTiersOptions? options = null) =>
        new("notes", Model, Tiers.ToDictionary(t => t.Key, t => (IVectorCollection)t.Value), options ?? Options, Time);

    public static VectorRecord Record(string key, params float[] vector) => new(key, vector, new Dictionary<string, string> { ["memory"] = key });
}
