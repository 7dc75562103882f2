using System.Collections;
using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Vectors.Tests;

/// <summary>Cancellation never leaves half a batch written, nor reports a stored batch as not written.</summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task Upsert_CancelledWhileTheBatchIsBeingWritten_WritesTheWholeBatch()
    {
        using var cts = new CancellationTokenSource();
        float[][] vectors = TestData.Clustered(50, 8, 3, seed: 21);
        using var collection = LocalVectorCollection.Create("cancel", new EmbeddingModelInfo("m", 8), new LocalVectorStoreOptions());

        // The first record's data cancels the token as the collection copies it (the batch is already under way).
        await collection.UpsertAsync(vectors.Select((v, i) => new VectorRecord(TestData.Key(i), v, i == 0 ? new CancellingData(cts) : null)), cts.Token);

        Assert.True(cts.IsCancellationRequested);
        Assert.Equal(50, await collection.CountAsync());
    }

    [Fact]
    public async Task Upsert_CancelledBeforehand_WritesNothing()
    {
        using var collection = LocalVectorCollection.Create("cancel", new EmbeddingModelInfo("m", 8), new LocalVectorStoreOptions());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            collection.UpsertAsync(TestData.Clustered(5, 8, 1, seed: 22).Select((v, i) => new VectorRecord(TestData.Key(i), v)), new CancellationToken(true)));

        Assert.Equal(0, await collection.CountAsync());
    }

    [Fact]
    public async Task Upsert_CancelledDuringTheAutomaticGraphBuild_KeepsTheRecords_AndBuildsTheGraphLater()
    {
        using var cts = new CancellationTokenSource();
        float[][] vectors = TestData.Clustered(300, 8, 3, seed: 23);
        using var collection = LocalVectorCollection.Create("auto", new EmbeddingModelInfo("m", 8), new LocalVectorStoreOptions { HnswThreshold = 250 });

        await collection.UpsertAsync(vectors.Take(299).Select((v, i) => new VectorRecord(TestData.Key(i), v, i == 298 ? new CancellingData(cts) : null)), cts.Token);

        Assert.Equal(299, await collection.CountAsync());
        Assert.False(collection.HasGraph); // put off, not half built
        Assert.Equal(TestData.Key(5), collection.Search(vectors[5], new VectorSearchOptions { Top = 1 })[0].Record.Key);
        await collection.UpsertAsync([new VectorRecord(TestData.Key(299), vectors[299])]);
        Assert.True(collection.HasGraph);
    }

    /// <summary>Data that cancels a token when it is read.</summary>
    private sealed class CancellingData(CancellationTokenSource cts) : IReadOnlyDictionary<string, string>
    {
        private readonly Dictionary<string, string> _inner = new() { ["k"] = "v" };

        public int Count => _inner.Count;

        public IEnumerable<string> Keys => _inner.Keys;

        public IEnumerable<string> Values => _inner.Values;

        public string this[string key] => _inner[key];

        public bool ContainsKey(string key) => _inner.ContainsKey(key);

        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string value) => _inner.TryGetValue(key, out value);

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            cts.Cancel();
            return _inner.GetEnumerator();
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
