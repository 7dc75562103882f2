using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Vectors.Tests;

public sealed class ExactSearchTests
{
    private static readonly LocalVectorStoreOptions Exact = new() { IndexKind = LocalIndexKind.Exact };

    [Theory]
    [InlineData(64, 1)]
    [InlineData(37, 2)] // a dimension that is not a multiple of any vector width: the scalar tails are used
    public async Task Search_RandomVectors_EqualsBruteForce(int dim, int seed)
    {
        float[][] vectors = TestData.Uniform(1003, dim, seed);
        float[][] queries = TestData.Uniform(13, dim, seed + 100);
        using LocalVectorCollection collection = await TestData.FillAsync(vectors, Exact);

        foreach (float[] query in queries)
        {
            var expected = TestData.BruteForce(vectors, query, 10);
            var actual = collection.Search(query, new VectorSearchOptions { Top = 10 });
            Assert.Equal(expected.Select(e => e.Key), actual.Select(a => a.Record.Key));
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i].Score, actual[i].Score, 4);
            }
        }
    }

    [Fact]
    public async Task SearchBatch_ManyQueries_EqualsSingleSearchAndBruteForce()
    {
        float[][] vectors = TestData.Clustered(700, 48, 10, seed: 3); // 700 rows: a partial last panel and block
        float[][] queries = TestData.Clustered(23, 48, 10, seed: 4);   // 23 queries: a partial last tile
        using LocalVectorCollection collection = await TestData.FillAsync(vectors, Exact);

        var batch = collection.SearchBatch(queries.Select(q => (ReadOnlyMemory<float>)q).ToArray(), new VectorSearchOptions { Top = 7 });

        Assert.Equal(queries.Length, batch.Length);
        for (int i = 0; i < queries.Length; i++)
        {
            Assert.Equal(TestData.BruteForce(vectors, queries[i], 7).Select(e => e.Key), batch[i].Select(r => r.Record.Key));
            Assert.Equal(collection.Search(queries[i], new VectorSearchOptions { Top = 7 }).Select(r => r.Record.Key), batch[i].Select(r => r.Record.Key));
        }
    }

    [Fact]
    public async Task Search_FilterAndThreshold_OnlyMatchingRecordsAboveTheScore()
    {
        float[][] vectors = TestData.Uniform(300, 16, 5);
        using LocalVectorCollection collection = await TestData.FillAsync(vectors, Exact);
        float[] query = vectors[42];

        var results = collection.Search(query, new VectorSearchOptions { Top = 20, MinScore = 0.3f, Filter = new Dictionary<string, string> { ["parity"] = "1" } });

        var expected = vectors.Select((v, i) => (Key: TestData.Key(i), Score: TestData.Cosine(v, query), Odd: i % 2 == 1))
            .Where(p => p.Odd && p.Score >= 0.3).OrderByDescending(p => p.Score).Take(20).Select(p => p.Key);
        Assert.Equal(expected, results.Select(r => r.Record.Key));
        Assert.All(results, r => Assert.Equal("1", r.Record.Data!["parity"]));
        Assert.DoesNotContain(results, r => r.Record.Key == TestData.Key(42)); // even: filtered out although it scores 1.0
    }

    [Fact]
    public async Task UpsertGetDelete_ReplaceAndRemove_SearchSeesTheCurrentState()
    {
        float[][] vectors = TestData.Uniform(50, 8, 6);
        using LocalVectorCollection collection = await TestData.FillAsync(vectors, Exact);
        float[] replacement = TestData.Normalize([1, 0, 0, 0, 0, 0, 0, 0]);

        await collection.UpsertAsync([new VectorRecord(TestData.Key(3), replacement, new Dictionary<string, string> { ["tag"] = "new" })]);
        Assert.True(await collection.DeleteAsync(TestData.Key(4)));
        Assert.False(await collection.DeleteAsync(TestData.Key(4)));

        Assert.Equal(49, await collection.CountAsync());
        VectorRecord? got = await collection.GetAsync(TestData.Key(3));
        Assert.NotNull(got);
        Assert.Equal("new", got.Data!["tag"]);
        Assert.Equal(replacement, got.Vector.ToArray());
        Assert.Null(await collection.GetAsync(TestData.Key(4)));
        var top = await collection.SearchAsync(replacement, new VectorSearchOptions { Top = 1 }).ToListAsync();
        Assert.Equal(TestData.Key(3), Assert.Single(top).Record.Key);
        Assert.Equal(1f, top[0].Score, 5);
        Assert.DoesNotContain(collection.Search(vectors[4], new VectorSearchOptions { Top = 50 }), r => r.Record.Key == TestData.Key(4));
    }

    [Fact]
    public void Search_EmptyCollection_ReturnsNothing()
    {
        using var collection = LocalVectorCollection.Create("empty", new EmbeddingModelInfo("m", 4));
        Assert.Empty(collection.Search(new float[] { 1, 2, 3, 4 }));
    }
}
