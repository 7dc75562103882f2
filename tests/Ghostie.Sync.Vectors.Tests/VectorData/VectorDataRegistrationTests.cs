using Ghostie.Sync.Vectors.Local;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.VectorData;

namespace Ghostie.Sync.Vectors.Tests.VectorData;

public sealed class VectorDataRegistrationTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("ghostie-vd-home-").FullName;

    [Fact]
    public async Task AddVectorData_OverAddLocalVectors_ResolvesAVectorStoreOnTheLocalIndex()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = _home)
            .AddLocalVectors()
            .AddVectorData(o => o.ModelName = "test-model-v1")
            .AddVectorData(o => o.StoreName = "device"); // safe to call twice: configurations add up
        await using ServiceProvider provider = services.BuildServiceProvider();

        VectorStore store = provider.GetRequiredService<VectorStore>();

        var ghostie = Assert.IsType<GhostieVectorStore>(store);
        Assert.Same(provider.GetRequiredService<LocalVectorStore>(), ghostie.InnerStore);
        Assert.Equal("device", ((VectorStoreMetadata)store.GetService(typeof(VectorStoreMetadata))!).VectorStoreName);
        VectorStoreCollection<string, MemoryNote> memories = store.GetCollection<string, MemoryNote>("memories");
        await memories.EnsureCollectionExistsAsync();
        await memories.UpsertAsync(new MemoryNote { Id = "n1", Text = "hello", Embedding = new float[] { 0, 1, 0, 0, 0, 0, 0, 0 } });
        Assert.Equal(new EmbeddingModelInfo("test-model-v1", 8), (await provider.GetRequiredService<LocalVectorStore>().GetOrCreateCollectionAsync("memories", new EmbeddingModelInfo("test-model-v1", 8))).Model);
    }

    [Fact]
    public async Task AddVectorData_WithoutModelNameOrGenerator_FailsValidation_NamingTheOption()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = _home).AddLocalVectors().AddVectorData();
        await using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<VectorStore>());
        Assert.Contains("ModelName", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);
}
