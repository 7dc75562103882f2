using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.KnowledgeGraph.Tests;

/// <summary>
/// The real peers: on each of two device homes, the reference memory server (npm @modelcontextprotocol/server-memory)
/// driven over stdio by the official TypeScript client (tests/servers/memory-graph-client.mjs), and graph sync through
/// a folder repository between them.
/// </summary>
public sealed class ReferenceServerTests : IDisposable
{
    private readonly string _repository = Path.Combine(Path.GetTempPath(), "ghostie-graph-repo-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly GraphCluster _cluster;

    public ReferenceServerTests()
    {
        Directory.CreateDirectory(_repository);
        _cluster = new GraphCluster(new FileSystemBackend(_repository));
    }

    public void Dispose()
    {
        _cluster.Dispose();
        (_cluster.Storage as IDisposable)?.Dispose();
        Directory.Delete(_repository, recursive: true);
    }

    [Fact]
    public async Task TwoServers_OfflineCreatesAndDeletes_BothReadTheSameMergedGraph()
    {
        GraphDevice a = await _cluster.AddDeviceAsync("laptop");
        GraphDevice b = await _cluster.AddDeviceAsync("phone");

        // A shared start: created on the laptop, synced to the phone.
        await RunServerAsync(a, """
            [{"tool":"create_entities","arguments":{"entities":[
               {"name":"Alice","entityType":"person","observations":["likes tea","lives in Oslo"]},
               {"name":"Bob","entityType":"person","observations":["plays chess"]},
               {"name":"Scratch","entityType":"note","observations":["temporary"]}]}},
             {"tool":"create_relations","arguments":{"relations":[
               {"from":"Alice","to":"Bob","relationType":"knows"},
               {"from":"Scratch","to":"Alice","relationType":"mentions"}]}}]
            """);
        await a.SyncGraphAsync();
        await b.SyncGraphAsync();
        Assert.Equal(await ReadGraphAsync(a), await ReadGraphAsync(b));

        // Offline on both devices: additions and deletions of entities, observations and relations.
        await RunServerAsync(a, """
            [{"tool":"add_observations","arguments":{"observations":[{"entityName":"Alice","contents":["works at Acme"]}]}},
             {"tool":"delete_observations","arguments":{"deletions":[{"entityName":"Alice","observations":["lives in Oslo"]}]}},
             {"tool":"create_entities","arguments":{"entities":[{"name":"Acme","entityType":"company","observations":["makes anvils"]},
                                                             {"name":"Zed","entityType":"person","observations":[]}]}},
             {"tool":"create_relations","arguments":{"relations":[{"from":"Alice","to":"Acme","relationType":"works_at"}]}},
             {"tool":"delete_relations","arguments":{"relations":[{"from":"Alice","to":"Bob","relationType":"knows"}]}}]
            """);
        await RunServerAsync(b, """
            [{"tool":"add_observations","arguments":{"observations":[{"entityName":"Bob","contents":["plays go"]},
                                                                   {"entityName":"Alice","contents":["likes hiking"]}]}},
             {"tool":"delete_entities","arguments":{"entityNames":["Scratch"]}},
             {"tool":"create_entities","arguments":{"entities":[{"name":"Zed","entityType":"robot","observations":["beeps"]}]}},
             {"tool":"create_relations","arguments":{"relations":[{"from":"Bob","to":"Alice","relationType":"admires"}]}}]
            """);

        await a.SyncGraphAsync();
        GraphSyncResult resultB = await b.SyncGraphAsync();
        GraphSyncResult resultA = await a.SyncGraphAsync();

        string graphA = await ReadGraphAsync(a), graphB = await ReadGraphAsync(b);
        Assert.Equal(graphA, graphB);
        JsonNode graph = JsonNode.Parse(graphA)!;
        string[] entities = graph["entities"]!.AsArray().Select(e => $"{e!["name"]}:{e["entityType"]} [{string.Join(", ", e["observations"]!.AsArray().Select(o => (string)o!))}]").ToArray();
        string[] relations = graph["relations"]!.AsArray().Select(r => $"{r!["from"]}-{r["relationType"]}->{r["to"]}").ToArray();
        string zed = resultA.Conflicts.Single().Versions[0].EntityType!;
        Assert.Equal([
            "Acme:company [makes anvils]",
            "Alice:person [likes hiking, likes tea, works at Acme]",
            "Bob:person [plays chess, plays go]",
            $"Zed:{zed} [beeps]",
        ], entities);
        Assert.Equal(["Alice-works_at->Acme", "Bob-admires->Alice"], relations);

        // Zed's type was made differently on the two devices: a conflict, the same on both, naming both devices.
        foreach (GraphSyncResult result in new[] { resultA, resultB })
        {
            GraphEntityConflict conflict = Assert.Single(result.Conflicts);
            Assert.Equal("Zed", conflict.EntityName);
            Assert.Equal(["person", "robot"], conflict.Versions.Select(v => v.EntityType).Order(StringComparer.Ordinal));
            Assert.Equal(["laptop", "phone"], conflict.Versions.Select(v => v.DeviceId).Order(StringComparer.Ordinal));
        }

        // The servers keep working on the merged file, and a later sync needs no rewrite.
        await RunServerAsync(b, """[{"tool":"add_observations","arguments":{"observations":[{"entityName":"Acme","contents":["founded 1949"]}]}}]""");
        await b.SyncGraphAsync();
        GraphSyncResult last = await a.SyncGraphAsync();
        Assert.True(last.FileWritten);
        Assert.Equal(await ReadGraphAsync(a), await ReadGraphAsync(b));
        Assert.Contains("founded 1949", await ReadGraphAsync(a), StringComparison.Ordinal);
        Assert.False((await a.SyncGraphAsync()).FileWritten);
    }

    [Fact]
    public async Task Server_MalformedLineKeptByGraphSync_ServerWorksAgainOnceTheLineIsFixed()
    {
        GraphDevice a = await _cluster.AddDeviceAsync("laptop");
        await RunServerAsync(a, """[{"tool":"create_entities","arguments":{"entities":[{"name":"Alice","entityType":"person","observations":["x"]}]}}]""");
        File.AppendAllText(a.GraphFile, "\n{\"type\":\"entity\",\"name\":\"Bob\"");

        GraphSyncResult result = await a.SyncGraphAsync();

        Assert.Single(result.KeptLines);
        Assert.EndsWith("{\"type\":\"entity\",\"name\":\"Bob\"", File.ReadAllText(a.GraphFile), StringComparison.Ordinal);
        File.WriteAllLines(a.GraphFile, File.ReadAllLines(a.GraphFile).Where(l => !l.Contains("Bob", StringComparison.Ordinal)));
        Assert.Contains("\"Alice\"", await ReadGraphAsync(a), StringComparison.Ordinal);
    }

    private static Task<string> ReadGraphAsync(GraphDevice device) => RunServerAsync(device, "[]");

    /// <summary>Starts the device's memory server, calls the tools in order, returns its read_graph result (JSON).</summary>
    private static async Task<string> RunServerAsync(GraphDevice device, string steps)
    {
        string script = Path.Combine(ServerProcess.RepositoryRoot, "tests", "servers", "memory-graph-client.mjs");
        Assert.True(File.Exists(Path.Combine(ServerProcess.RepositoryRoot, "tests", "servers", "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js")),
            "The reference memory server is not installed: run 'npm ci --prefix tests/servers'.");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(device.GraphFile);
        start.ArgumentList.Add(JsonNode.Parse(steps)!.ToJsonString());
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"memory server on {device.Id}: exit {process.ExitCode}: {await errors}");
        string graph = (await output).Trim();
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(graph).RootElement.ValueKind);
        return graph;
    }
}
