using Ghostie.Sync.Testing;
using Ghostie.Sync.Vectors.Tiers;
using Microsoft.Extensions.DependencyInjection;

namespace Ghostie.Sync.Vectors.Weaviate.Tests;

/// <summary>What the Weaviate tier adds to the conformance suite: privacy of data, retries, typed errors, keys, DI.</summary>
public sealed class WeaviateTierTests(WeaviateFixture weaviate) : IClassFixture<WeaviateFixture>
{
    private static readonly EmbeddingModelInfo Model = new("m", 4);
    private const string Secret = "my doctor said the biopsy came back clean";

    private static VectorRecord Record(string key, float x = 1) =>
        new(key, new[] { x, 0.5f, -0.25f, 0.125f }, new Dictionary<string, string> { ["text"] = Secret, ["category"] = "health" });

    private static string Unique() => "c" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Upsert_ByDefault_SendsOnlyKeyAndVector_NeverTheMemoryText()
    {
        using WeaviateVectorStore store = weaviate.CreateStore();
        int before = weaviate.Double.Received.Count;
        var collection = (WeaviateVectorCollection)await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);
        VectorRecord? back = await collection.GetAsync("memory-1");
        _ = await ToListAsync(collection.SearchAsync(Record("q").Vector, new VectorSearchOptions { IncludeVectors = true }));

