using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Ghostie.Sync.Vectors.Internal;

/// <summary>A <see cref="VectorStoreCollection{TKey, TRecord}"/> over one collection of a Ghostie <see cref="IVectorStore"/>:
/// each record is one <see cref="VectorRecord"/> (key as text, the vector, data properties as invariant text).</summary>
internal sealed class VectorDataCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    private readonly IVectorStore _store;
    private readonly CollectionModel _model;
    private readonly KeyPropertyModel _key;
    private readonly VectorPropertyModel _vector;
    private readonly bool _generatesEmbeddings;
    private readonly EmbeddingModelInfo _embeddingModel;
    private readonly VectorStoreCollectionMetadata _metadata;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private IVectorCollection? _open;

    internal VectorDataCollection(IVectorStore store, string name, CollectionModel model, GhostieVectorStoreOptions options)
    {
        _store = store;
        Name = name;
        _model = model;
        _key = model.KeyProperty;
        _vector = model.VectorProperty;
        _generatesEmbeddings = !VectorDataModelBuilder.IsNativeVectorType(_vector.Type);
        string modelName = options.ModelName ?? ModelIdOf(_vector.EmbeddingGenerator ?? options.EmbeddingGenerator)
            ?? throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"Collection '{name}': Ghostie records the embedding model of every collection, and none is known. Set GhostieVectorStoreOptions.ModelName, or configure an embedding generator whose metadata names its model (DefaultModelId).");
        _embeddingModel = new EmbeddingModelInfo(modelName, _vector.Dimensions);
        _embeddingModel.Validate();

        // A generator of another model than the one recorded would fill the collection with vectors nobody can compare.
        if (_vector.EmbeddingGenerator?.GetService(typeof(EmbeddingGeneratorMetadata)) is EmbeddingGeneratorMetadata { DefaultModelId: string generatorModel } generatorMetadata
            && !string.Equals(generatorModel, modelName, StringComparison.Ordinal))
        {
            throw new VectorModelMismatchException(name, _embeddingModel, generatorModel, generatorMetadata.DefaultModelDimensions ?? _vector.Dimensions, "generator");
        }
        _metadata = new VectorStoreCollectionMetadata
        {
            VectorStoreSystemName = GhostieVectorStore.SystemName,
            VectorStoreName = options.StoreName,
            CollectionName = name,
        };
    }

    /// <inheritdoc />
    public override string Name { get; }

    /// <inheritdoc />
    public override async Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) =>
        await GhostieVectorStore.Catalog(_store, "CollectionExistsAsync").CollectionExistsAsync(Name, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override async Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) =>
        await OpenAsync(create: true, "EnsureCollectionExistsAsync", cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override async Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default)
    {
        IVectorCollectionCatalog catalog = GhostieVectorStore.Catalog(_store, "EnsureCollectionDeletedAsync");
        await _openGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await catalog.DeleteCollectionAsync(Name, cancellationToken).ConfigureAwait(false);
            _open = null;
        }
        finally
        {
            _openGate.Release();
        }
    }

    /// <inheritdoc />
    public override async Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        bool includeVectors = options?.IncludeVectors == true;
        if (includeVectors && _generatesEmbeddings)
        {
            throw new NotSupportedException(VectorDataStrings.IncludeVectorsNotSupportedWithEmbeddingGeneration);
        }

        IVectorCollection collection = await OpenAsync(create: false, "GetAsync", cancellationToken).ConfigureAwait(false);
        VectorRecord? record = await collection.GetAsync(KeyText(key), cancellationToken).ConfigureAwait(false);
        return record is null ? null : ToRecord(record, includeVectors);
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">Always: Ghostie vector stores read records by key or by similarity, not by
    /// scanning with a filter.</exception>
    public override IAsyncEnumerable<TRecord> GetAsync(Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException(
            $"Collection '{Name}': Ghostie vector stores do not list records by filter; read records by key with GetAsync(key), or find them by similarity with SearchAsync and a filter.");

    /// <inheritdoc />
    public override async Task DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        IVectorCollection collection = await OpenAsync(create: false, "DeleteAsync", cancellationToken).ConfigureAwait(false);
        await collection.DeleteAsync(KeyText(key), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return UpsertAsync([record], cancellationToken);
    }

    /// <inheritdoc />
    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        TRecord[] batch = [.. records];
        if (batch.Length == 0)
        {
            return;
        }

        for (int i = 0; i < batch.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(batch[i], nameof(records) + "[" + i + "]");
            if (_generatesEmbeddings && _vector.GetValueAsObject(batch[i]) is null)
            {
                throw new ArgumentException(
                    $"records[{i}] of collection '{Name}' has no input for its embedding (property '{_vector.ModelName}' is null); nothing of the batch was written.", nameof(records));
            }
        }

        IVectorCollection collection = await OpenAsync(create: false, "UpsertAsync", cancellationToken).ConfigureAwait(false);
        IReadOnlyList<Embedding>? generated = null;
        if (_generatesEmbeddings)
        {
            // One call to the generator for the whole batch, as connectors do; the source values are the property's.
            generated = await _vector.GenerateEmbeddingsAsync(batch.Select(r => _vector.GetValueAsObject(r)!), cancellationToken).ConfigureAwait(false);
            if (generated.Count != batch.Length)
            {
                throw new InvalidOperationException(
                    $"The embedding generator of property '{_vector.ModelName}' returned {generated.Count} embeddings for {batch.Length} inputs; nothing of the batch was written.");
            }
        }

        var converted = new VectorRecord[batch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            converted[i] = ToVectorRecord(batch[i], generated?[i]);
        }

        // The Ghostie collection checks the whole batch (keys, dimensions, vectors) before it writes anything.
        await collection.UpsertAsync(converted, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(TInput searchValue, int top,
        VectorSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options) + ".Skip");
        if (options.IncludeVectors && _generatesEmbeddings)
        {
            throw new NotSupportedException(VectorDataStrings.IncludeVectorsNotSupportedWithEmbeddingGeneration);
        }

        // One vector property only: this also checks an explicit options.VectorProperty against the model.
        _ = _model.GetVectorPropertyOrSingle(options);
        ReadOnlyMemory<float> query = searchValue switch
        {
            ReadOnlyMemory<float> memory => memory,
            float[] array => array,
            Embedding<float> embedding => embedding.Vector,
            _ when _vector.EmbeddingGenerator is IEmbeddingGenerator<TInput, Embedding<float>> generator =>
                await generator.GenerateVectorAsync(searchValue, cancellationToken: cancellationToken).ConfigureAwait(false),
            _ => _vector.EmbeddingGenerator is null
                ? throw new NotSupportedException(VectorDataStrings.InvalidSearchInputAndNoEmbeddingGeneratorWasConfigured(searchValue.GetType(), VectorDataModelBuilder.SupportedVectorTypes))
                : throw new InvalidOperationException(VectorDataStrings.IncompatibleEmbeddingGeneratorWasConfiguredForInputType(typeof(TInput), _vector.EmbeddingGenerator.GetType())),
        };

        IReadOnlyDictionary<string, string>? filter = null;
        bool matchesNothing = false;
        if (options.Filter is not null)
        {
            filter = VectorDataFilter.Translate(options.Filter, _model, out matchesNothing);
        }

        IVectorCollection collection = await OpenAsync(create: false, "SearchAsync", cancellationToken).ConfigureAwait(false);
        if (matchesNothing)
        {
            yield break;
        }

        var search = new VectorSearchOptions
        {
            Top = checked(top + options.Skip),
            MinScore = options.ScoreThreshold is double threshold ? (float)threshold : null,
            Filter = filter,
            IncludeVectors = options.IncludeVectors,
        };
        int index = 0;
        await foreach (VectorSearchResult result in collection.SearchAsync(query, search, cancellationToken).ConfigureAwait(false))
        {
            if (index++ < options.Skip)
            {
                continue;
            }

            yield return new VectorSearchResult<TRecord>(ToRecord(result.Record, options.IncludeVectors), result.Score);
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? _metadata
            : serviceType == typeof(EmbeddingModelInfo) ? _embeddingModel
            : serviceType.IsInstanceOfType(_open) ? _open
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _openGate.Dispose();
        }

        base.Dispose(disposing);
    }

    private static string? ModelIdOf(IEmbeddingGenerator? generator) =>
        (generator?.GetService(typeof(EmbeddingGeneratorMetadata)) as EmbeddingGeneratorMetadata)?.DefaultModelId;

    private async Task<IVectorCollection> OpenAsync(bool create, string operation, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _open) is IVectorCollection open)
        {
            return open;
        }

        await _openGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_open is not null)
            {
                return _open;
            }

            // Opening a Ghostie collection creates it; MEVD asks for an explicit EnsureCollectionExistsAsync first.
            if (!create && _store is IVectorCollectionCatalog catalog && !await catalog.CollectionExistsAsync(Name, cancellationToken).ConfigureAwait(false))
            {
                throw new VectorStoreException(
                    $"{operation}: collection '{Name}' does not exist; call EnsureCollectionExistsAsync() first.")
                {
                    VectorStoreSystemName = GhostieVectorStore.SystemName,
                    VectorStoreName = _metadata.VectorStoreName,
                    CollectionName = Name,
                    OperationName = operation,
                };
            }

            _open = await _store.GetOrCreateCollectionAsync(Name, _embeddingModel, cancellationToken).ConfigureAwait(false);
            return _open;
        }
        finally
        {
            _openGate.Release();
        }
    }

    private string KeyText(object key) => key switch
    {
        string text => text,
        Guid guid => guid.ToString("D"),
        _ => throw new ArgumentException($"Collection '{Name}' takes {_key.Type.Name} keys; got a {key.GetType().Name}.", nameof(key)),
    };

    private VectorRecord ToVectorRecord(TRecord record, Embedding? generated)
    {
        object? keyValue = _key.GetValueAsObject(record);
        if (_key.IsAutoGenerated && keyValue is Guid guid && guid == Guid.Empty)
        {
            keyValue = Guid.NewGuid();
            _key.SetValueAsObject(record, keyValue);
        }

        if (keyValue is null)
        {
            throw new ArgumentException($"A record for collection '{Name}' has no key (property '{_key.ModelName}' is null).", nameof(record));
        }

        string key = KeyText(keyValue);
        ReadOnlyMemory<float> vector = generated switch
        {
            Embedding<float> embedding => embedding.Vector,
            null => _vector.GetValueAsObject(record) switch
            {
                ReadOnlyMemory<float> memory => memory,
                float[] array => array,
                Embedding<float> embedding => embedding.Vector,
                _ => throw new ArgumentException(
                    $"Record '{key}' of collection '{Name}' has no vector (property '{_vector.ModelName}' is null); Ghostie stores every record with its vector.", nameof(record)),
            },
            _ => throw new InvalidOperationException(
                $"The embedding generator of property '{_vector.ModelName}' returned {generated.GetType().Name}; Ghostie vector stores need Embedding<float>."),
        };

        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DataPropertyModel property in _model.DataProperties)
        {
            if (property.GetValueAsObject(record) is object value)
            {
                data[property.StorageName] = VectorDataValues.Format(value);
            }
        }

        // The source text of a generated embedding is kept with the record, so GetAsync gives it back.
        if (_generatesEmbeddings && _vector.GetValueAsObject(record) is string source)
        {
            data[_vector.StorageName] = source;
        }

        return new VectorRecord(key, vector, data.Count == 0 ? null : data);
    }

    private TRecord ToRecord(VectorRecord stored, bool includeVectors)
    {
        TRecord record = _model.CreateRecord<TRecord>();
        _key.SetValueAsObject(record, _key.Type == typeof(Guid) ? Guid.Parse(stored.Key) : stored.Key);
        foreach (DataPropertyModel property in _model.DataProperties)
        {
            if (stored.Data is not null && stored.Data.TryGetValue(property.StorageName, out string? text))
            {
                property.SetValueAsObject(record, VectorDataValues.Parse(text, property.Type, property.ModelName, stored.Key));
            }
        }

        if (_generatesEmbeddings)
        {
            if (stored.Data is not null && stored.Data.TryGetValue(_vector.StorageName, out string? source) && _vector.Type == typeof(string))
            {
                _vector.SetValueAsObject(record, source);
            }
        }
        else if (includeVectors)
        {
            ReadOnlyMemory<float> vector = stored.Vector;
            object value = _vector.Type == typeof(float[]) ? vector.ToArray()
                : _vector.Type == typeof(Embedding<float>) ? new Embedding<float>(vector)
                : vector;
            _vector.SetValueAsObject(record, value);
        }

        return record;
    }
}
