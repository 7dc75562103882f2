using Xunit.Abstractions;
using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Vectors.Tests;

public sealed class QuantizationTests(ITestOutputHelper output)
{
    /// <summary>Stated floors for int8 storage on clustered 64-dimensional data: every score within 0.02 of the float
    /// score, and recall@10 against the exact float answer at least 0.9 (measured: 0.990, worst score error 0.0026).</summary>
    [Fact]
    public async Task Int8_ScoresAndRecall_AboveFloors_AtAQuarterOfTheMemory()
    {
        float[][] vectors = TestData.Clustered(2000, 64, 20, seed: 31);
        float[][] queries = TestData.Clustered(50, 64, 20, seed: 32);
        using LocalVectorCollection float32 = await TestData.FillAsync(vectors, new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Exact });
        using LocalVectorCollection int8 = await TestData.FillAsync(vectors, new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Exact, Quantization = VectorQuantization.Int8 });

        int hits = 0;
        double worst = 0;
        foreach (float[] query in queries)
        {
            var exact = float32.Search(query, new VectorSearchOptions { Top = 10 });
            var approx = int8.Search(query, new VectorSearchOptions { Top = 10 });
            hits += approx.Count(a => exact.Any(e => e.Record.Key == a.Record.Key));
            foreach (VectorSearchResult result in approx)
            {
                double truth = TestData.Cosine(vectors[int.Parse(result.Record.Key[1..], System.Globalization.CultureInfo.InvariantCulture)], query);
                worst = Math.Max(worst, Math.Abs(truth - result.Score));
            }
        }

        double recall = hits / (double)(queries.Length * 10);
        output.WriteLine($"int8 recall@10 = {recall:0.000}, worst score error = {worst:0.0000}");
        Assert.True(recall >= 0.9, $"int8 recall@10 {recall:0.000} is below 0.9");
        Assert.True(worst <= 0.02, $"int8 score error {worst:0.0000} exceeds 0.02");
        Assert.True(int8.IndexBytes * 3.5 < float32.IndexBytes, $"int8 {int8.IndexBytes} bytes vs float {float32.IndexBytes}");
    }

    [Fact]
    public async Task Int8_BatchAndGraph_AgreeWithExactInt8()
    {
        float[][] vectors = TestData.Clustered(1500, 32, 15, seed: 33);
        float[][] queries = TestData.Clustered(12, 32, 15, seed: 34);
        var graphOptions = new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Hnsw, Quantization = VectorQuantization.Int8 };
        graphOptions.Hnsw.EfConstruction = 64;
        using LocalVectorCollection collection = await TestData.FillAsync(vectors, graphOptions);

        var batch = collection.SearchBatch(queries.Select(q => (ReadOnlyMemory<float>)q).ToArray(), new VectorSearchOptions { Top = 10 });
        int agree = 0;
        for (int i = 0; i < queries.Length; i++)
        {
            var exact = collection.Search(queries[i], new VectorSearchOptions { Top = 10 }, LocalSearchMode.Exact);
            Assert.Equal(exact.Select(r => r.Record.Key), batch[i].Select(r => r.Record.Key));
            agree += collection.Search(queries[i], new VectorSearchOptions { Top = 10 }).Count(g => exact.Any(e => e.Record.Key == g.Record.Key));
        }

        Assert.True(agree >= queries.Length * 10 * 0.9, $"graph over int8 found {agree} of {queries.Length * 10}");
    }
}
