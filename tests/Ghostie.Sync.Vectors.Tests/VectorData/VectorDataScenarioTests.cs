using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;

namespace Ghostie.Sync.Vectors.Tests.VectorData;

/// <summary>A memory record the way a Semantic Kernel user writes one.</summary>
public sealed class MemoryNote
{
    [VectorStoreKey]
    public string Id { get; set; } = "";

    [VectorStoreData(IsIndexed = true)]
    public string Category { get; set; } = "";

    [VectorStoreData]
    public string Text { get; set; } = "";

    [VectorStoreData(IsIndexed = true)]
    public int Priority { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public bool IsPinned { get; set; }

    [VectorStoreData]
    public DateTimeOffset Created { get; set; }

    [VectorStoreData(StorageName = "weight")]
    public double? Weight { get; set; }

    [VectorStoreVector(8)]
    public ReadOnlyMemory<float> Embedding { get; set; }
}

/// <summary>A record whose vector is generated from its text by the configured embedding generator.</summary>
public sealed class TextNote
{
    [VectorStoreKey]
    public Guid Id { get; set; }

    [VectorStoreData]
    public string Category { get; set; } = "";

    [VectorStoreVector(384)]
    public string Text { get; set; } = "";
}

/// <summary>The Microsoft.Extensions.VectorData scenario every Ghostie store runs through <see cref="GhostieVectorStore"/>:
/// derived by the local tests here and by the pgvector and tiered tests of Ghostie.Sync.Vectors.Tiers.Tests (which link this file). Vectors are unit length, so stores that normalize give them back unchanged.</summary>
public abstract class VectorDataScenarioTests
{
    private static readonly DateTimeOffset Monday = new(2026, 12, 7, 9, 30, 0, TimeSpan.FromHours(1));

    /// <summary>The Ghostie store under test, fresh per call or shared (collection names are unique per test).</summary>
    protected abstract Task<IVectorStore> CreateInnerStoreAsync();

    protected virtual string NewCollectionName() => "vd-" + Guid.NewGuid().ToString("N")[..10];

    private async Task<VectorStore> CreateStoreAsync(string? modelName = "test-model-v1", IEmbeddingGenerator? generator = null) =>
        new GhostieVectorStore(await CreateInnerStoreAsync(), new GhostieVectorStoreOptions { ModelName = modelName, EmbeddingGenerator = generator });

