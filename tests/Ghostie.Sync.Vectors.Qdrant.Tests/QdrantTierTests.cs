using Ghostie.Sync.Testing;
using Ghostie.Sync.Vectors.Tiers;
using Microsoft.Extensions.DependencyInjection;

namespace Ghostie.Sync.Vectors.Qdrant.Tests;

/// <summary>What the Qdrant tier adds to the conformance suite: privacy of data, retries, typed errors, keys, DI.</summary>
public sealed class QdrantTierTests(QdrantFixture qdrant) : IClassFixture<QdrantFixture>
{
    private static readonly EmbeddingModelInfo Model = new("m", 4);
    private const string Secret = "my doctor said the biopsy came back clean";

    private static VectorRecord Record(string key, float x = 1) =>
        new(key, new[] { x, 0.5f, -0.25f, 0.125f }, new Dictionary<string, string> { ["text"] = Secret, ["category"] = "health" });

    private static string Unique() => "c" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Upsert_ByDefault_SendsOnlyKeyAndVector_NeverTheMemoryText()
    {
        using QdrantVectorStore store = qdrant.CreateStore();
        int before = qdrant.Double.Received.Count;
        var collection = (QdrantVectorCollection)await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);
        VectorRecord? back = await collection.GetAsync("memory-1");
        _ = await ToListAsync(collection.SearchAsync(Record("q").Vector, new VectorSearchOptions { IncludeVectors = true }));

