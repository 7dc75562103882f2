using Xunit.Abstractions;
using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Vectors.Tests;

public sealed class HnswTests(ITestOutputHelper output)
{
    /// <summary>The stated floor: recall@10 of the graph (M=16, efConstruction=100, efSearch=64) on 4,000 clustered
    /// 32-dimensional vectors. Measured 0.969 (deterministic: fixed seeds); a broken link selection or search drops it far below.</summary>
    private const double RecallFloor = 0.95;

    [Fact]
    public async Task Search_ClusteredSet_RecallAtTenAboveFloor()
    {
        float[][] vectors = TestData.Clustered(4000, 32, 40, seed: 11);
        float[][] queries = TestData.Clustered(100, 32, 40, seed: 12);
        var options = new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Hnsw };
        options.Hnsw.EfConstruction = 100;
        using LocalVectorCollection collection = await TestData.FillAsync(vectors, options);
        Assert.True(collection.HasGraph);

        double recall = Recall(collection, vectors, queries, LocalSearchMode.Auto);
        output.WriteLine($"recall@10 = {recall:0.000}");

        Assert.True(recall >= RecallFloor, $"recall@10 {recall:0.000} is below the floor {RecallFloor}");
        Assert.Equal(1.0, Recall(collection, vectors, queries, LocalSearchMode.Exact), 6);
    }

    [Fact]
    public async Task Search_AfterDeletesAndReplacements_NeverReturnsRetiredRecords()
    {
        float[][] vectors = TestData.Clustered(1500, 24, 15, seed: 13);
        var options = new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Hnsw };
        options.Hnsw.EfConstruction = 64;
        using LocalVectorCollection collection = await TestData.FillAsync(vectors, options);
        for (int i = 0; i < 200; i++)
        {
            await collection.DeleteAsync(TestData.Key(i));
        }

        await collection.UpsertAsync([new VectorRecord(TestData.Key(300), vectors[301])]); // replaced: the old slot is retired

        for (int q = 0; q < 200; q += 10)
        {
            var results = collection.Search(vectors[q], new VectorSearchOptions { Top = 10 });
            Assert.All(results, r => Assert.True(int.Parse(r.Record.Key[1..], System.Globalization.CultureInfo.InvariantCulture) >= 200, r.Record.Key));
            Assert.Equal(10, results.Count);
        }

        var self = collection.Search(vectors[301], new VectorSearchOptions { Top = 2 });
        Assert.Equal(new[] { TestData.Key(300), TestData.Key(301) }.Order(), self.Select(r => r.Record.Key).Order());
        Assert.Equal(1300, await collection.CountAsync());
    }

    [Fact]
    public async Task Search_WithGraphAndSelectiveFilter_IsExactAndFull()
    {
        // 1 record in 100 is tagged: a graph walk filtered afterwards would come back nearly empty; the collection
        // answers filtered searches with the exact scan instead, so the answer is the full, exact filtered top k.
        float[][] vectors = TestData.Clustered(3000, 24, 10, seed: 15);
        var options = new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Hnsw };
        options.Hnsw.EfConstruction = 64;
        using var collection = LocalVectorCollection.Create("filtered", new EmbeddingModelInfo("m", 24), options);
        await collection.UpsertAsync(vectors.Select((v, i) => new VectorRecord(TestData.Key(i), v,
            new Dictionary<string, string> { ["tag"] = i % 100 == 7 ? "rare" : "common" })));
        Assert.True(collection.HasGraph);
        var filter = new Dictionary<string, string> { ["tag"] = "rare" };
        float[][] tagged = vectors.Where((_, i) => i % 100 == 7).ToArray();

        var results = collection.Search(vectors[0], new VectorSearchOptions { Top = 10, Filter = filter });

        var truth = vectors.Select((v, i) => (Key: TestData.Key(i), Score: TestData.Cosine(v, vectors[0])))
            .Where((_, i) => i % 100 == 7).OrderByDescending(p => p.Score).Take(10).Select(p => p.Key);
        Assert.Equal(truth, results.Select(r => r.Record.Key));
        Assert.Equal(30, tagged.Length);
    }

    [Fact]
    public async Task Auto_CrossingTheThreshold_BuildsTheGraph()
    {
        float[][] vectors = TestData.Clustered(300, 16, 5, seed: 14);
        var options = new LocalVectorStoreOptions { HnswThreshold = 250 };
        using var collection = LocalVectorCollection.Create("auto", new EmbeddingModelInfo("m", 16), options);
        await collection.UpsertAsync(vectors.Take(200).Select((v, i) => new VectorRecord(TestData.Key(i), v)));
        Assert.False(collection.HasGraph);
        await collection.UpsertAsync(vectors.Skip(200).Select((v, i) => new VectorRecord(TestData.Key(200 + i), v)));
        Assert.True(collection.HasGraph);
        Assert.Equal(TestData.Key(250), collection.Search(vectors[250], new VectorSearchOptions { Top = 1 })[0].Record.Key);
    }

    internal static double Recall(LocalVectorCollection collection, float[][] vectors, float[][] queries, LocalSearchMode mode)
    {
        int hits = 0;
        foreach (float[] query in queries)
        {
            var truth = TestData.BruteForce(vectors, query, 10).Select(e => e.Key).ToHashSet();
            hits += collection.Search(query, new VectorSearchOptions { Top = 10 }, mode).Count(r => truth.Contains(r.Record.Key));
        }

        return hits / (double)(queries.Length * 10);
    }
}
