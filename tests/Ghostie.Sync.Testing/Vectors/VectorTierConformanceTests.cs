using System.Globalization;
using Ghostie.Sync.Vectors;

namespace Ghostie.Sync.Testing;

/// <summary>
/// The behaviour every vector tier (every <see cref="IVectorStore"/> the tier router can hold: the on-device index,
/// pgvector, Qdrant, Weaviate, Pinecone) must share. A tier's test project derives one class per server or double it is
/// tested against and implements <see cref="CreateStoreAsync"/>. The suite uses 8-dimensional vectors and the data
/// properties <see cref="DataProperties"/> (a remote tier's conformance class must let those reach its server, since
/// filters match on them).
/// </summary>
public abstract class VectorTierConformanceTests
{
    /// <summary>The model every test uses.</summary>
    protected static readonly EmbeddingModelInfo Model = new("conformance-model", 8);

    /// <summary>The data properties the suite writes and filters on.</summary>
    public static IReadOnlyList<string> DataProperties { get; } = ["cluster", "parity"];

    /// <summary>A store over fresh, empty storage for one test (a new table prefix, collection prefix, namespace or double).</summary>
    protected abstract Task<IVectorStore> CreateStoreAsync();

    /// <summary>How far a stored vector's direction may drift (float text encodings, normalization): cosine at least 1 - this.</summary>
    protected virtual float DirectionTolerance => 1e-5f;

    /// <summary>How far a reported score may be from the exact cosine similarity.</summary>
    protected virtual float ScoreTolerance => 1e-4f;

    private static string Unique(string stem) => stem + "-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<(IVectorStore Store, IVectorCollection Collection)> OpenAsync(string stem = "conf")
    {
        IVectorStore store = await CreateStoreAsync();
        return (store, await store.GetOrCreateCollectionAsync(Unique(stem), Model));
    }

    private static async Task DisposeAsync(IVectorStore store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <summary>Clustered vectors from a fixed seed, with the <see cref="DataProperties"/>.</summary>
    /// <param name="count">How many.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="keyPrefix">The key prefix.</param>
    protected static List<VectorRecord> Records(int count, int seed, string keyPrefix = "k")
    {
        var random = new Random(seed);
        float[][] centers = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, Model.Dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var records = new List<VectorRecord>(count);
        for (int i = 0; i < count; i++)
        {
            float[] v = centers[i % 4].Select(x => x + (float)((random.NextDouble() - 0.5) * 0.6)).ToArray();
            records.Add(new VectorRecord($"{keyPrefix}{i:D4}", v, new Dictionary<string, string>
            {
                ["cluster"] = (i % 4).ToString(CultureInfo.InvariantCulture),
                ["parity"] = i % 2 == 0 ? "even" : "odd",
            }));
        }

        return records;
    }

    /// <summary>The cosine similarity, in double precision.</summary>
    /// <param name="a">One vector.</param>
    /// <param name="b">The other.</param>
    protected static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return (float)(dot / Math.Sqrt(na * nb));
    }

    private static List<(string Key, float Score)> Exact(IEnumerable<VectorRecord> records, ReadOnlySpan<float> query, VectorSearchOptions options)
    {
        var scored = new List<(string, float)>();
        foreach (VectorRecord r in records)
        {
            float score = Cosine(query, r.Vector.Span);
            if (options.Matches(r.Data) && (options.MinScore is not float min || score >= min))
            {
                scored.Add((r.Key, score));
            }
        }

        return scored.OrderByDescending(s => s.Item2).ThenBy(s => s.Item1, StringComparer.Ordinal).Take(options.Top).ToList();
    }

    private static async Task<List<VectorSearchResult>> SearchAsync(IVectorCollection collection, ReadOnlyMemory<float> query, VectorSearchOptions options, CancellationToken cancellationToken = default)
    {
        var results = new List<VectorSearchResult>();
        await foreach (VectorSearchResult result in collection.SearchAsync(query, options, cancellationToken))
        {
            results.Add(result);
        }

        return results;
    }

    [Fact]
    public async Task Upsert_ThenGet_RoundTripsDirectionAndData()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        float[] vector = [0.1f, -0.25f, 1e-3f, 0.5f, 0.333333343f, -1f, 2.5f, 0.0625f];
        var data = new Dictionary<string, string> { ["cluster"] = "7", ["parity"] = "it's \"quoted\" {json} ünïcode" };

        await collection.UpsertAsync([new VectorRecord("k1", vector, data)]);
        VectorRecord? back = await collection.GetAsync("k1");

