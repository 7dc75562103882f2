using System.Text;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.KnowledgeGraph.Tests;

/// <summary>Devices sharing one repository (in memory, or a folder), each with its own Ghostie home and graph file.</summary>
internal sealed class GraphCluster : IDisposable
{
    public const string Passphrase = "graph cluster passphrase";
    private readonly List<GraphDevice> _devices = [];

    public GraphCluster(IStorageBackend? storage = null)
    {
        Storage = storage ?? new InMemoryStorageBackend();
        Root = Path.Combine(Path.GetTempPath(), "ghostie-graph-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
    }

    public IStorageBackend Storage { get; }

    public string Root { get; }

    public static RepositoryKeyOptions KeyOptions() => new() { Pbkdf2Iterations = 1_000, AllowWeakKdfForTesting = true };

    public async Task<GraphDevice> AddDeviceAsync(string deviceId)
    {
        RepositoryKeys keys;
        try
        {
            keys = await RepositoryKeys.UnlockAsync(Storage, Passphrase, KeyOptions());
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.RepositoryNotInitialized)
        {
            keys = await RepositoryKeys.InitializeAsync(Storage, Passphrase, "primary", KeyOptions());
        }

        var options = new GhostieSyncOptions { Home = Path.Combine(Root, deviceId, "home") };
        new GhostieHome(options.Home).EnsureCreated();
        string graphFolder = Path.Combine(Root, deviceId, "server");
        Directory.CreateDirectory(graphFolder);
        var device = new GraphDevice(deviceId, MemorySyncManager.Create(Storage, keys, options, deviceId, ownsKeys: true), Path.Combine(graphFolder, "memory.jsonl"));
        _devices.Add(device);
        return device;
    }

    public void Dispose()
    {
        foreach (GraphDevice device in _devices)
        {
            device.Manager.Dispose();
        }

        Directory.Delete(Root, recursive: true);
    }
}

internal sealed class GraphDevice(string id, MemorySyncManager manager, string graphFile)
{
    public string Id { get; } = id;

    public MemorySyncManager Manager { get; } = manager;

    public string GraphFile { get; } = graphFile;

    public KnowledgeGraphSync Graph(Action<KnowledgeGraphSyncOptions>? configure = null)
    {
        var options = new KnowledgeGraphSyncOptions { FilePath = GraphFile, SettleDelay = TimeSpan.FromMilliseconds(10) };
        configure?.Invoke(options);
        return new KnowledgeGraphSync(Manager, options);
    }

    public Task<GraphSyncResult> SyncGraphAsync() => Graph().SyncAsync();

    /// <summary>Writes the file as the memory server does (whole file, lines joined by \n).</summary>
    public void WriteLines(params string[] lines) => File.WriteAllText(GraphFile, string.Join("\n", lines));

    public string[] ReadLines() => File.Exists(GraphFile) ? File.ReadAllText(GraphFile).Split('\n', StringSplitOptions.RemoveEmptyEntries) : [];

    /// <summary>The file's graph, as "entity name:type [obs, obs]" and "relation from-type->to" lines, sorted.</summary>
    public string[] Describe()
    {
        GraphFileContent content = MemoryGraphFile.Parse(File.Exists(GraphFile) ? File.ReadAllBytes(GraphFile) : []);
        Assert.Empty(content.KeptLines);
        return Describe(content.Graph);
    }

    public static string[] Describe(KnowledgeGraph graph) =>
        graph.Entities.Select(e => $"entity {e.Name}:{e.EntityType} [{string.Join(", ", e.Observations.Order(StringComparer.Ordinal))}]")
            .Concat(graph.Relations.Select(r => $"relation {r.From}-{r.RelationType}->{r.To}"))
            .Order(StringComparer.Ordinal).ToArray();
}

internal static class Lines
{
    public static string Entity(string name, string type, params string[] observations) =>
        Encoding.UTF8.GetString(MemoryGraphFile.Serialize(new KnowledgeGraph([new GraphEntity(name, type, observations)], [])));

    public static string Relation(string from, string type, string to) =>
        Encoding.UTF8.GetString(MemoryGraphFile.Serialize(new KnowledgeGraph([], [new GraphRelation(from, to, type)])));
}
