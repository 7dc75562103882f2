using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Ghostie.Sync.Vectors.Internal;
using Microsoft.Extensions.VectorData;

namespace Ghostie.Sync.Vectors;

/// <summary>
/// The <c>Microsoft.Extensions.VectorData</c> <see cref="VectorStore"/> over a Ghostie <see cref="IVectorStore"/>: the
/// on-device index (<c>LocalVectorStore</c>), pgvector (<c>PgVectorStore</c>) or the tiered store
/// (<c>TieredVectorStore</c>). Records are classes with <c>[VectorStoreKey]</c>, <c>[VectorStoreData]</c> and one
/// <c>[VectorStoreVector]</c> property (or a <see cref="VectorStoreCollectionDefinition"/>, or dynamic
/// <c>Dictionary&lt;string, object?&gt;</c> records); each maps to one Ghostie <see cref="VectorRecord"/>: the key as
/// text, the vector, and the data properties as invariant text in <see cref="VectorRecord.Data"/>. What is supported,
/// and what throws <see cref="NotSupportedException"/>: docs/vectors.md.
/// </summary>
public sealed class GhostieVectorStore : VectorStore
{
    internal const string SystemName = "ghostie";

    private readonly IVectorStore _store;
    private readonly GhostieVectorStoreOptions _options;
    private readonly VectorStoreMetadata _metadata;

    /// <summary>Creates the adapter.</summary>
    /// <param name="store">The Ghostie store that holds the collections.</param>
    /// <param name="options">The model name and default embedding generator (default: none; then every collection
    /// needs an embedding generator whose metadata names its model).</param>
    public GhostieVectorStore(IVectorStore store, GhostieVectorStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _options = options ?? new GhostieVectorStoreOptions();
        _metadata = new VectorStoreMetadata { VectorStoreSystemName = SystemName, VectorStoreName = _options.StoreName };
    }

    /// <summary>The Ghostie store under the adapter.</summary>
    public IVectorStore InnerStore => _store;

    /// <inheritdoc />
    /// <exception cref="GhostieSyncException">The name is not a valid collection name, or no model name is known
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    /// <exception cref="NotSupportedException">The record shape is one Ghostie cannot store (see docs/vectors.md).</exception>
    [RequiresDynamicCode("Mapping record classes uses reflection. For dynamic mapping via Dictionary<string, object?>, use GetDynamicCollection() instead.")]
    [RequiresUnreferencedCode("Mapping record classes uses reflection. For dynamic mapping via Dictionary<string, object?>, use GetDynamicCollection() instead.")]
    public override VectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null)
    {
        if (typeof(TRecord) == typeof(Dictionary<string, object?>))
        {
            throw new NotSupportedException(
                "GetCollection does not map Dictionary<string, object?> records; use GetDynamicCollection(name, definition) for dynamic records.");
        }

        VectorCollectionName.EnsureValid(name);
        var model = new VectorDataModelBuilder().Build(typeof(TRecord), typeof(TKey), definition, definition?.EmbeddingGenerator ?? _options.EmbeddingGenerator);
        return new VectorDataCollection<TKey, TRecord>(_store, name, model, _options);
    }

    /// <inheritdoc />
    /// <exception cref="GhostieSyncException">The name is not a valid collection name, or no model name is known
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    /// <exception cref="NotSupportedException">The definition describes records Ghostie cannot store (see docs/vectors.md).</exception>
    public override VectorStoreCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, VectorStoreCollectionDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        VectorCollectionName.EnsureValid(name);
        var model = new VectorDataModelBuilder().BuildDynamic(definition, definition.EmbeddingGenerator ?? _options.EmbeddingGenerator);
        return new VectorDataCollection<object, Dictionary<string, object?>>(_store, name, model, _options);
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The Ghostie store cannot list its collections (it is no <see cref="IVectorCollectionCatalog"/>).</exception>
    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (string name in Catalog(_store, "ListCollectionNamesAsync").ListCollectionNamesAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return name;
        }
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The Ghostie store cannot test its collections (it is no <see cref="IVectorCollectionCatalog"/>).</exception>
    public override Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        return Catalog(_store, "CollectionExistsAsync").CollectionExistsAsync(name, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The Ghostie store cannot delete its collections (it is no <see cref="IVectorCollectionCatalog"/>).</exception>
    public override Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        return Catalog(_store, "EnsureCollectionDeletedAsync").DeleteCollectionAsync(name, cancellationToken);
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreMetadata) ? _metadata
            : serviceType.IsInstanceOfType(_store) ? _store
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    internal static IVectorCollectionCatalog Catalog(IVectorStore store, string operation) =>
        store as IVectorCollectionCatalog ?? throw new NotSupportedException(
            $"{operation} needs a store that can list, test and delete its collections; {store.GetType().Name} does not implement IVectorCollectionCatalog.");
}
