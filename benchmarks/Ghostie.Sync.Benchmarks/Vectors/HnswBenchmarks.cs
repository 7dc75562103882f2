using BenchmarkDotNet.Attributes;
using Ghostie.Sync.Vectors;
using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Benchmarks.Vectors;

/// <summary>
/// The HNSW graph on 20,000 x 384 clustered vectors (M=16, efConstruction=200): a search at two ef values against
/// the exact scan of the same collection (the baseline), and reloading the saved index against building it.
/// </summary>
[MemoryDiagnoser]
public class HnswBenchmarks
{
    private const int Count = 20_000;
    private const int Dimensions = 384;
    private LocalVectorCollection _graph = null!;
    private float[][] _queries = null!;
    private string _path = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        float[][] vectors = VectorData.Clustered(Count + 100, Dimensions, 100, seed: 8);
        _queries = vectors.Skip(Count).ToArray();
        _graph = LocalVectorCollection.Create("bench", new EmbeddingModelInfo("bench", Dimensions), new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Hnsw });
        _graph.UpsertAsync(vectors.Take(Count).Select((v, i) => new VectorRecord(i.ToString(System.Globalization.CultureInfo.InvariantCulture), v))).GetAwaiter().GetResult();
        _path = Path.Combine(Path.GetTempPath(), "ghostie-hnsw-bench.gvx");
        _graph.SaveAsync(_path).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _graph.Dispose();
        File.Delete(_path);
    }

    private float[] NextQuery() => _queries[_next++ % _queries.Length];

    [Benchmark(Baseline = true, Description = "exact scan, top 10")]
    public int Exact() => _graph.SearchExactRaw(NextQuery(), 10).Length;

    [Benchmark(Description = "HNSW ef=24, top 10")]
    public int GraphEf24() => _graph.SearchGraphRaw(NextQuery(), 10, 24).Length;

    [Benchmark(Description = "HNSW ef=64, top 10")]
    public int GraphEf64() => _graph.SearchGraphRaw(NextQuery(), 10, 64).Length;

    [Benchmark(Description = "reload the saved index (graph included)")]
    public long Reload()
    {
        using LocalVectorCollection loaded = LocalVectorCollection.LoadAsync(_path).GetAwaiter().GetResult();
        return loaded.IndexBytes;
    }
}
