using System.Diagnostics;
using System.Text.Json;
using Ghostie.Cli.Tests.Support;

namespace Ghostie.Cli.Tests;

/// <summary><c>ghostie graph sync | status</c> on two device homes, each with the reference memory server driven by the TypeScript client.</summary>
public sealed class GraphCommandTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private string GraphFile(string device)
    {
        string folder = Path.Combine(_sandbox.Root, "server-" + device);
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, "memory.jsonl");
    }

    [Fact]
    public async Task GraphSync_TwoDevicesWithRealServers_BothReadTheSameGraphAndConflictsAreNamed()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        await ServerAsync("laptop", """[{"tool":"create_entities","arguments":{"entities":[{"name":"Alice","entityType":"person","observations":["likes tea"]},{"name":"Old","entityType":"note","observations":[]}]}}]""");
        (await _sandbox.RunAsync("laptop", "graph", "sync", "--file", GraphFile("laptop"))).Expect(0);
        (await _sandbox.RunAsync("phone", "graph", "sync", "--file", GraphFile("phone"))).Expect(0);

        await ServerAsync("laptop", """[{"tool":"delete_entities","arguments":{"entityNames":["Old"]}},{"tool":"create_entities","arguments":{"entities":[{"name":"Box","entityType":"thing","observations":[]}]}}]""");
        await ServerAsync("phone", """[{"tool":"add_observations","arguments":{"observations":[{"entityName":"Alice","contents":["plays go"]}]}},{"tool":"create_relations","arguments":{"relations":[{"from":"Alice","to":"Old","relationType":"wrote"}]}},{"tool":"create_entities","arguments":{"entities":[{"name":"Box","entityType":"container","observations":[]}]}}]""");

        (await _sandbox.RunAsync("laptop", "graph", "sync", "--file", GraphFile("laptop"))).Expect(0);
        CliResult phone = await _sandbox.RunAsync("phone", "graph", "sync", "--file", GraphFile("phone"), "--json");
        CliResult laptop = await _sandbox.RunAsync("laptop", "graph", "sync", "--file", GraphFile("laptop"));

        phone.Expect(0);
        laptop.Expect(0);
        JsonElement document = phone.Json();
        Assert.Equal(3, document.GetProperty("local_additions").GetInt32()); // "plays go", the relation, entity Box
        Assert.Equal(0, document.GetProperty("local_deletions").GetInt32());
        Assert.True(document.GetProperty("file_written").GetBoolean());
        Assert.Equal("Box", document.GetProperty("conflicts")[0].GetProperty("entity").GetString());
        Assert.Contains("entity 'Box' has concurrent types", laptop.StdErr, StringComparison.Ordinal);
        Assert.Contains("ghostie sync conflict resolve kg-e-", laptop.StdErr, StringComparison.Ordinal);
        string graph = await ServerAsync("laptop", "[]");
        Assert.Equal(graph, await ServerAsync("phone", "[]"));
        Assert.Contains("plays go", graph, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Old\",\"entityType\"", graph.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("\"relationType\":\"wrote\"", graph, StringComparison.Ordinal); // a relation to a deleted entity is kept, as the server allows
    }

    [Fact]
    public async Task GraphSync_MalformedLine_ExitCode6NamesTheLineAndKeepsIt()
    {
        await _sandbox.SetupAsync("laptop");
        string file = GraphFile("laptop");
        await File.WriteAllTextAsync(file, "{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"t\",\"observations\":[]}\nnot json at all");

        CliResult result = await _sandbox.RunAsync("laptop", "graph", "sync", "--file", file);
        CliResult status = await _sandbox.RunAsync("laptop", "graph", "status", "--file", file, "--json");

        result.Expect(6);
        Assert.Contains("Line 2 of", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("not json at all", result.StdErr, StringComparison.Ordinal);
        Assert.EndsWith("\nnot json at all", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal(2, status.Expect(0).Json().GetProperty("kept_lines")[0].GetProperty("line").GetInt32());
    }

    [Fact]
    public async Task GraphSync_NoFileGiven_UsageErrorNamingTheOptionAndTheVariable()
    {
        await _sandbox.SetupAsync("laptop");

        CliResult result = await _sandbox.RunAsync("laptop", "graph", "sync");

        result.Expect(1);
        Assert.Contains("--file", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("MEMORY_FILE_PATH", result.StdErr, StringComparison.Ordinal);
    }

    /// <summary>Runs the device's memory server with the tool calls given, returns its read_graph result.</summary>
    private async Task<string> ServerAsync(string device, string steps)
    {
        string root = Ghostie.Sync.Testing.ServerProcess.RepositoryRoot;
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(root, "tests", "servers", "memory-graph-client.mjs"));
        start.ArgumentList.Add(GraphFile(device));
        start.ArgumentList.Add(steps);
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"memory server of {device}: {await errors}");
        return (await output).Trim();
    }
}