    private static float[] Axis(int axis, float tilt = 0, int tiltAxis = 7)
    {
        var v = new float[8];
        v[axis] = 1;
        v[tiltAxis] += tilt;
        float norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    private static List<MemoryNote> Notes() =>
    [
        new() { Id = "tea", Category = "preference", Text = "Alice likes green tea", Priority = 2, IsPinned = true, Created = Monday, Weight = 0.75, Embedding = Axis(0) },
        new() { Id = "coffee", Category = "preference", Text = "Bob drinks coffee", Priority = 1, IsPinned = false, Created = Monday.AddDays(1), Embedding = Axis(0, tilt: 0.5f) },
        new() { Id = "deadline", Category = "work", Text = "The report is due Friday", Priority = 3, IsPinned = true, Created = Monday.AddDays(2), Weight = 1.5, Embedding = Axis(0, tilt: 1.0f) },
        new() { Id = "standup", Category = "work", Text = "Standup at ten", Priority = 1, IsPinned = false, Created = Monday.AddDays(3), Embedding = Axis(1) },
    ];

    [Fact]
    public async Task SemanticKernelStyle_EnsureUpsertSearchGetDelete_RoundTrips()
    {
        using VectorStore store = await CreateStoreAsync();
        string name = NewCollectionName();
        VectorStoreCollection<string, MemoryNote> collection = store.GetCollection<string, MemoryNote>(name);

        Assert.False(await collection.CollectionExistsAsync());
        await collection.EnsureCollectionExistsAsync();
        Assert.True(await collection.CollectionExistsAsync());
        Assert.True(await store.CollectionExistsAsync(name));
        Assert.Contains(name, await store.ListCollectionNamesAsync().ToListAsync());

        await collection.UpsertAsync(Notes());

        // Nearest to "tea" first; the filter keeps the pinned work note and drops the closer preferences.
        List<VectorSearchResult<MemoryNote>> all = await collection.SearchAsync(Axis(0), top: 4).ToListAsync();
        Assert.Equal(["tea", "coffee", "deadline", "standup"], all.Select(r => r.Record.Id));
        Assert.Equal(1.0, all[0].Score!.Value, 4);
        Assert.True(all[1].Score > all[2].Score && all[2].Score > all[3].Score);

        List<VectorSearchResult<MemoryNote>> filtered = await collection.SearchAsync(Axis(0), top: 3,
            new VectorSearchOptions<MemoryNote> { Filter = r => r.Category == "work" && r.IsPinned }).ToListAsync();
        MemoryNote found = Assert.Single(filtered).Record;
        Assert.Equal("deadline", found.Id);
        Assert.Equal("The report is due Friday", found.Text);
        Assert.Equal(3, found.Priority);
        Assert.Equal(Monday.AddDays(2), found.Created);
        Assert.Equal(1.5, found.Weight);
        Assert.True(found.Embedding.IsEmpty); // IncludeVectors is off by default

        MemoryNote? tea = await collection.GetAsync("tea");
        Assert.NotNull(tea);
        Assert.Equal(("preference", "Alice likes green tea", 2, true, Monday, 0.75), (tea.Category, tea.Text, tea.Priority, tea.IsPinned, tea.Created, tea.Weight));
        Assert.Equal(Monday.Offset, tea.Created.Offset);
        Assert.True(tea.Embedding.IsEmpty);
        MemoryNote? withVector = await collection.GetAsync("tea", new RecordRetrievalOptions { IncludeVectors = true });
        Assert.Equal(Axis(0), withVector!.Embedding.ToArray());
        MemoryNote? coffee = await collection.GetAsync("coffee");
        Assert.Null(coffee!.Weight); // a null data value stays null

        await collection.DeleteAsync("tea");
        Assert.Null(await collection.GetAsync("tea"));
        Assert.DoesNotContain("tea", await collection.SearchAsync(Axis(0), top: 4).Select(r => r.Record.Id).ToListAsync());

        await collection.EnsureCollectionDeletedAsync();
        Assert.False(await collection.CollectionExistsAsync());
        Assert.False(await store.CollectionExistsAsync(name));
    }

    [Fact]
    public async Task Search_CapturedValues_IntEquality_NegatedBool_Skip_AndScoreThreshold()
    {
        using VectorStore store = await CreateStoreAsync();
        VectorStoreCollection<string, MemoryNote> collection = store.GetCollection<string, MemoryNote>(NewCollectionName());
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Notes());

        string category = "preference";
        int priority = 1;
        Assert.Equal(["coffee"], await collection.SearchAsync(Axis(0), 5,
            new VectorSearchOptions<MemoryNote> { Filter = r => r.Category == category && r.Priority == priority }).Select(r => r.Record.Id).ToListAsync());
        Assert.Equal(["coffee", "standup"], await collection.SearchAsync(Axis(0), 5,
            new VectorSearchOptions<MemoryNote> { Filter = r => !r.IsPinned }).Select(r => r.Record.Id).ToListAsync());
        Assert.Equal(["deadline"], await collection.SearchAsync(Axis(0), 5,
            new VectorSearchOptions<MemoryNote> { Filter = r => r.Weight == 1.5 }).Select(r => r.Record.Id).ToListAsync());

        // Two different values required of one property match nothing.
        Assert.Empty(await collection.SearchAsync(Axis(0), 5,
            new VectorSearchOptions<MemoryNote> { Filter = r => r.Category == "work" && r.Category == "preference" }).ToListAsync());

        Assert.Equal(["deadline", "standup"], await collection.SearchAsync(Axis(0), 2,
            new VectorSearchOptions<MemoryNote> { Skip = 2 }).Select(r => r.Record.Id).ToListAsync());

        // cos(tea, coffee) = 0.894, cos(tea, deadline) = 0.707, cos(tea, standup) = 0.
        Assert.Equal(["tea", "coffee"], await collection.SearchAsync(Axis(0), 5,
            new VectorSearchOptions<MemoryNote> { ScoreThreshold = 0.8 }).Select(r => r.Record.Id).ToListAsync());
    }

    [Fact]
    public async Task Search_UnsupportedFilter_ThrowsNotSupported_NamingTheExpression()
    {
        using VectorStore store = await CreateStoreAsync();
        VectorStoreCollection<string, MemoryNote> collection = store.GetCollection<string, MemoryNote>(NewCollectionName());
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Notes());

        var range = await Assert.ThrowsAsync<NotSupportedException>(() =>
            collection.SearchAsync(Axis(0), 3, new VectorSearchOptions<MemoryNote> { Filter = r => r.Priority > 2 }).ToListAsync().AsTask());
        Assert.Contains("r.Priority > 2", range.Message, StringComparison.Ordinal);
        Assert.Contains("range", range.Message, StringComparison.Ordinal);

        var or = await Assert.ThrowsAsync<NotSupportedException>(() =>
            collection.SearchAsync(Axis(0), 3, new VectorSearchOptions<MemoryNote> { Filter = r => r.Category == "work" || r.IsPinned }).ToListAsync().AsTask());
        Assert.Contains("||", or.Message, StringComparison.Ordinal);

        var key = await Assert.ThrowsAsync<NotSupportedException>(() =>
            collection.SearchAsync(Axis(0), 3, new VectorSearchOptions<MemoryNote> { Filter = r => r.Id == "tea" }).ToListAsync().AsTask());
        Assert.Contains("key property 'Id'", key.Message, StringComparison.Ordinal);