        Assert.NotNull(back);
        Assert.Equal("k1", back.Key);
        Assert.Equal(Model.Dimensions, back.Vector.Length);
        Assert.True(Cosine(vector, back.Vector.Span) >= 1 - DirectionTolerance, "the stored vector points elsewhere");
        Assert.Equal(data, back.Data);
        Assert.Equal(1, await collection.CountAsync());
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Get_MissingKey_ReturnsNull_AndDelete_ReturnsFalse()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();

        Assert.Null(await collection.GetAsync("absent"));
        Assert.False(await collection.DeleteAsync("absent"));
        Assert.Equal(0, await collection.CountAsync());
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Keys_WithSlashesUnicodeAndMaximumLength_RoundTripAndStayDistinct()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        string[] keys = ["a/b/c", "A/b/c", "mémoire 🧠", "with space", "quote\"and'", new string('x', VectorRecord.MaxKeyLength), "00000000-0000-0000-0000-000000000001", "1"];
        List<VectorRecord> records = Records(keys.Length, seed: 3).Select((r, i) => r with { Key = keys[i] }).ToList();

        await collection.UpsertAsync(records);

        Assert.Equal(keys.Length, await collection.CountAsync());
        foreach (VectorRecord record in records)
        {
            VectorRecord? back = await collection.GetAsync(record.Key);
            Assert.NotNull(back);
            Assert.Equal(record.Key, back.Key);
            Assert.True(Cosine(record.Vector.Span, back.Vector.Span) >= 1 - DirectionTolerance, $"key '{record.Key}' came back with another vector");
        }

        List<VectorSearchResult> found = await SearchAsync(collection, records[2].Vector, new VectorSearchOptions { Top = keys.Length });
        Assert.Equal(keys.OrderBy(k => k, StringComparer.Ordinal), found.Select(r => r.Record.Key).OrderBy(k => k, StringComparer.Ordinal));
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Upsert_SameKey_ReplacesVectorAndData()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(3, seed: 4);
        await collection.UpsertAsync([records[0] with { Key = "k" }]);

        await collection.UpsertAsync([records[1] with { Key = "k", Data = new Dictionary<string, string> { ["cluster"] = "9" } }, records[2]]);

        VectorRecord? back = await collection.GetAsync("k");
        Assert.NotNull(back);
        Assert.True(Cosine(records[1].Vector.Span, back.Vector.Span) >= 1 - DirectionTolerance);
        Assert.Equal(new Dictionary<string, string> { ["cluster"] = "9" }, back.Data);
        Assert.Equal(2, await collection.CountAsync());
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Upsert_WithoutData_ThenWithData_ThenWithout_TracksTheLatest()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        VectorRecord record = Records(1, seed: 5)[0];

        await collection.UpsertAsync([record with { Data = null }]);
        Assert.True((await collection.GetAsync(record.Key))!.Data is null or { Count: 0 });
        await collection.UpsertAsync([record]);
        Assert.Equal(record.Data, (await collection.GetAsync(record.Key))!.Data);
        await collection.UpsertAsync([record with { Data = null }]);

        Assert.True((await collection.GetAsync(record.Key))!.Data is null or { Count: 0 });
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Upsert_RetriedBatch_IsIdempotent()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(20, seed: 6);

        await collection.UpsertAsync(records);
        await collection.UpsertAsync(records);

        Assert.Equal(20, await collection.CountAsync());
        Assert.Equal(records[7].Data, (await collection.GetAsync(records[7].Key))!.Data);
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Upsert_KeyTwiceInOneBatch_KeepsTheLast()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(2, seed: 7);

        await collection.UpsertAsync([records[0] with { Key = "dup" }, records[1] with { Key = "dup" }]);

        Assert.Equal(1, await collection.CountAsync());
        VectorRecord? back = await collection.GetAsync("dup");
        Assert.True(Cosine(records[1].Vector.Span, back!.Vector.Span) >= 1 - DirectionTolerance);
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Delete_RemovesTheRecord_AndARetriedDeleteReturnsFalse()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(5, seed: 8);
        await collection.UpsertAsync(records);

        Assert.True(await collection.DeleteAsync(records[2].Key));
        Assert.False(await collection.DeleteAsync(records[2].Key));

        Assert.Null(await collection.GetAsync(records[2].Key));
        Assert.Equal(4, await collection.CountAsync());
        List<VectorSearchResult> found = await SearchAsync(collection, records[2].Vector, new VectorSearchOptions { Top = 10 });
        Assert.DoesNotContain(found, r => r.Record.Key == records[2].Key);
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Search_ReturnsTheExactNearest_BestFirst_WithCosineScores()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(200, seed: 9);
        await collection.UpsertAsync(records);
        float[] query = records[17].Vector.ToArray().Select((x, i) => x + (i % 2 == 0 ? 0.05f : -0.05f)).ToArray();
        var options = new VectorSearchOptions { Top = 10 };

