using System.Text;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.KnowledgeGraph.Tests;

/// <summary>Devices sharing one repository (in memory, or a folder), each with its own Ghostie home and graph file: the
/// shared <see cref="Cluster"/>, with the library's default options (the system clock, default pack sizes).</summary>
internal sealed class GraphCluster : IDisposable
{
    private readonly Cluster _cluster;

    public GraphCluster(IStorageBackend? storage = null)
    {
        _cluster = new Cluster(storage)
        {
            ConfigureOptions = o =>
            {
                var defaults = new GhostieSyncOptions();
                (o.TimeProvider, o.PackTargetBytes, o.CompactAfterPacks) = (defaults.TimeProvider, defaults.PackTargetBytes, defaults.CompactAfterPacks);
            },
        };
    }

    public IStorageBackend Storage => _cluster.Storage;

    public string Root => _cluster.Root;

    public async Task<GraphDevice> AddDeviceAsync(string deviceId)
    {
        Device device = await _cluster.AddDeviceAsync(deviceId);
        string graphFolder = Path.Combine(Root, deviceId + "-server");
        Directory.CreateDirectory(graphFolder);
        return new GraphDevice(deviceId, device.Manager, Path.Combine(graphFolder, "memory.jsonl"));
    }

    public void Dispose() => _cluster.Dispose();
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
