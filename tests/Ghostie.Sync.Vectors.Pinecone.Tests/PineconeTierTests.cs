using Ghostie.Sync.Testing;
using Ghostie.Sync.Vectors.Tiers;
using Microsoft.Extensions.DependencyInjection;

namespace Ghostie.Sync.Vectors.Pinecone.Tests;

/// <summary>What the Pinecone tier adds to the conformance suite: privacy of data, retries, typed errors, keys, DI.</summary>
public sealed class PineconeTierTests(PineconeFixture pinecone) : IClassFixture<PineconeFixture>
{
    private static readonly EmbeddingModelInfo Model = new("m", 4);
    private const string Secret = "my doctor said the biopsy came back clean";

    private static VectorRecord Record(string key, float x = 1) =>
        new(key, new[] { x, 0.5f, -0.25f, 0.125f }, new Dictionary<string, string> { ["text"] = Secret, ["category"] = "health" });

    private static string Unique() => "c" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Upsert_ByDefault_SendsOnlyKeyAndVector_NeverTheMemoryText()
    {
        using PineconeVectorStore store = pinecone.CreateStore();
        int before = pinecone.Double.Received.Count;
        var collection = (PineconeVectorCollection)await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);
        VectorRecord? back = await collection.GetAsync("memory-1");
        _ = await ToListAsync(collection.SearchAsync(Record("q").Vector, new VectorSearchOptions { IncludeVectors = true }));

