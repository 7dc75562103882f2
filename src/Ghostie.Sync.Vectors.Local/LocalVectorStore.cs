namespace Ghostie.Sync.Vectors.Local;

/// <summary>
/// The on-device vector store: collections held in memory and, when <see cref="LocalVectorStoreOptions.Directory"/>
/// is set, saved as one index file per collection (<c>&lt;name&gt;.gvx</c>) by <see cref="SaveAsync(CancellationToken)"/> and
/// loaded from it on first use. Thread-safe.
/// </summary>
public sealed class LocalVectorStore : IVectorStore, IVectorCollectionCatalog, IDisposable
{
    private readonly LocalVectorStoreOptions _options;
    private readonly Dictionary<string, LocalVectorCollection> _collections = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Creates a store.</summary>
    /// <param name="options">Folder, index kind, HNSW parameters, quantization, device id, clock.</param>
    /// <exception cref="GhostieSyncException">An option is invalid.</exception>
    public LocalVectorStore(LocalVectorStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The options.</summary>
    public LocalVectorStoreOptions Options => _options;

    /// <summary>The index file of collection <paramref name="name"/>, or null for an in-memory store.</summary>
    /// <param name="name">The collection name.</param>
    public string? PathOf(string name)
    {
        VectorCollectionName.EnsureValid(name);
        return _options.Directory is null ? null : Path.Combine(_options.Directory, name + LocalVectorCollection.FileExtension);
    }

    /// <inheritdoc />
    async Task<IVectorCollection> IVectorStore.GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken) =>
        await GetOrCreateCollectionAsync(name, model, cancellationToken).ConfigureAwait(false);

    /// <summary>Opens collection <paramref name="name"/>: from memory, else from its index file, else a new empty one.</summary>
    /// <param name="name">The collection name (<see cref="VectorCollectionName"/> rules).</param>
    /// <param name="model">The embedding model and dimension.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The collection exists with another model or dimension.</exception>
    /// <exception cref="GhostieSyncException">The name or model is invalid, or the index file is damaged
    /// (<see cref="GhostieErrorCode.IntegrityFailure"/>).</exception>
    public async Task<LocalVectorCollection> GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_collections.TryGetValue(name, out LocalVectorCollection? collection))
            {
                string? path = PathOf(name);
                if (path is not null && File.Exists(path))
                {
                    collection = await LocalVectorCollection.LoadAsync(path, _options, cancellationToken).ConfigureAwait(false);
                    if (!string.Equals(collection.Name, name, StringComparison.Ordinal))
                    {
                        throw new GhostieSyncException(GhostieErrorCode.IntegrityFailure,
                            $"The vector index file '{path}' holds collection '{collection.Name}', not '{name}'. Rename or delete the file.");
                    }
                }
                else
                {
                    collection = new LocalVectorCollection(name, model, _options, _options.Quantization);
                }

                _collections[name] = collection;
            }

            collection.Model.EnsureSameAs(model, name);
            return collection;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Saves every collection changed since it was loaded or saved (a no-op for an in-memory store).</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task SaveAsync(CancellationToken cancellationToken = default)
    {
        if (_options.Directory is null)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (LocalVectorCollection collection in _collections.Values)
            {
                if (collection.IsDirty)
                {
                    await collection.SaveAsync(PathOf(collection.Name)!, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets a collection and deletes its index file; returns whether it existed.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            bool existed = _collections.Remove(name, out LocalVectorCollection? collection);
            collection?.Dispose();
            string? path = PathOf(name);
            if (path is not null && File.Exists(path))
            {
                File.Delete(path);
                existed = true;
            }

            return existed;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The collections open in memory and, with a folder, those with an index file there, in ordinal order.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            names.UnionWith(_collections.Keys);
            if (_options.Directory is not null && System.IO.Directory.Exists(_options.Directory))
            {
                foreach (string path in System.IO.Directory.EnumerateFiles(_options.Directory, "*" + LocalVectorCollection.FileExtension))
                {
                    string name = Path.GetFileNameWithoutExtension(path);
                    if (VectorCollectionName.IsValid(name))
                    {
                        names.Add(name);
                    }
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        foreach (string name in names)
        {
            yield return name;
        }
    }

    /// <summary>Whether collection <paramref name="name"/> is open in memory or has an index file.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        VectorCollectionName.EnsureValid(name);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _collections.ContainsKey(name) || PathOf(name) is string path && File.Exists(path);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (LocalVectorCollection collection in _collections.Values)
        {
            collection.Dispose();
        }

        _collections.Clear();
        _gate.Dispose();
    }
}
