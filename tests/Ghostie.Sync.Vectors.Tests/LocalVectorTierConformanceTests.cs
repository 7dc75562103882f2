using Ghostie.Sync.Testing;
using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Vectors.Tests;

/// <summary>The on-device index (exact scan) as a tier: the shared vector tier conformance suite.</summary>
public sealed class LocalExactVectorTierConformanceTests : VectorTierConformanceTests
{
    protected override bool CancelsInMemoryOperations => false;

    protected override Task<IVectorStore> CreateStoreAsync() =>
        Task.FromResult<IVectorStore>(new LocalVectorStore(new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Exact }));
}

/// <summary>The on-device index saved to files: every collection is reopened from disk by a second store before it is
/// used, so the suite also covers the file format's round trip.</summary>
public sealed class LocalFileVectorTierConformanceTests : VectorTierConformanceTests, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ghostie-vconf-" + Guid.NewGuid().ToString("N")[..8]);

    protected override bool CancelsInMemoryOperations => false;

    protected override Task<IVectorStore> CreateStoreAsync() =>
        Task.FromResult<IVectorStore>(new SavingStore(new LocalVectorStore(new LocalVectorStoreOptions { Directory = Path.Combine(_directory, Guid.NewGuid().ToString("N")[..8]) })));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Saves after every write, so the records live in the index file.</summary>
    private sealed class SavingStore(LocalVectorStore inner) : IVectorStore, IDisposable
    {
        public async Task<IVectorCollection> GetOrCreateCollectionAsync(string name, EmbeddingModelInfo model, CancellationToken cancellationToken = default) =>
            new SavingCollection(inner, await inner.GetOrCreateCollectionAsync(name, model, cancellationToken));

        public void Dispose() => inner.Dispose();
    }

    private sealed class SavingCollection(LocalVectorStore store, LocalVectorCollection inner) : IVectorCollection
    {
        public string Name => inner.Name;

        public EmbeddingModelInfo Model => inner.Model;

        public async Task UpsertAsync(IEnumerable<VectorRecord> records, CancellationToken cancellationToken = default)
        {
            await inner.UpsertAsync(records, cancellationToken);
            await store.SaveAsync(cancellationToken);
        }

        public Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
        {
            bool deleted = await inner.DeleteAsync(key, cancellationToken);
            await store.SaveAsync(CancellationToken.None); // the delete took place: the file must follow
            return deleted;
        }

        public IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null, CancellationToken cancellationToken = default) =>
            inner.SearchAsync(query, options, cancellationToken);

        public Task<long> CountAsync(CancellationToken cancellationToken = default) => inner.CountAsync(cancellationToken);
    }
}
