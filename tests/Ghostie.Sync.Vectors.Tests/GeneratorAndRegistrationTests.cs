using Ghostie.Sync.Vectors.Local;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Vectors.Tests;

public sealed class GeneratorAndRegistrationTests
{
    [Fact]
    public async Task HashedNGrams_SameTextSameUnitVector_SharedWordsScoreHigher()
    {
        var generator = new HashedNGramEmbeddingGenerator();
        float[] a = generator.Embed("Alice prefers green tea");
        float[] again = (await generator.GenerateAsync(["Alice prefers green tea"]))[0].Vector.ToArray();
        float[] near = generator.Embed("which tea does alice prefer?");
        float[] far = generator.Embed("rotate the kubernetes credentials");

        Assert.Equal(384, a.Length);
        Assert.Equal(a, again);
        Assert.Equal(1.0, TestData.Cosine(a, a), 5);
        Assert.Equal(1.0, Math.Sqrt(a.Sum(x => (double)x * x)), 5);
        Assert.True(TestData.Cosine(a, near) > TestData.Cosine(a, far) + 0.2, $"{TestData.Cosine(a, near)} vs {TestData.Cosine(a, far)}");
        Assert.Equal("ghostie-hashed-ngram-v1-n3", generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
    }

    [Fact]
    public void HashedNGrams_KnownVector_StableAcrossRunsAndPlatforms()
    {
        // FNV-1a + splitmix64 over UTF-16 code units: no randomized string hashing, so stored vectors stay valid.
        float[] v = new HashedNGramEmbeddingGenerator(new HashedNGramEmbeddingOptions { Dimensions = 16 }).Embed("ghostie");
        float[] again = new HashedNGramEmbeddingGenerator(new HashedNGramEmbeddingOptions { Dimensions = 16 }).Embed("GHOSTIE");
        Assert.Equal(v, again); // case-insensitive
        Assert.Equal(6, v.Count(x => x != 0)); // word + 7 trigrams of "<ghostie>" land in 6 distinct buckets (collisions allowed)
    }

    [Fact]
    public void HashedNGrams_NoLetters_ClearError()
    {
        var error = Assert.Throws<GhostieSyncException>(() => new HashedNGramEmbeddingGenerator().Embed("  ...  "));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public async Task AddLocalVectors_ResolvesStoreAndDefaultGenerator_FolderUnderTheHome()
    {
        string home = Path.Combine(Path.GetTempPath(), "ghostie-di-" + Guid.NewGuid().ToString("N")[..8]);
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = home).AddLocalVectors(o => o.HnswThreshold = 5000).AddLocalVectors();
        using ServiceProvider provider = services.BuildServiceProvider();

        var store = Assert.IsType<LocalVectorStore>(provider.GetRequiredService<IVectorStore>());
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        Assert.Equal(Path.Combine(home, "vectors"), store.Options.Directory);
        Assert.Equal(5000, store.Options.HnswThreshold);
        Assert.Same(store, provider.GetRequiredService<LocalVectorStore>());

        IVectorCollection collection = await store.GetOrCreateCollectionAsync("notes", ((HashedNGramEmbeddingGenerator)generator).Model);
        await collection.UpsertAsync(generator, [new VectorTextRecord("a", "the wifi password is on the fridge"), new VectorTextRecord("b", "alice likes green tea")]);
        var best = await collection.SearchAsync(generator, "green tea", new VectorSearchOptions { Top = 1 }).ToListAsync();
        Assert.Equal("b", Assert.Single(best).Record.Key);
    }

    [Fact]
    public void AddLocalVectors_InvalidOptions_FailAtStart()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.GetTempPath()).AddLocalVectors(o => o.Hnsw.M = 2);
        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LocalVectorStoreOptions>>().Value);
    }

    [Fact]
    public async Task AddVectors_HostGenerator_IsKept()
    {
        var services = new ServiceCollection();
        var mine = new HashedNGramEmbeddingGenerator(new HashedNGramEmbeddingOptions { Dimensions = 32 });
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(mine);
        services.AddGhostieSync().AddVectors();
        await using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Same(mine, provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>());
    }
}
