namespace Ghostie.Sync.Handoff;

/// <summary>The embeddings relevant to the conversation.</summary>
public sealed record EmbeddingSet
{
    /// <summary>The embedding model (vectors of different models are not comparable).</summary>
    public required string Model { get; init; }

    /// <summary>The dimensions of every vector.</summary>
    public int Dimensions { get; init; }

    /// <summary>Only embeddings whose cosine similarity to the reference reached this value were kept (default 0.85).</summary>
    public double SimilarityThreshold { get; init; }

    /// <summary>What similarity was measured against ("conversation" for the host's reference vector).</summary>
    public string Reference { get; init; } = "";

    /// <summary>The kept embeddings, most similar first.</summary>
    public IReadOnlyList<EmbeddingEntry> Entries { get; init; } = [];
}