        Assert.False(qdrant.Double.ReceivedText(Secret, before), "the memory text reached Qdrant");
        Assert.False(qdrant.Double.ReceivedText("health", before));
        Assert.True(qdrant.Double.Received.Count > before);
        Assert.Equal(["{\"ghostie_key\":\"memory-1\"}"], qdrant.Double.Payloads(collection.RemoteName));
        Assert.NotNull(back);
        Assert.Null(back.Data);
    }

    [Fact]
    public async Task Upsert_WithAnOptedInProperty_SendsThatPropertyOnly()
    {
        using QdrantVectorStore store = qdrant.CreateStore(o => o.SendDataProperties.Add("category"));
        int before = qdrant.Double.Received.Count;
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);

        Assert.False(qdrant.Double.ReceivedText(Secret, before));
        Assert.True(qdrant.Double.ReceivedText("health", before));
        Assert.Equal(new Dictionary<string, string> { ["category"] = "health" }, (await collection.GetAsync("memory-1"))!.Data);
        List<VectorSearchResult> found = await ToListAsync(collection.SearchAsync(Record("q").Vector, new VectorSearchOptions { Filter = new Dictionary<string, string> { ["category"] = "health" } }));
        Assert.Single(found);
    }

    [Fact]
    public async Task Upsert_SendAllData_SendsTheText_SoTheCheckAboveCanFail()
    {
        using QdrantVectorStore store = qdrant.CreateStore(o => o.SendAllData = true);
        int before = qdrant.Double.Received.Count;
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);

        Assert.True(qdrant.Double.ReceivedText(Secret, before));
    }

    [Fact]
    public async Task Search_FilterOnAPropertyNeverSent_IsAClearError()
    {
        using QdrantVectorStore store = qdrant.CreateStore();
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => ToListAsync(collection.SearchAsync(Record("q").Vector,
            new VectorSearchOptions { Filter = new Dictionary<string, string> { ["category"] = "health" } })));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("'category'", error.Message, StringComparison.Ordinal);
        Assert.Contains("SendDataProperties", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttled429And503WithRetryAfter_AreRetried()
    {
        using QdrantVectorStore store = qdrant.CreateStore();
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
        qdrant.Double.Fail(429, "0");
        qdrant.Double.Fail(503, "0");
        int injected = qdrant.Double.InjectedAnswered;

        await collection.UpsertAsync([Record("k")]);

        Assert.Equal(injected + 2, qdrant.Double.InjectedAnswered);
        Assert.Equal(1, await collection.CountAsync());
    }

    [Fact]
    public async Task Throttled_WithAHintAboveTheCeiling_FailsAtOnce_AsTransient()
    {
        using QdrantVectorStore store = qdrant.CreateStore(o => o.Retry.MaxThrottleDelay = TimeSpan.FromSeconds(5));
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
        qdrant.Double.Fail(429, "600");

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => collection.CountAsync());

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("throttled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKey_IsAccessDenied_WithoutTheKeyInTheMessage()
    {
        using QdrantVectorStore store = qdrant.CreateStore(o => o.ApiKey = "wrong-key-12345");

        var error = await Assert.ThrowsAsync<RemoteVectorAccessDeniedException>(() => store.GetOrCreateCollectionAsync(Unique(), Model));

        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Equal(401, error.Status);
        Assert.DoesNotContain("wrong-key-12345", error.Message, StringComparison.Ordinal);
        Assert.Contains("QDRANT_API_KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadOnlyKey_WritingIs403AccessDenied()
    {
        using QdrantVectorStore writer = qdrant.CreateStore();
        string name = Unique();
        await writer.GetOrCreateCollectionAsync(name, Model);
        using QdrantVectorStore reader = qdrant.CreateStore(o => { o.ApiKey = "qdrant-read-only-key"; o.UserId = writer.Options.UserId; });
        IVectorCollection collection = await reader.GetOrCreateCollectionAsync(name, Model);

        var error = await Assert.ThrowsAsync<RemoteVectorAccessDeniedException>(() => collection.UpsertAsync([Record("k")]));

        Assert.Equal(403, error.Status);
        Assert.Equal(0, await collection.CountAsync());
    }

    [Fact]
    public async Task CollectionDeletedBehindTheTiersBack_IsStorageNotFound()
    {
        using QdrantVectorStore store = qdrant.CreateStore();
        var collection = (QdrantVectorCollection)await store.GetOrCreateCollectionAsync(Unique(), Model);
        qdrant.Double.Drop(collection.RemoteName);

        var error = await Assert.ThrowsAsync<RemoteVectorStorageNotFoundException>(() => collection.UpsertAsync([Record("k")]));

        Assert.Equal(GhostieErrorCode.StorageNotFound, error.Code);
        Assert.Contains(collection.RemoteName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKey_ComesFromQDRANT_API_KEY_WhenTheOptionIsNotSet()
    {
        string? before = Environment.GetEnvironmentVariable(QdrantVectorOptions.DefaultApiKeyVariable);
        Environment.SetEnvironmentVariable(QdrantVectorOptions.DefaultApiKeyVariable, QdrantFixture.Key);
        try
        {
            using QdrantVectorStore store = qdrant.CreateStore(o => o.ApiKey = null);
            IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
            Assert.Equal(0, await collection.CountAsync());
        }
        finally
        {
            Environment.SetEnvironmentVariable(QdrantVectorOptions.DefaultApiKeyVariable, before);
        }
    }

    [Fact]
    public async Task Users_GetSeparateCollections()
    {
        using QdrantVectorStore alice = qdrant.CreateStore(o => o.UserId = "alice-" + Unique());
        using QdrantVectorStore bob = qdrant.CreateStore(o => o.UserId = "bob-" + Unique());
        IVectorCollection a = await alice.GetOrCreateCollectionAsync("notes", Model);
        IVectorCollection b = await bob.GetOrCreateCollectionAsync("notes", Model);

        await a.UpsertAsync([Record("k")]);

        Assert.Equal(1, await a.CountAsync());
        Assert.Equal(0, await b.CountAsync());
        Assert.NotEqual(((IVectorCollectionLocation)a).StorageLocation, ((IVectorCollectionLocation)b).StorageLocation);
    }

    [Fact]
    public void Options_PlainHttpToARemoteHost_AreRefused()
    {
        var options = new QdrantVectorOptions { Endpoint = new Uri("http://qdrant.example:6333"), UserId = "u" };

        var error = Assert.Throws<GhostieSyncException>(() => new QdrantVectorStore(options));

        Assert.Contains("https", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddQdrantTier_RegistersTheTier_AndTheTieredCollectionWritesThroughIt()
    {
        var services = new ServiceCollection();
        string user = "di" + Guid.NewGuid().ToString("N")[..8];
        services.AddGhostieSync()
            .AddVectorTiers(o => o.UsageDirectory = Path.Combine(Path.GetTempPath(), "ghostie-qdrant-usage-" + user))
            .AddQdrantTier(VectorTier.Context, o => { o.Endpoint = qdrant.Double.Uri; o.ApiKey = QdrantFixture.Key; o.UserId = user; o.CollectionPrefix = "ctx"; })
            .AddQdrantTier(o => { o.Endpoint = qdrant.Double.Uri; o.ApiKey = QdrantFixture.Key; o.UserId = user; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        int before = qdrant.Double.Received.Count;

        TieredVectorCollection collection = await provider.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync("notes", Model);
        await collection.UpsertAsync([Record("k1"), Record("k2", -1)]);

        Assert.Equal(2, await collection.CountAsync());
        Assert.NotNull(provider.GetRequiredKeyedService<QdrantVectorStore>("qdrant-historical"));
        Assert.Contains(QdrantVectorStore.CollectionNameFor("ctx", user, "notes"), qdrant.Double.CollectionNames);
        Assert.False(qdrant.Double.ReceivedText(Secret, before));
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (T item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
