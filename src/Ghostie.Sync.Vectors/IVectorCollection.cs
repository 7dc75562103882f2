namespace Ghostie.Sync.Vectors;

/// <summary>A named collection of <see cref="VectorRecord"/>s of one embedding model, searched by cosine similarity.
/// Implementations: the on-device index (Ghostie.Sync.Vectors.Local) and remote tiers. Every vector given to a
/// collection must have the collection's dimension; a mismatch is a <see cref="VectorModelMismatchException"/>.</summary>
public interface IVectorCollection
{
    /// <summary>The collection's name.</summary>
    string Name { get; }

    /// <summary>The embedding model and dimension the collection was created with.</summary>
    EmbeddingModelInfo Model { get; }

    /// <summary>Inserts records, or replaces those whose key already exists.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">A vector's length differs from the collection's dimension
    /// (nothing of the batch is written).</exception>
    /// <exception cref="GhostieSyncException">A key or a vector is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    Task UpsertAsync(IEnumerable<VectorRecord> records, CancellationToken cancellationToken = default);

    /// <summary>Gets a record by key, or null.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Deletes a record; returns whether it existed.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The records closest to <paramref name="query"/> by cosine similarity, best first.</summary>
    /// <param name="query">The query vector (any length &gt; 0; the collection's dimension).</param>
    /// <param name="options">Top, threshold, filter (default: top 10, no threshold, no filter).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The query's length differs from the collection's dimension.</exception>
    IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>How many records the collection holds.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    Task<long> CountAsync(CancellationToken cancellationToken = default);
}

/// <summary>A place that holds named vector collections.</summary>
public interface IVectorStore
{
    /// <summary>Opens the collection <paramref name="name"/>, creating it for <paramref name="model"/> when it does not exist.</summary>
    /// <param name="name">The collection name: 1 to 64 characters of [a-z0-9_-].</param>
    /// <param name="model">The embedding model and dimension.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The collection exists with another model or dimension.</exception>
    /// <exception cref="GhostieSyncException">The name or the model is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    Task<IVectorCollection> GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken = default);
}
