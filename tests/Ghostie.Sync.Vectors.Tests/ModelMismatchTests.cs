using Ghostie.Sync.Vectors.Local;
using Microsoft.Extensions.AI;

namespace Ghostie.Sync.Vectors.Tests;

public sealed class ModelMismatchTests
{
    private static readonly EmbeddingModelInfo Model = new("model-a", 8);

    [Fact]
    public async Task Upsert_WrongDimension_MismatchNamingCollectionAndBothSizes_NothingWritten()
    {
        using var collection = LocalVectorCollection.Create("notes", Model);
        VectorRecord good = new("a", new float[8] { 1, 0, 0, 0, 0, 0, 0, 0 });
        VectorRecord bad = new("b", new float[9]);

        var error = await Assert.ThrowsAsync<VectorModelMismatchException>(() => collection.UpsertAsync([good, bad]));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("'notes'", error.Message, StringComparison.Ordinal);
        Assert.Contains("model-a (8 dimensions)", error.Message, StringComparison.Ordinal);
        Assert.Contains("9 dimensions", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await collection.CountAsync()); // the batch is all or nothing
    }

    [Fact]
    public void Search_WrongDimension_Mismatch()
    {
        using var collection = LocalVectorCollection.Create("notes", Model);
        Assert.Throws<VectorModelMismatchException>(() => collection.Search(new float[7]));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(0f)]
    public async Task Upsert_NonFiniteOrZeroVector_InvalidArgument(float value)
    {
        using var collection = LocalVectorCollection.Create("notes", Model);
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => collection.UpsertAsync([new VectorRecord("a", Enumerable.Repeat(value, 8).ToArray())]));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public async Task TextSearch_GeneratorOfAnotherModel_MismatchBeforeAnyWrongAnswer()
    {
        var generator = new HashedNGramEmbeddingGenerator(new HashedNGramEmbeddingOptions { Dimensions = 64 });
        using var collection = LocalVectorCollection.Create("notes", new EmbeddingModelInfo("text-embedding-3-small", 64));

        await Assert.ThrowsAsync<VectorModelMismatchException>(async () => await collection.SearchAsync(generator, "hello").ToListAsync());
        await Assert.ThrowsAsync<VectorModelMismatchException>(() => collection.UpsertAsync(generator, [new VectorTextRecord("a", "hello")]));
    }

    [Fact]
    public async Task TextSearch_GeneratorOfAnotherDimension_Mismatch()
    {
        var generator = new HashedNGramEmbeddingGenerator(new HashedNGramEmbeddingOptions { Dimensions = 32 });
        using var collection = LocalVectorCollection.Create("notes", generator.Model with { Dimensions = 64 });

        var error = await Assert.ThrowsAsync<VectorModelMismatchException>(async () => await collection.SearchAsync(generator, "hello").ToListAsync());
        Assert.Equal(32, error.ActualDimensions);
    }

    [Fact]
    public async Task TextSearch_GeneratorWithoutMetadata_LengthStillChecked()
    {
        using var collection = LocalVectorCollection.Create("notes", new EmbeddingModelInfo("unknown", 5));
        var error = await Assert.ThrowsAsync<VectorModelMismatchException>(() => collection.EmbedAsync(new AnonymousGenerator(), "hi"));
        Assert.Equal(3, error.ActualDimensions);
    }

    [Fact]
    public void Names_Invalid_ClearErrors()
    {
        Assert.Equal(GhostieErrorCode.InvalidArgument, Assert.Throws<GhostieSyncException>(() => LocalVectorCollection.Create("Bad Name", Model)).Code);
        Assert.Equal(GhostieErrorCode.InvalidArgument, Assert.Throws<GhostieSyncException>(() => LocalVectorCollection.Create("ok", new EmbeddingModelInfo("", 8))).Code);
        Assert.Equal(GhostieErrorCode.InvalidArgument, Assert.Throws<GhostieSyncException>(() => LocalVectorCollection.Create("ok", new EmbeddingModelInfo("m", 0))).Code);
    }

    private sealed class AnonymousGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(_ => new Embedding<float>(new float[] { 1, 2, 3 }))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
