using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ghostie.Sync.Handoff.Importers;
using Ghostie.Sync.Handoff.Tests.Support;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>The agent state a host restores (issue 11 point 6): carried in the package complete, and written back as a Claude Code session.</summary>
public sealed class AgentStateRestoreTests : IDisposable
{
    private const string Instruction = "Now bump the persisted queue format to 2 and add a migration test.";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private async Task<ConversationTranscript> SessionAsync(string cwd)
    {
        var s = new ClaudeCodeSession();
        s.PermissionMode("acceptEdits");
        s.User("Keep the offline queue's order across restarts.");
        s.ToolUse("TodoWrite", new JsonObject
        {
            ["todos"] = new JsonArray(
                new JsonObject { ["content"] = "Add a sequence number", ["status"] = "completed", ["activeForm"] = "Adding a sequence number" },
                new JsonObject { ["content"] = "Bump the format", ["status"] = "in_progress", ["activeForm"] = "Bumping the format" }),
        });
        string audit = s.ToolUse("Task", new JsonObject { ["description"] = "Audit callers", ["prompt"] = "List every caller of OrderBy in Sync/.", ["subagent_type"] = "Explore" });
        s.ToolResult(audit, "Three callers: Queue.cs, Merge.cs, Replay.cs.");
        s.ToolUse("Task", new JsonObject { ["description"] = "Write the migration test", ["prompt"] = "Write a test that reads a format-1 queue.", ["subagent_type"] = "general-purpose" });
        s.Assistant("The sequence number is in; the migration test is being written by a sub-agent.");
        s.User(Instruction);
        s.Teammate("reviewer", "{\"type\":\"idle_notification\",\"from\":\"reviewer\",\"idleReason\":\"available\"}");
        string text = s.ToString().Replace(ClaudeCodeSession.Cwd, cwd, StringComparison.Ordinal);
        string path = Path.Combine(_folder.Path, "session.jsonl");
        await File.WriteAllTextAsync(path, text);
        ConversationTranscript transcript = await TranscriptImporter.ImportFileAsync(path);
        transcript.AgentState.ProjectInstructions.AddRange(ProjectInstructions.Find(transcript.AgentState.WorkingDirectory, homeDirectory: null));
        return transcript;
    }

    private string Project()
    {
        string cwd = Path.Combine(_folder.Path, "ghostie-mobile");
        Directory.CreateDirectory(Path.Combine(cwd, ".claude"));
        File.WriteAllText(Path.Combine(cwd, "CLAUDE.md"), "# Ghostie mobile\nRun `dotnet test` before every commit.\n");
        File.WriteAllText(Path.Combine(cwd, ".claude", "CLAUDE.md"), new string('x', ProjectInstructions.MaxBytes + 500));
        return cwd;
    }

    [Fact]
    public async Task TheHostsState_IsInThePackage_AndSurvivesTheRoundTripFieldByField()
    {
        string cwd = Project();
        ConversationTranscript transcript = await SessionAsync(cwd);
        using Repository repository = await Repository.CreateAsync();
        HandoffPackage built = await repository.Device("laptop").BuildAsync(new HandoffRequest { Transcript = transcript });
        await repository.Device("laptop").StoreAsync(built);
        HandoffPackage fetched = await repository.Device("phone").FetchAsync(built.PackageId);

        Assert.Equal(3, fetched.SchemaVersion);
        AgentState main = Assert.Single(fetched.Agents, a => a.Id == "main");
        Assert.Equal(("main", "active", "acceptEdits", cwd), (main.Kind, main.Status, main.PermissionMode, main.WorkingDirectory));
        Assert.Equal("claude-opus-4-5-20251101", main.Model);
        Assert.Equal(transcript.AgentState.Todos, main.Todos);
        Assert.Equal(["Add a sequence number", "Bump the format"], main.Todos.Select(t => t.Content));
        Assert.Equal([Path.Combine(cwd, "CLAUDE.md"), Path.Combine(cwd, ".claude", "CLAUDE.md")], main.ProjectInstructions.Select(f => f.Path));
        Assert.Equal("# Ghostie mobile\nRun `dotnet test` before every commit.\n", main.ProjectInstructions[0].Text);
        Assert.False(main.ProjectInstructions[0].Truncated);
        Assert.True(main.ProjectInstructions[1].Truncated);
        Assert.Equal(ProjectInstructions.MaxBytes, Encoding.UTF8.GetByteCount(main.ProjectInstructions[1].Text));

        AgentState[] subAgents = fetched.Agents.Where(a => a.Kind == "sub-agent").ToArray();
        Assert.Equal([("Explore", "completed", false), ("general-purpose", "running", true)], subAgents.Select(a => (a.Name, a.Status, a.IsActive)));
        Assert.Equal("Three callers: Queue.cs, Merge.cs, Replay.cs.", subAgents[0].ContextWindow.Messages[^1].Text);
        AgentState teammate = Assert.Single(fetched.Agents, a => a.Kind == "teammate");
        Assert.Equal(("reviewer", "idle", true), (teammate.Name, teammate.Status, teammate.IsActive));

        // 100%: every field of every agent, as built.
        Assert.Equal(built.Agents.Count, fetched.Agents.Count);
        for (int i = 0; i < built.Agents.Count; i++)
        {
            AgentState a = built.Agents[i], b = fetched.Agents[i];
            foreach (System.Reflection.PropertyInfo property in typeof(AgentState).GetProperties().Where(p => p.Name != "EqualityContract"))
            {
                Assert.True(JsonSerializer.Serialize(property.GetValue(a)) == JsonSerializer.Serialize(property.GetValue(b)), $"agent {a.Id}: {property.Name} differs after the round trip");
            }
        }
    }