        Assert.False(weaviate.Double.ReceivedText(Secret, before), "the memory text reached Weaviate");
        Assert.False(weaviate.Double.ReceivedText("health", before));
        Assert.True(weaviate.Double.Received.Count > before);
        Assert.Equal(["{\"ghostieKey\":\"memory-1\"}"], weaviate.Double.Properties(collection.ClassName));
        Assert.NotNull(back);
        Assert.Null(back.Data);
    }

    [Fact]
    public async Task Upsert_WithAnOptedInProperty_SendsThatPropertyOnly()
    {
        using WeaviateVectorStore store = weaviate.CreateStore(o => o.SendDataProperties.Add("category"));
        int before = weaviate.Double.Received.Count;
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);

        Assert.False(weaviate.Double.ReceivedText(Secret, before));
        Assert.True(weaviate.Double.ReceivedText("health", before));
        Assert.Equal(new Dictionary<string, string> { ["category"] = "health" }, (await collection.GetAsync("memory-1"))!.Data);
        List<VectorSearchResult> found = await ToListAsync(collection.SearchAsync(Record("q").Vector, new VectorSearchOptions { Filter = new Dictionary<string, string> { ["category"] = "health" } }));
        Assert.Single(found);
    }

    [Fact]
    public async Task Upsert_SendAllData_SendsTheText_SoTheCheckAboveCanFail()
    {
        using WeaviateVectorStore store = weaviate.CreateStore(o => o.SendAllData = true);
        int before = weaviate.Double.Received.Count;
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);

        Assert.True(weaviate.Double.ReceivedText(Secret, before));
    }

    [Fact]
    public async Task Search_FilterOnAPropertyNeverSent_IsAClearError()
    {
        using WeaviateVectorStore store = weaviate.CreateStore();
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
        using WeaviateVectorStore store = weaviate.CreateStore();
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
        weaviate.Double.Fail(429, "0");
        weaviate.Double.Fail(503, "0");
        int injected = weaviate.Double.InjectedAnswered;

        await collection.UpsertAsync([Record("k")]);

        Assert.Equal(injected + 2, weaviate.Double.InjectedAnswered);
        Assert.Equal(1, await collection.CountAsync());
    }

    [Fact]
    public async Task Throttled_WithAHintAboveTheCeiling_FailsAtOnce_AsTransient()
    {
        using WeaviateVectorStore store = weaviate.CreateStore(o => o.Retry.MaxThrottleDelay = TimeSpan.FromSeconds(5));
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
        weaviate.Double.Fail(429, "600");

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => collection.CountAsync());

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("throttled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKey_IsAccessDenied_WithoutTheKeyInTheMessage()
    {
        using WeaviateVectorStore store = weaviate.CreateStore(o => o.ApiKey = "wrong-key-12345");

        var error = await Assert.ThrowsAsync<RemoteVectorAccessDeniedException>(() => store.GetOrCreateCollectionAsync(Unique(), Model));

        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Equal(401, error.Status);
        Assert.DoesNotContain("wrong-key-12345", error.Message, StringComparison.Ordinal);
        Assert.Contains("WEAVIATE_API_KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadOnlyKey_WritingIs403AccessDenied()
    {
        using WeaviateVectorStore writer = weaviate.CreateStore();
        string name = Unique();
        await writer.GetOrCreateCollectionAsync(name, Model);
        using WeaviateVectorStore reader = weaviate.CreateStore(o => { o.ApiKey = "weaviate-read-only-key"; o.UserId = writer.Options.UserId; });
        IVectorCollection collection = await reader.GetOrCreateCollectionAsync(name, Model);

        var error = await Assert.ThrowsAsync<RemoteVectorAccessDeniedException>(() => collection.UpsertAsync([Record("k")]));

        Assert.Equal(403, error.Status);
        Assert.Equal(0, await collection.CountAsync());
    }

    [Fact]
    public async Task CollectionDeletedBehindTheTiersBack_IsStorageNotFound()
    {
        using WeaviateVectorStore store = weaviate.CreateStore();
        var collection = (WeaviateVectorCollection)await store.GetOrCreateCollectionAsync(Unique(), Model);
        weaviate.Double.Drop(collection.ClassName);

        var error = await Assert.ThrowsAsync<RemoteVectorStorageNotFoundException>(() => collection.UpsertAsync([Record("k")]));

        Assert.Equal(GhostieErrorCode.StorageNotFound, error.Code);
        Assert.Contains(collection.ClassName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKey_ComesFromWEAVIATE_API_KEY_WhenTheOptionIsNotSet()
    {
        string? before = Environment.GetEnvironmentVariable(WeaviateVectorOptions.DefaultApiKeyVariable);
        Environment.SetEnvironmentVariable(WeaviateVectorOptions.DefaultApiKeyVariable, WeaviateFixture.Key);
        try
        {
            using WeaviateVectorStore store = weaviate.CreateStore(o => o.ApiKey = null);
            IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
            Assert.Equal(0, await collection.CountAsync());
        }
        finally
        {
            Environment.SetEnvironmentVariable(WeaviateVectorOptions.DefaultApiKeyVariable, before);
        }
    }

    [Fact]
    public async Task Users_GetSeparateCollections()
    {
        using WeaviateVectorStore alice = weaviate.CreateStore(o => o.UserId = "alice-" + Unique());
        using WeaviateVectorStore bob = weaviate.CreateStore(o => o.UserId = "bob-" + Unique());
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
        var options = new WeaviateVectorOptions { Endpoint = new Uri("http://weaviate.example:8080"), UserId = "u" };

        var error = Assert.Throws<GhostieSyncException>(() => new WeaviateVectorStore(options));

        Assert.Contains("https", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddWeaviateTier_RegistersTheTier_AndTheTieredCollectionWritesThroughIt()
    {
        var services = new ServiceCollection();
        string user = "di" + Guid.NewGuid().ToString("N")[..8];
        services.AddGhostieSync()
            .AddVectorTiers(o => o.UsageDirectory = Path.Combine(Path.GetTempPath(), "ghostie-weaviate-usage-" + user))
            .AddWeaviateTier(VectorTier.Historical, o => { o.Endpoint = weaviate.Double.Uri; o.ApiKey = WeaviateFixture.Key; o.UserId = user; o.ClassPrefix = "Ctx"; })
            .AddWeaviateTier(o => { o.Endpoint = weaviate.Double.Uri; o.ApiKey = WeaviateFixture.Key; o.UserId = user; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        int before = weaviate.Double.Received.Count;

        TieredVectorCollection collection = await provider.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync("notes", Model);
        await collection.UpsertAsync([Record("k1"), Record("k2", -1)]);

        Assert.Equal(2, await collection.CountAsync());
        Assert.NotNull(provider.GetRequiredKeyedService<WeaviateVectorStore>("weaviate-context"));
        Assert.Contains(WeaviateVectorStore.ClassNameFor("Ctx", user, "notes"), weaviate.Double.ClassNames);
        Assert.False(weaviate.Double.ReceivedText(Secret, before));
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
