namespace Ghostie.Sync.Vectors.Tiers;

/// <summary>The tiers of the distributed vector plan, from the seed's strategy. Critical, context and historical are
/// placement tiers: each vector lives in exactly one of them. The edge tier is an on-device cache of copies of hot
/// vectors, asked first by every search.</summary>
public enum VectorTier
{
    /// <summary>The on-device cache (the seed's local FAISS tier): copies of hot vectors, free, about 10 ms.</summary>
    Edge = 0,

    /// <summary>Fast remote tier for the active conversation (the seed's Pinecone tier): recent and highly interacted vectors.</summary>
    Critical = 1,

    /// <summary>Balanced remote tier (the seed's Weaviate tier): vectors used in the last days, relevant in searches, or hot.</summary>
    Context = 2,

    /// <summary>Cheap remote tier (the seed's Qdrant tier): everything else, the long-term memory.</summary>
    Historical = 3,
}
