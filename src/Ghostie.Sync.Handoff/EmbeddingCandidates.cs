namespace Ghostie.Sync.Handoff;

/// <summary>Embeddings offered for a package: each is kept when its cosine similarity to <see cref="Reference"/> reaches the threshold.</summary>
public sealed class EmbeddingCandidates
{
    /// <summary>The embedding model's name.</summary>
    public required string Model { get; init; }

    /// <summary>The reference vector: what "relevant" means (for example the embedding of the conversation's last turns).</summary>
    public required float[] Reference { get; init; }

    /// <summary>The candidates; their <see cref="EmbeddingEntry.Similarity"/> is computed, whatever it was.</summary>
    public required IReadOnlyList<EmbeddingEntry> Candidates { get; init; }

    /// <summary>What the reference stands for (default "conversation").</summary>
    public string ReferenceName { get; init; } = "conversation";
}