    [Fact]
    public async Task OlderPackages_StillRead_WithTheNewFieldsAtTheirDefaults()
    {
        foreach (string fixture in new[] { "package-v1.json", "package-v2.json" })
        {
            HandoffPackage package = HandoffSerializer.Default.Deserialize(await File.ReadAllBytesAsync(Fixtures.PathOf(fixture)), fixture);
            AgentState agent = package.Agents[0];
            Assert.Equal(("", "", null, 0, 0), (agent.Kind, agent.Status, agent.PermissionMode, agent.Todos.Count, agent.ProjectInstructions.Count));
            Assert.Null(package.Reconstruction.ResumptionPoint.LastUserTurn);
        }
    }

    [Fact]
    public async Task ResumeAsClaudeCode_WritesASessionOurImporterReadsBack_WithTheSameLastInstruction()
    {
        string cwd = Project();
        ConversationTranscript transcript = await SessionAsync(cwd);
        using Repository repository = await Repository.CreateAsync();
        HandoffPackage package = await repository.Device("laptop").BuildAsync(new HandoffRequest { Transcript = transcript });
        string workspace = Path.Combine(_folder.Path, "phone-checkout");
        var options = new ClaudeCodeSessionOptions { WorkingDirectory = workspace };

        string jsonl = ClaudeCodeSessionWriter.Write(package, options);

        // The chain Claude Code follows: every message line's parent is the line before; one session id; the cwd given.
        List<JsonObject> lines = jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        List<JsonObject> chain = lines.Where(l => l["uuid"] is not null).ToList();
        Assert.Null(chain[0]["parentUuid"]?.GetValue<string>());
        for (int i = 1; i < chain.Count; i++)
        {
            Assert.Equal(chain[i - 1]["uuid"]!.GetValue<string>(), chain[i]["parentUuid"]!.GetValue<string>());
        }

        Assert.All(chain, l => Assert.Equal((options.SessionId, workspace), (l["sessionId"]!.GetValue<string>(), l["cwd"]!.GetValue<string>())));
        Assert.NotEqual(transcript.Id, options.SessionId);
        Assert.Equal("compact_boundary", chain[0]["subtype"]!.GetValue<string>());
        Assert.True(chain[1]["isCompactSummary"]!.GetValue<bool>());
        Assert.Equal(chain[^1]["uuid"]!.GetValue<string>(), lines[0]["leafUuid"]!.GetValue<string>());

        string path = ClaudeCodeSessionWriter.ProjectsPath(_folder.Path, workspace, options.SessionId);
        Assert.EndsWith(Path.Combine(".claude", "projects", workspace.Replace('/', '-').Replace('.', '-').Replace('_', '-'), options.SessionId + ".jsonl"), path, StringComparison.Ordinal);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, jsonl);
        ConversationTranscript back = await TranscriptImporter.ImportFileAsync(path);

        Assert.Equal(Instruction, back.LastInstruction?.Text);
        Assert.Equal(options.SessionId, back.Id);
        Assert.Equal(MessageKind.CompactionSummary, back.Messages.First(m => m.Kind != MessageKind.Injected).Kind);
        Assert.Contains(Instruction, back.Summaries[0], StringComparison.Ordinal);
        Assert.Equal("acceptEdits", back.AgentState.PermissionMode);
        Assert.Equal(transcript.AgentState.Todos, back.AgentState.Todos);
        Assert.Equal(workspace, back.ProjectRoot);
        Assert.Equal(package.Conversation.Title, back.Title);
        Assert.Contains(back.Messages, m => m.Kind == MessageKind.Teammate && m.Sender == "reviewer");

        // And a package of it carries the same last instruction on.
        HandoffPackage again = await repository.Device("phone").BuildAsync(new HandoffRequest { Transcript = back });
        Assert.Equal(Instruction, again.Reconstruction.ResumptionPoint.LastUserMessage);
    }
}
