using System.Numerics.Tensors;
using Ghostie.Sync.Vectors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Ghostie.Sync.Embeddings.MiniLM.Tests;

/// <summary>One model load (1-2 s) shared by the tests of the class.</summary>
public sealed class MiniLMFixture : IDisposable
{
    public MiniLMEmbeddingGenerator Generator { get; } = new();

    public void Dispose() => Generator.Dispose();
}

public sealed class MiniLMEmbeddingGeneratorTests(MiniLMFixture fixture) : IClassFixture<MiniLMFixture>
{
    private readonly MiniLMEmbeddingGenerator _generator = fixture.Generator;

    private static double Cosine(Embedding<float> a, Embedding<float> b) => TensorPrimitives.CosineSimilarity(a.Vector.Span, b.Vector.Span);

    [Fact]
    public async Task GenerateAsync_Paraphrase_IsCloserThanUnrelated()
    {
        GeneratedEmbeddings<Embedding<float>> e = await _generator.GenerateAsync(
        [
            "We decided to keep Postgres because the team already runs it.",
            "The choice was to stay on PostgreSQL since the team knows how to operate it.",
            "My cat sleeps on the warm laptop keyboard every afternoon.",
        ]);
        double paraphrase = Cosine(e[0], e[1]);
        double unrelated = Cosine(e[0], e[2]);
        Assert.True(paraphrase > 0.6, $"paraphrase {paraphrase:0.000}");
        Assert.True(unrelated < 0.3, $"unrelated {unrelated:0.000}");
        Assert.True(paraphrase > unrelated + 0.4, $"paraphrase {paraphrase:0.000} vs unrelated {unrelated:0.000}");
    }

    [Fact]
    public async Task GenerateAsync_NoSharedWords_StillSimilar_UnlikeTheLexicalGenerator()
    {
        // Meaning without shared words: what the lexical default cannot see.
        string[] texts = ["car", "automobile", "banana"];
        GeneratedEmbeddings<Embedding<float>> semantic = await _generator.GenerateAsync(texts);
        Assert.True(Cosine(semantic[0], semantic[1]) > Cosine(semantic[0], semantic[2]) + 0.2);
        using var lexical = new HashedNGramEmbeddingGenerator();
        GeneratedEmbeddings<Embedding<float>> hashed = await lexical.GenerateAsync(texts);
        Assert.True(Math.Abs(Cosine(hashed[0], hashed[1])) < 0.3);
    }

    [Fact]
    public async Task GenerateAsync_Vectors_Have384UnitLengthDimensionsAndTheModelId()
    {
        GeneratedEmbeddings<Embedding<float>> e = await _generator.GenerateAsync(["one sentence", ""]);
        Assert.All(e, v =>
        {
            Assert.Equal(384, v.Vector.Length);
            Assert.Equal(MiniLMEmbeddingGenerator.ModelName, v.ModelId);
            Assert.InRange(TensorPrimitives.Norm(v.Vector.Span), 0.999f, 1.001f);
        });
        Assert.Equal(new EmbeddingModelInfo("sentence-transformers/all-MiniLM-L6-v2", 384), MiniLMEmbeddingGenerator.Model);
        var metadata = (EmbeddingGeneratorMetadata)_generator.GetService(typeof(EmbeddingGeneratorMetadata))!;
        Assert.Equal(384, metadata.DefaultModelDimensions);
        Assert.Equal(MiniLMEmbeddingGenerator.ModelName, metadata.DefaultModelId);
    }

    [Fact]
    public async Task GenerateAsync_SmallBatches_GiveTheSameVectorsInOrder()
    {
        string[] texts = ["alpha release notes", "the migration failed on a lock timeout", "commit it", "a much longer sentence about how the rate limiter counts requests per tenant", "x"];
        using var small = new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { BatchSize = 2 });
        GeneratedEmbeddings<Embedding<float>> batched = await small.GenerateAsync(texts);
        Assert.Equal(texts.Length, batched.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            GeneratedEmbeddings<Embedding<float>> single = await _generator.GenerateAsync([texts[i]]);
            Assert.True(Cosine(single[0], batched[i]) > 0.9999, $"text {i}");
        }
    }

    [Fact]
    public async Task GenerateAsync_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _generator.GenerateAsync(["a", "b"], cancellationToken: cts.Token));
    }

    [Fact]
    public async Task GenerateAsync_CancelledBetweenBatches_StopsBeforeTheEnd()
    {
        using var small = new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { BatchSize = 1 });
        using var cts = new CancellationTokenSource();
        string[] texts = [.. Enumerable.Range(0, 50).Select(i => "sentence number " + i + " about the sync protocol")];
        Task<GeneratedEmbeddings<Embedding<float>>> run = Task.Run(() => small.GenerateAsync(texts, cancellationToken: cts.Token));
        cts.CancelAfter(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task GenerateAsync_OtherModelOrDimension_IsRefused()
    {
        await Assert.ThrowsAsync<VectorModelMismatchException>(() => _generator.GenerateAsync(["a"], new EmbeddingGenerationOptions { Dimensions = 768 }));
        await Assert.ThrowsAsync<VectorModelMismatchException>(() => _generator.GenerateAsync(["a"], new EmbeddingGenerationOptions { ModelId = "text-embedding-3-small" }));
    }

    [Fact]
    public async Task Disposed_Generate_ThrowsObjectDisposed()
    {
        var own = new MiniLMEmbeddingGenerator();
        own.Dispose();
        own.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => own.GenerateAsync(["a"]));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(2000, 1)]
    [InlineData(8, -1)]
    public void Options_OutOfRange_AreRefused(int batch, int threads)
    {
        var error = Assert.Throws<GhostieSyncException>(() => new MiniLMEmbeddingOptions { BatchSize = batch, IntraOpThreads = threads }.Validate());
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AddMiniLMEmbeddings_ReplacesTheLexicalDefault_BeforeOrAfterAddVectors(bool vectorsFirst)
    {
        var services = new ServiceCollection();
        IGhostieSyncBuilder builder = services.AddGhostieSync(o => o.Home = "/tmp/x");
        if (vectorsFirst)
        {
            builder.AddVectors().AddMiniLMEmbeddings();
        }
        else
        {
            builder.AddMiniLMEmbeddings().AddVectors().AddMiniLMEmbeddings();
        }

        using ServiceProvider provider = services.BuildServiceProvider();
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        Assert.IsType<MiniLMEmbeddingGenerator>(generator);
        Assert.Same(generator, provider.GetRequiredService<MiniLMEmbeddingGenerator>());
        Assert.Single(services, d => d.ServiceType == typeof(IEmbeddingGenerator<string, Embedding<float>>));
    }
}
