namespace Ghostie.Sync.Vectors;

/// <summary>Implemented by an <see cref="IVectorStore"/> that can list, test and delete its collections (the local index,
/// pgvector, the tiered store over such stores). The <see cref="GhostieVectorStore"/> adapter needs it for
/// <c>CollectionExistsAsync</c>, <c>EnsureCollectionDeletedAsync</c> and <c>ListCollectionNamesAsync</c>; a store without
/// it still serves reads, writes and searches through the adapter once a collection was ensured.</summary>
public interface IVectorCollectionCatalog
{
    /// <summary>The names of the collections the store holds, in ordinal order.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    IAsyncEnumerable<string> ListCollectionNamesAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether the collection <paramref name="name"/> exists.</summary>
    /// <param name="name">The collection name (<see cref="VectorCollectionName"/> rules).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The name is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes the collection <paramref name="name"/> and its records; returns whether it existed.</summary>
    /// <param name="name">The collection name (<see cref="VectorCollectionName"/> rules).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The name is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default);
}
