using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Ghostie.Sync.Vectors;
using Ghostie.Sync.Vectors.Local;
using Ghostie.Sync.Vectors.Local.Internal;

namespace Ghostie.Sync.Benchmarks.Vectors;

/// <summary>
/// Exact search over N x 384 unit vectors (fixed seed, clustered), per query, against the bound it is measured by: a
/// plain streaming pass (TensorPrimitives.Sum) over the same bytes. Single-query search should approach the baseline
/// (it reads every vector once); the batch is reported per query (Batch / QueriesPerBatch). The side-by-side with
/// FAISS and hnswlib on the 100,000-vector set is benchmarks/compare-vectors.sh.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ExactSearchBenchmarks
{
    private const int Dimensions = 384;
    private const int QueriesPerBatch = 60;

    private LocalVectorCollection _collection = null!;
    private float[] _raw = null!;
    private float[] _query = null!;
    private float[] _batch = null!;

    /// <summary>Vectors in the collection: 20,000 (about 31 MB, near the last-level cache) and 100,000 (154 MB, memory).</summary>
    [Params(20_000, 100_000)]
    public int Count { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        float[][] vectors = VectorData.Clustered(Count + QueriesPerBatch, Dimensions, 100, seed: 7);
        _raw = vectors.Take(Count).SelectMany(v => v).ToArray();
        _collection = LocalVectorCollection.Create("bench", new EmbeddingModelInfo("bench", Dimensions), new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Exact });
        _collection.UpsertAsync(vectors.Take(Count).Select((v, i) => new VectorRecord(i.ToString(System.Globalization.CultureInfo.InvariantCulture), v))).GetAwaiter().GetResult();
        _query = vectors[Count];
        int padded = (QueriesPerBatch + VectorKernels.TileQueries - 1) / VectorKernels.TileQueries * VectorKernels.TileQueries;
        _batch = new float[padded * Dimensions];
        for (int i = 0; i < QueriesPerBatch; i++)
        {
            vectors[Count + i].CopyTo(_batch, i * Dimensions);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _collection.Dispose();

    [Benchmark(Baseline = true, Description = "streaming sum over the vectors")]
    [BenchmarkCategory("scan")]
    public float StreamingPass() => TensorPrimitives.Sum(_raw);

    [Benchmark(Description = "exact search, one query, top 10")]
    [BenchmarkCategory("scan")]
    public int SingleQuery() => _collection.SearchExactRaw(_query, 10).Length;

    [Benchmark(Description = "exact search, batch of 60 queries, top 10", OperationsPerInvoke = QueriesPerBatch)]
    [BenchmarkCategory("scan")]
    public int BatchPerQuery() => _collection.SearchBatchRaw(_batch, QueriesPerBatch, 10).Length;
}

/// <summary>Fixed-seed clustered unit vectors (centre plus Gaussian noise), as the comparison script generates.</summary>
internal static class VectorData
{
    public static float[][] Clustered(int count, int dim, int clusters, int seed)
    {
        var random = new Random(seed);
        float[][] centres = Enumerable.Range(0, clusters).Select(_ => Unit(Enumerable.Range(0, dim).Select(_ => Gaussian(random)).ToArray())).ToArray();
        return Enumerable.Range(0, count).Select(_ =>
        {
            float[] centre = centres[random.Next(clusters)];
            float spread = (float)(0.9 / Math.Sqrt(dim) * (0.5 + random.NextDouble()));
            return Unit(centre.Select(c => c + Gaussian(random) * spread).ToArray());
        }).ToArray();
    }

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

    private static float[] Unit(float[] v)
    {
        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
        return v;
    }
}
