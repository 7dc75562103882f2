using Ghostie.Sync.Vectors.Local;
using Microsoft.Extensions.VectorData;

namespace Ghostie.Sync.Vectors.Tests.VectorData;

/// <summary>The Microsoft.Extensions.VectorData scenario over the on-device index, in memory.</summary>
public sealed class LocalVectorDataTests : VectorDataScenarioTests, IDisposable
{
    private readonly List<LocalVectorStore> _stores = [];

    protected override Task<IVectorStore> CreateInnerStoreAsync()
    {
        var store = new LocalVectorStore(new LocalVectorStoreOptions());
        _stores.Add(store);
        return Task.FromResult<IVectorStore>(store);
    }

    public void Dispose() => _stores.ForEach(s => s.Dispose());
}

/// <summary>The scenario over the on-device index with a folder (index files), and what the folder adds.</summary>
public sealed class LocalFolderVectorDataTests : VectorDataScenarioTests, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ghostie-vd-").FullName;
    private readonly List<LocalVectorStore> _stores = [];

    protected override Task<IVectorStore> CreateInnerStoreAsync() => Task.FromResult<IVectorStore>(Open());

    private LocalVectorStore Open()
    {
        var store = new LocalVectorStore(new LocalVectorStoreOptions { Directory = _folder });
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task SavedCollection_ExistsAndIsListedForANewStore_AndReadsBack()
    {
        LocalVectorStore first = Open();
        using (var store = new GhostieVectorStore(first, new GhostieVectorStoreOptions { ModelName = "test-model-v1" }))
        {
            var collection = store.GetCollection<string, MemoryNote>("memories");
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync(new MemoryNote { Id = "n1", Category = "work", Text = "saved", Embedding = TestData.Normalize([1, 2, 3, 4, 5, 6, 7, 8]) });
            await first.SaveAsync();
        }

        using var reopened = new GhostieVectorStore(Open(), new GhostieVectorStoreOptions { ModelName = "test-model-v1" });
        Assert.True(await reopened.CollectionExistsAsync("memories"));
        Assert.Equal(["memories"], await reopened.ListCollectionNamesAsync().ToListAsync());
        MemoryNote? note = await reopened.GetCollection<string, MemoryNote>("memories").GetAsync("n1");
        Assert.Equal("saved", note!.Text);

        await reopened.EnsureCollectionDeletedAsync("memories");
        Assert.False(File.Exists(Path.Combine(_folder, "memories.gvx")));
        Assert.False(await reopened.CollectionExistsAsync("memories"));
    }

    public void Dispose()
    {
        _stores.ForEach(s => s.Dispose());
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>What the adapter refuses before any store is touched.</summary>
public sealed class GhostieVectorStoreTests
{
    private sealed class BadDistance
    {
        [VectorStoreKey] public string Id { get; set; } = "";
        [VectorStoreVector(4, DistanceFunction = DistanceFunction.EuclideanDistance)] public ReadOnlyMemory<float> V { get; set; }
    }

    private sealed class IntKey
    {
        [VectorStoreKey] public int Id { get; set; }
        [VectorStoreVector(4)] public ReadOnlyMemory<float> V { get; set; }
    }

    private sealed class ListData
    {
        [VectorStoreKey] public string Id { get; set; } = "";
        [VectorStoreData] public List<int> Numbers { get; set; } = [];
        [VectorStoreVector(4)] public ReadOnlyMemory<float> V { get; set; }
    }

    private static GhostieVectorStore Store(string? model = "m") => new(new LocalVectorStore(new LocalVectorStoreOptions()), new GhostieVectorStoreOptions { ModelName = model });

    [Fact]
    public void GetCollection_OtherDistanceFunction_IsNotSupported_NamingIt()
    {
        var error = Assert.Throws<NotSupportedException>(() => Store().GetCollection<string, BadDistance>("c"));
        Assert.Contains(DistanceFunction.EuclideanDistance, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetCollection_IntKey_IsNotSupported() =>
        Assert.Contains("string or Guid", Assert.Throws<NotSupportedException>(() => Store().GetCollection<int, IntKey>("c")).Message, StringComparison.Ordinal);

    [Fact]
    public void GetCollection_ListDataProperty_IsRefused_NamingTheSupportedTypes()
    {
        Exception error = Assert.ThrowsAny<Exception>(() => Store().GetCollection<string, ListData>("c"));
        Assert.True(error is NotSupportedException or InvalidOperationException or ArgumentException, error.GetType().Name);
        Assert.Contains("Numbers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetCollection_NoModelNameAndNoGenerator_IsInvalidArgument()
    {
        var error = Assert.Throws<GhostieSyncException>(() => Store(model: null).GetCollection<string, MemoryNote>("c"));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("ModelName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetCollection_InvalidName_IsInvalidArgument() =>
        Assert.Equal(GhostieErrorCode.InvalidArgument, Assert.Throws<GhostieSyncException>(() => Store().GetCollection<string, MemoryNote>("My Memories")).Code);

    [Fact]
    public void GetCollection_DictionaryRecords_PointToGetDynamicCollection() =>
        Assert.Contains("GetDynamicCollection", Assert.Throws<NotSupportedException>(() => Store().GetCollection<object, Dictionary<string, object?>>("c")).Message, StringComparison.Ordinal);

    [Fact]
    public void GetAsyncByFilter_IsNotSupported_SayingWhatToUse()
    {
        var collection = Store().GetCollection<string, MemoryNote>("c");
        var error = Assert.Throws<NotSupportedException>(() => collection.GetAsync(r => r.Category == "work", 10));
        Assert.Contains("SearchAsync", error.Message, StringComparison.Ordinal);
    }
}