        List<VectorSearchResult> found = await SearchAsync(collection, query, options);
        List<(string Key, float Score)> expected = Exact(records, query, options);

        Assert.Equal(expected.Select(e => e.Key), found.Select(f => f.Record.Key));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.InRange(found[i].Score, expected[i].Score - ScoreTolerance, expected[i].Score + ScoreTolerance);
        }

        Assert.All(found, r => Assert.True(r.Record.Vector.IsEmpty, "vectors are left out unless asked for"));
        Assert.Equal(records[17].Data, found.Single(r => r.Record.Key == records[17].Key).Record.Data);
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Search_IncludeVectors_ReturnsTheStoredDirection()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(10, seed: 10);
        await collection.UpsertAsync(records);

        List<VectorSearchResult> found = await SearchAsync(collection, records[3].Vector, new VectorSearchOptions { Top = 3, IncludeVectors = true });

        Assert.Equal(3, found.Count);
        Assert.All(found, r => Assert.True(Cosine(records.Single(x => x.Key == r.Record.Key).Vector.Span, r.Record.Vector.Span) >= 1 - DirectionTolerance));
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Search_MinScore_LeavesOutWorseResults()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(100, seed: 11);
        await collection.UpsertAsync(records);
        var options = new VectorSearchOptions { Top = 100, MinScore = 0.9f };

        List<VectorSearchResult> found = await SearchAsync(collection, records[0].Vector, options);
        List<(string Key, float Score)> expected = Exact(records, records[0].Vector.Span, options);

        Assert.NotEmpty(found);
        Assert.True(found.Count < 100);
        Assert.All(found, r => Assert.True(r.Score >= 0.9f - ScoreTolerance));
        Assert.Equal(expected.Select(e => e.Key).ToHashSet(), found.Select(f => f.Record.Key).ToHashSet());
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Search_Filter_ReturnsOnlyMatchingRecords_TheExactNearestOfThem()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(200, seed: 12);
        await collection.UpsertAsync(records);
        var options = new VectorSearchOptions { Top = 7, Filter = new Dictionary<string, string> { ["cluster"] = "2", ["parity"] = "even" } };

        List<VectorSearchResult> found = await SearchAsync(collection, records[1].Vector, options);
        List<(string Key, float Score)> expected = Exact(records, records[1].Vector.Span, options);

        Assert.Equal(7, found.Count);
        Assert.Equal(expected.Select(e => e.Key), found.Select(f => f.Record.Key));
        Assert.All(found, r => Assert.Equal("2", r.Record.Data!["cluster"]));
        var none = new VectorSearchOptions { Top = 5, Filter = new Dictionary<string, string> { ["cluster"] = "1", ["parity"] = "even" } };
        Assert.Empty(await SearchAsync(collection, records[1].Vector, none)); // cluster 1 holds odd indexes only
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Upsert_WrongDimension_ThrowsModelMismatch_AndWritesNothingOfTheBatch()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(3, seed: 13);

        var error = await Assert.ThrowsAsync<VectorModelMismatchException>(() =>
            collection.UpsertAsync([records[0], new VectorRecord("short", new float[5]), records[1]]));

        Assert.Equal(5, error.ActualDimensions);
        Assert.Equal(0, await collection.CountAsync());
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Upsert_InvalidKeyOrVector_ThrowsInvalidArgument_AndWritesNothing()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        VectorRecord good = Records(1, seed: 14)[0];

        var emptyKey = await Assert.ThrowsAsync<GhostieSyncException>(() => collection.UpsertAsync([good, good with { Key = "" }]));
        var nan = await Assert.ThrowsAsync<GhostieSyncException>(() => collection.UpsertAsync([good, good with { Key = "nan", Vector = new float[] { float.NaN, 1, 1, 1, 1, 1, 1, 1 } }]));
        var zero = await Assert.ThrowsAsync<GhostieSyncException>(() => collection.UpsertAsync([good with { Key = "zero", Vector = new float[8] }]));

        Assert.Equal(GhostieErrorCode.InvalidArgument, emptyKey.Code);
        Assert.Equal(GhostieErrorCode.InvalidArgument, nan.Code);
        Assert.Equal(GhostieErrorCode.InvalidArgument, zero.Code);
        Assert.Equal(0, await collection.CountAsync());
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Search_WrongDimension_ThrowsModelMismatch()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        await collection.UpsertAsync(Records(2, seed: 15));

        await Assert.ThrowsAsync<VectorModelMismatchException>(() => SearchAsync(collection, new float[] { 1, 2, 3 }, new VectorSearchOptions()));
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Open_ExistingCollection_WithAnotherModelOrDimension_ThrowsModelMismatch()
    {
        IVectorStore store = await CreateStoreAsync();
        string name = Unique("model");
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(name, Model);
        await collection.UpsertAsync(Records(2, seed: 16));

        await Assert.ThrowsAsync<VectorModelMismatchException>(() => store.GetOrCreateCollectionAsync(name, new EmbeddingModelInfo("other-model", 8)));
        await Assert.ThrowsAsync<VectorModelMismatchException>(() => store.GetOrCreateCollectionAsync(name, new EmbeddingModelInfo(Model.ModelName, 16)));

        IVectorCollection again = await store.GetOrCreateCollectionAsync(name, Model);
        Assert.Equal(2, await again.CountAsync());
        Assert.Equal(Model, again.Model);
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Collections_WithDifferentNames_AreSeparate()
    {
        IVectorStore store = await CreateStoreAsync();
        IVectorCollection a = await store.GetOrCreateCollectionAsync(Unique("a"), Model);
        IVectorCollection b = await store.GetOrCreateCollectionAsync(Unique("b"), Model);
        List<VectorRecord> records = Records(4, seed: 17);

        await a.UpsertAsync(records);
        await b.UpsertAsync([records[0]]);
        Assert.True(await b.DeleteAsync(records[0].Key));

        Assert.Equal(4, await a.CountAsync());
        Assert.Equal(0, await b.CountAsync());
        Assert.NotNull(await a.GetAsync(records[0].Key));
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Open_InvalidName_ThrowsInvalidArgument()
    {
        IVectorStore store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => store.GetOrCreateCollectionAsync("Bad Name!", Model));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        await DisposeAsync(store);
    }

    [Fact]
    public async Task LargeCollection_CountsEveryRecord_AndATopOfAThousandComesBackWhole()
    {
        // More than any one request of the remote APIs carries (Pinecone 1,000 vectors per upsert, list pages of 100;
        // Weaviate and Qdrant batches): the tier has to batch writes and page through counts.
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(2_500, seed: 18);

        await collection.UpsertAsync(records);

        Assert.Equal(2_500, await collection.CountAsync());
        List<VectorSearchResult> found = await SearchAsync(collection, records[5].Vector, new VectorSearchOptions { Top = 1_000 });
        Assert.Equal(1_000, found.Count);
        Assert.Equal(1_000, found.Select(r => r.Record.Key).Distinct(StringComparer.Ordinal).Count());
        Assert.True(found.Zip(found.Skip(1)).All(p => p.First.Score >= p.Second.Score - ScoreTolerance), "results are best first");
        Assert.Equal(records[5].Key, found[0].Record.Key);
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Upsert_WithACancelledToken_ThrowsOperationCanceled_AndWritesNothing()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(3, seed: 19);
        await collection.UpsertAsync([records[0]]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.UpsertAsync([records[1], records[2]], new CancellationToken(true)));

        Assert.Equal(1, await collection.CountAsync());
        Assert.Null(await collection.GetAsync(records[1].Key));
        await DisposeAsync(store);
    }

    /// <summary>Whether reads, deletes and opens given an already cancelled token throw (default true). The on-device
    /// index answers them synchronously from memory under a lock and does not look at the token; it says so here, and
    /// the test then checks that they complete normally instead.</summary>
    protected virtual bool CancelsInMemoryOperations => true;

    [Fact]
    public async Task ReadsDeletesAndOpens_WithACancelledToken_ThrowOperationCanceled()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        List<VectorRecord> records = Records(1, seed: 19);
        await collection.UpsertAsync(records);
        var cancelled = new CancellationToken(true);

        if (!CancelsInMemoryOperations)
        {
            Assert.NotNull(await collection.GetAsync(records[0].Key, cancelled));
            Assert.Equal(1, await collection.CountAsync(cancelled));
            Assert.True(await collection.DeleteAsync(records[0].Key, cancelled));
            await DisposeAsync(store);
            return;
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.GetAsync(records[0].Key, cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.DeleteAsync(records[0].Key, cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.CountAsync(cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SearchAsync(collection, records[0].Vector, new VectorSearchOptions(), cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.GetOrCreateCollectionAsync(Unique("cancel"), Model, cancelled));

        Assert.Equal(1, await collection.CountAsync());
        Assert.NotNull(await collection.GetAsync(records[0].Key));
        await DisposeAsync(store);
    }

    [Fact]
    public async Task Search_InvalidOptions_ThrowInvalidArgument()
    {
        (IVectorStore store, IVectorCollection collection) = await OpenAsync();
        await collection.UpsertAsync(Records(2, seed: 20));

        var top = await Assert.ThrowsAsync<GhostieSyncException>(() => SearchAsync(collection, Records(1, seed: 20)[0].Vector, new VectorSearchOptions { Top = 0 }));

        Assert.Equal(GhostieErrorCode.InvalidArgument, top.Code);
        await DisposeAsync(store);
    }
}
