using Microsoft.Extensions.AI;

namespace Ghostie.Sync.Vectors;

/// <summary>Options of the <see cref="GhostieVectorStore"/> adapter.</summary>
public sealed class GhostieVectorStoreOptions
{
    /// <summary>The embedding model id recorded for collections opened through the adapter (default null: the model id
    /// in the metadata of the embedding generator configured for the collection's vector property, its definition or
    /// <see cref="EmbeddingGenerator"/>). Ghostie records the model of every collection (together with the
    /// dimension of the <c>[VectorStoreVector]</c> property), so a collection opened for another model is refused
    /// with a <see cref="VectorModelMismatchException"/>, never compared.</summary>
    public string? ModelName { get; set; }

    /// <summary>The default embedding generator for vector properties that are not vectors (for example a
    /// <see cref="string"/> property marked <c>[VectorStoreVector(384)]</c>) and for searches by text (default null).</summary>
    public IEmbeddingGenerator? EmbeddingGenerator { get; set; }

    /// <summary>The name reported in <see cref="Microsoft.Extensions.VectorData.VectorStoreMetadata.VectorStoreName"/> and in
    /// errors (default null).</summary>
    public string? StoreName { get; set; }
}
