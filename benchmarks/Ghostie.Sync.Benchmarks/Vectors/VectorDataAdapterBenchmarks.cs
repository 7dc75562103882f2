using BenchmarkDotNet.Attributes;
using Ghostie.Sync.Vectors;
using Ghostie.Sync.Vectors.Local;
using Microsoft.Extensions.VectorData;

namespace Ghostie.Sync.Benchmarks.Vectors;

/// <summary>
/// What the Microsoft.Extensions.VectorData adapter (<see cref="GhostieVectorStore"/>) costs over the Ghostie contract it
/// maps onto: the same exact search (20,000 x 384 unit vectors, top 10) through <see cref="IVectorCollection.SearchAsync"/>
/// (the baseline) and through <c>VectorStoreCollection.SearchAsync</c> with a record class, without and with a filter
/// (which halves the candidates in both).
/// </summary>
[MemoryDiagnoser]
public class VectorDataAdapterBenchmarks
{
    private const int Count = 20_000;
    private const int Dimensions = 384;

    private LocalVectorStore _store = null!;
    private IVectorCollection _direct = null!;
    private VectorStoreCollection<string, Note> _adapted = null!;
    private float[] _query = null!;

    public sealed class Note
    {
        [VectorStoreKey] public string Id { get; set; } = "";
        [VectorStoreData] public string Category { get; set; } = "";
        [VectorStoreVector(Dimensions)] public ReadOnlyMemory<float> Embedding { get; set; }
    }

    [GlobalSetup]
    public void Setup()
    {
        float[][] vectors = VectorData.Clustered(Count + 1, Dimensions, 100, seed: 7);
        _store = new LocalVectorStore(new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Exact });
        var store = new GhostieVectorStore(_store, new GhostieVectorStoreOptions { ModelName = "bench" });
        _adapted = store.GetCollection<string, Note>("bench");
        _adapted.EnsureCollectionExistsAsync().GetAwaiter().GetResult();
        _adapted.UpsertAsync(vectors.Take(Count).Select((v, i) => new Note
        {
            Id = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Category = i % 2 == 0 ? "even" : "odd",
            Embedding = v,
        })).GetAwaiter().GetResult();
        _direct = _store.GetOrCreateCollectionAsync("bench", new EmbeddingModelInfo("bench", Dimensions)).GetAwaiter().GetResult();
        _query = vectors[Count];
    }

    [GlobalCleanup]
    public void Cleanup() => _store.Dispose();

    [Benchmark(Baseline = true, Description = "IVectorCollection.SearchAsync, top 10")]
    public async Task<int> Direct()
    {
        int n = 0;
        await foreach (VectorSearchResult result in _direct.SearchAsync(_query, new VectorSearchOptions { Top = 10 }))
        {
            n += result.Record.Key.Length;
        }

        return n;
    }

    [Benchmark(Description = "VectorStoreCollection.SearchAsync, top 10")]
    public async Task<int> Adapted()
    {
        int n = 0;
        await foreach (VectorSearchResult<Note> result in _adapted.SearchAsync(_query, 10))
        {
            n += result.Record.Id.Length;
        }

        return n;
    }

    [Benchmark(Description = "IVectorCollection.SearchAsync, top 10, filter")]
    public async Task<int> DirectFiltered()
    {
        int n = 0;
        var filter = new Dictionary<string, string> { ["Category"] = "odd" };
        await foreach (VectorSearchResult result in _direct.SearchAsync(_query, new VectorSearchOptions { Top = 10, Filter = filter }))
        {
            n += result.Record.Key.Length;
        }

        return n;
    }

    [Benchmark(Description = "VectorStoreCollection.SearchAsync, top 10, filter")]
    public async Task<int> AdaptedFiltered()
    {
        int n = 0;
        await foreach (VectorSearchResult<Note> result in _adapted.SearchAsync(_query, 10, new VectorSearchOptions<Note> { Filter = r => r.Category == "odd" }))
        {
            n += result.Record.Id.Length;
        }

        return n;
    }
}