        Assert.False(pinecone.Double.ReceivedText(Secret, before), "the memory text reached Pinecone");
        Assert.False(pinecone.Double.ReceivedText("health", before));
        Assert.True(pinecone.Double.Received.Count > before);
        Assert.Equal(["{\"ghostie_key\":\"memory-1\"}"], pinecone.Double.Metadata(store.Options.IndexName, collection.Namespace));
        Assert.NotNull(back);
        Assert.Null(back.Data);
    }

    [Fact]
    public async Task Upsert_WithAnOptedInProperty_SendsThatPropertyOnly()
    {
        using PineconeVectorStore store = pinecone.CreateStore(o => o.SendDataProperties.Add("category"));
        int before = pinecone.Double.Received.Count;
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);

        Assert.False(pinecone.Double.ReceivedText(Secret, before));
        Assert.True(pinecone.Double.ReceivedText("health", before));
        Assert.Equal(new Dictionary<string, string> { ["category"] = "health" }, (await collection.GetAsync("memory-1"))!.Data);
        List<VectorSearchResult> found = await ToListAsync(collection.SearchAsync(Record("q").Vector, new VectorSearchOptions { Filter = new Dictionary<string, string> { ["category"] = "health" } }));
        Assert.Single(found);
    }

    [Fact]
    public async Task Upsert_SendAllData_SendsTheText_SoTheCheckAboveCanFail()
    {
        using PineconeVectorStore store = pinecone.CreateStore(o => o.SendAllData = true);
        int before = pinecone.Double.Received.Count;
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);

        await collection.UpsertAsync([Record("memory-1")]);

        Assert.True(pinecone.Double.ReceivedText(Secret, before));
    }

    [Fact]
    public async Task Search_FilterOnAPropertyNeverSent_IsAClearError()
    {
        using PineconeVectorStore store = pinecone.CreateStore();
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
        using PineconeVectorStore store = pinecone.CreateStore();
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
        pinecone.Double.Fail(429, "0");
        pinecone.Double.Fail(503, "0");
        int injected = pinecone.Double.InjectedAnswered;

        await collection.UpsertAsync([Record("k")]);

        Assert.Equal(injected + 2, pinecone.Double.InjectedAnswered);
        Assert.Equal(1, await collection.CountAsync());
    }

    [Fact]
    public async Task Throttled_WithAHintAboveTheCeiling_FailsAtOnce_AsTransient()
    {
        using PineconeVectorStore store = pinecone.CreateStore(o => o.Retry.MaxThrottleDelay = TimeSpan.FromSeconds(5));
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
        pinecone.Double.Fail(429, "600");

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => collection.CountAsync());

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("throttled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKey_IsAccessDenied_WithoutTheKeyInTheMessage()
    {
        using PineconeVectorStore store = pinecone.CreateStore(o => o.ApiKey = "wrong-key-12345");

        var error = await Assert.ThrowsAsync<RemoteVectorAccessDeniedException>(() => store.GetOrCreateCollectionAsync(Unique(), Model));

        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Equal(401, error.Status);
        Assert.DoesNotContain("wrong-key-12345", error.Message, StringComparison.Ordinal);
        Assert.Contains("PINECONE_API_KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IndexDeletedBehindTheTiersBack_IsStorageNotFound()
    {
        using PineconeVectorStore store = pinecone.CreateStore();
        var collection = (PineconeVectorCollection)await store.GetOrCreateCollectionAsync(Unique(), Model);
        await collection.UpsertAsync([Record("k")]);
        pinecone.Double.Drop(store.Options.IndexName);
        try
        {
            var error = await Assert.ThrowsAsync<RemoteVectorStorageNotFoundException>(() => collection.UpsertAsync([Record("k")]));

            Assert.Equal(GhostieErrorCode.StorageNotFound, error.Code);
            Assert.Contains($"index '{store.Options.IndexName}'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            using PineconeVectorStore again = pinecone.CreateStore();
            await again.GetOrCreateCollectionAsync(Unique(), Model); // recreates the index for the other tests
        }
    }

    [Fact]
    public async Task MissingIndex_WithoutCreateIndexIfMissing_IsStorageNotFound()
    {
        using PineconeVectorStore store = pinecone.CreateStore(o => { o.IndexName = "never-created"; o.CreateIndexIfMissing = false; });

        var error = await Assert.ThrowsAsync<RemoteVectorStorageNotFoundException>(() => store.GetOrCreateCollectionAsync(Unique(), Model));

        Assert.Contains("CreateIndexIfMissing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryRequest_CarriesTheApiVersionHeader_AndTheIndexIsCreatedCosineWithTheModelTag()
    {
        using PineconeVectorStore store = pinecone.CreateStore();
        IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
        await collection.UpsertAsync([Record("k")]);
        _ = await collection.CountAsync();

        Assert.All(pinecone.Double.VersionsSeen, v => Assert.Equal(PineconeVectorOptions.DefaultApiVersion, v));
        Assert.Contains(pinecone.Double.Received, r => r.Method == "POST" && r.PathAndQuery == "/indexes"
            && r.Body.Contains("\"metric\":\"cosine\"", StringComparison.Ordinal) && r.Body.Contains(PineconeVectorStore.ModelTag(Model), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Open_WithAnotherModelOfTheSameDimension_IsAModelMismatch_OneIndexHoldsOneModel()
    {
        using PineconeVectorStore store = pinecone.CreateStore();
        await store.GetOrCreateCollectionAsync(Unique(), Model);
        using PineconeVectorStore other = pinecone.CreateStore();

        await Assert.ThrowsAsync<VectorModelMismatchException>(() => other.GetOrCreateCollectionAsync(Unique(), new EmbeddingModelInfo("another/model", 4)));
    }

    [Fact]
    public async Task ApiKey_ComesFromPINECONE_API_KEY_WhenTheOptionIsNotSet()
    {
        string? before = Environment.GetEnvironmentVariable(PineconeVectorOptions.DefaultApiKeyVariable);
        Environment.SetEnvironmentVariable(PineconeVectorOptions.DefaultApiKeyVariable, PineconeFixture.Key);
        try
        {
            using PineconeVectorStore store = pinecone.CreateStore(o => o.ApiKey = null);
            IVectorCollection collection = await store.GetOrCreateCollectionAsync(Unique(), Model);
            Assert.Equal(0, await collection.CountAsync());
        }
        finally
        {
            Environment.SetEnvironmentVariable(PineconeVectorOptions.DefaultApiKeyVariable, before);
        }
    }

    [Fact]
    public async Task Users_GetSeparateCollections()
    {
        using PineconeVectorStore alice = pinecone.CreateStore(o => o.UserId = "alice-" + Unique());
        using PineconeVectorStore bob = pinecone.CreateStore(o => o.UserId = "bob-" + Unique());
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
        var options = new PineconeVectorOptions { Endpoint = new Uri("http://api.pinecone.example"), UserId = "u" };

        var error = Assert.Throws<GhostieSyncException>(() => new PineconeVectorStore(options));

        Assert.Contains("https", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPineconeTier_RegistersTheTier_AndTheTieredCollectionWritesThroughIt()
    {
        var services = new ServiceCollection();
        string user = "di" + Guid.NewGuid().ToString("N")[..8];
        services.AddGhostieSync()
            .AddVectorTiers(o => o.UsageDirectory = Path.Combine(Path.GetTempPath(), "ghostie-pinecone-usage-" + user))
            .AddPineconeTier(o => { o.Endpoint = pinecone.Double.Uri; o.ApiKey = PineconeFixture.Key; o.UserId = user; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        int before = pinecone.Double.Received.Count;

        TieredVectorCollection collection = await provider.GetRequiredService<TieredVectorStore>().GetOrCreateCollectionAsync("notes", Model);
        await collection.UpsertAsync([Record("k1"), Record("k2", -1)]);

        Assert.Equal(2, await collection.CountAsync());
        Assert.NotNull(provider.GetRequiredKeyedService<PineconeVectorStore>("pinecone-critical"));
        Assert.Equal(2, pinecone.Double.Metadata("ghostie", PineconeVectorStore.NamespaceFor(user, "notes")).Count);
        Assert.False(pinecone.Double.ReceivedText(Secret, before));
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