        var contains = await Assert.ThrowsAsync<NotSupportedException>(() =>
            collection.SearchAsync(Axis(0), 3, new VectorSearchOptions<MemoryNote> { Filter = r => r.Text.Contains("tea") }).ToListAsync().AsTask());
        Assert.Contains("Contains", contains.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_BeforeEnsureCollectionExists_ThrowVectorStoreException_NamingTheCollection()
    {
        using VectorStore store = await CreateStoreAsync();
        string name = NewCollectionName();
        VectorStoreCollection<string, MemoryNote> collection = store.GetCollection<string, MemoryNote>(name);

        var error = await Assert.ThrowsAsync<VectorStoreException>(() => collection.UpsertAsync(Notes()[0]));

        Assert.Equal(name, error.CollectionName);
        Assert.Equal("UpsertAsync", error.OperationName);
        Assert.Contains("EnsureCollectionExistsAsync", error.Message, StringComparison.Ordinal);
        Assert.False(await collection.CollectionExistsAsync()); // nothing was created on the way
    }

    [Fact]
    public async Task TheModelIsRecorded_AnotherModelOrDimension_IsRefused()
    {
        string name = NewCollectionName();
        IVectorStore inner = await CreateInnerStoreAsync();
        using VectorStore store = new GhostieVectorStore(inner, new GhostieVectorStoreOptions { ModelName = "test-model-v1" });
        VectorStoreCollection<string, MemoryNote> collection = store.GetCollection<string, MemoryNote>(name);
        await collection.EnsureCollectionExistsAsync();

        using VectorStore other = new GhostieVectorStore(inner, new GhostieVectorStoreOptions { ModelName = "another-model" });
        var model = await Assert.ThrowsAsync<VectorModelMismatchException>(() => other.GetCollection<string, MemoryNote>(name).EnsureCollectionExistsAsync());
        Assert.Contains("another-model", model.Message, StringComparison.Ordinal);

        MemoryNote wrong = Notes()[0];
        wrong.Embedding = new float[] { 1, 0, 0 };
        await Assert.ThrowsAsync<VectorModelMismatchException>(() => collection.UpsertAsync([Notes()[1], wrong]));
        Assert.Null(await collection.GetAsync("coffee")); // the batch was refused whole
    }

    [Fact]
    public async Task DynamicCollection_DictionaryRecords_RoundTripAndFilter()
    {
        using VectorStore store = await CreateStoreAsync();
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Id", typeof(string)),
                new VectorStoreDataProperty("Category", typeof(string)) { IsIndexed = true },
                new VectorStoreDataProperty("Priority", typeof(int)),
                new VectorStoreVectorProperty("Embedding", typeof(ReadOnlyMemory<float>), 8),
            ],
        };
        VectorStoreCollection<object, Dictionary<string, object?>> collection = store.GetDynamicCollection(NewCollectionName(), definition);
        await collection.EnsureCollectionExistsAsync();

        await collection.UpsertAsync(
        [
            new Dictionary<string, object?> { ["Id"] = "a", ["Category"] = "work", ["Priority"] = 5, ["Embedding"] = new ReadOnlyMemory<float>(Axis(0)) },
            new Dictionary<string, object?> { ["Id"] = "b", ["Category"] = "home", ["Priority"] = 1, ["Embedding"] = new ReadOnlyMemory<float>(Axis(0, 0.2f)) },
        ]);

        Dictionary<string, object?>? a = await collection.GetAsync("a");
        Assert.NotNull(a);
        Assert.Equal("work", a["Category"]);
        Assert.Equal(5, a["Priority"]);
        var found = await collection.SearchAsync(Axis(0), 2,
            new VectorSearchOptions<Dictionary<string, object?>> { Filter = r => (string)r["Category"]! == "home" }).ToListAsync();
        Assert.Equal("b", Assert.Single(found).Record["Id"]);
    }

    [Fact]
    public async Task EmbeddingGenerator_StringVectorProperty_UpsertsAndSearchesByText()
    {
        using var generator = new HashedNGramEmbeddingGenerator();
        using VectorStore store = await CreateStoreAsync(modelName: null, generator: generator);
        VectorStoreCollection<Guid, TextNote> collection = store.GetCollection<Guid, TextNote>(NewCollectionName());
        await collection.EnsureCollectionExistsAsync();
        Guid tea = Guid.NewGuid(), report = Guid.NewGuid();

        await collection.UpsertAsync(
        [
            new TextNote { Id = tea, Category = "preference", Text = "Alice likes green tea" },
            new TextNote { Id = report, Category = "work", Text = "The quarterly report is due Friday" },
        ]);

        VectorSearchResult<TextNote> best = await collection.SearchAsync("what tea does alice like", 1).FirstAsync();
        Assert.Equal(tea, best.Record.Id);
        Assert.Equal("Alice likes green tea", best.Record.Text); // the source text is kept with the record
        Assert.Equal(report, (await collection.SearchAsync("report due", 2, new VectorSearchOptions<TextNote> { Filter = r => r.Category == "work" }).SingleAsync()).Record.Id);
        Assert.Equal(generator.Model.ModelName, ((EmbeddingModelInfo)collection.GetService(typeof(EmbeddingModelInfo))!).ModelName);
        await Assert.ThrowsAsync<NotSupportedException>(() => collection.GetAsync(tea, new RecordRetrievalOptions { IncludeVectors = true }));
    }
}
