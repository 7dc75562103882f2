using System.Text.Json;
using Ghostie.Cli.Tests.Support;
using Ghostie.Sync.Testing;

namespace Ghostie.Cli.Tests;

/// <summary>A conversation handed from one device home to another through one folder repository, only through <c>ghostie handoff</c>.</summary>
public sealed class HandoffEndToEndTests : IDisposable
{
    private static readonly string Key = "sk-" + "ant-api03-" + "Xq7L2vN9cR4tW8yB1mK5pJ3hG6fD0sA-zQ_uE2iO7rT4yU9wP1aS3dF6gH8jK0lZx2cV5bN7mM9qW1eR3tY5uI7oP9aAA";
    private static readonly string Aws = "AKIA" + "2E0A8F3B244C9986";
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task CreateOnLaptop_ListAndResumeOnPhone_ConsumesIt()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        await _sandbox.SetupAsync("tablet");
        var generator = new TranscriptGenerator(seed: 42);
        string transcript = Path.Combine(_sandbox.Root, "session.jsonl");
        await File.WriteAllTextAsync(transcript, generator.Generate(60, ["export ANTHROPIC_API_KEY=" + Key, "aws id " + Aws]));

        JsonElement created = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--to", "phone", "--json")).Expect(0).Json();
        string id = created.GetProperty("package_id").GetString()!;
        Assert.Matches("^[0-9a-f]{24}$", id);
        Assert.Equal("phone", created.GetProperty("to").GetString());
        Assert.Equal(2, created.GetProperty("secrets_removed").GetInt32());
        Assert.Equal(1, created.GetProperty("secrets_by_kind").GetProperty("anthropic-key").GetInt32());
        Assert.True(created.GetProperty("compression_ratio").GetDouble() > 20);
        Assert.True(created.GetProperty("estimated_load_ms").GetDouble() > 0);
        Assert.Equal(new FileInfo(transcript).Length, created.GetProperty("transcript_bytes").GetInt64());

        // Nothing readable in the repository: no secret, no title, no device name in any name or byte.
        foreach (string file in Directory.EnumerateFiles(_sandbox.Repository, "*", SearchOption.AllDirectories))
        {
            string bytes = System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file));
            Assert.DoesNotContain(Key, bytes, StringComparison.Ordinal);
            Assert.DoesNotContain("Offline queue", bytes, StringComparison.Ordinal);
            Assert.DoesNotContain("phone", Path.GetRelativePath(_sandbox.Repository, file), StringComparison.Ordinal);
        }

        JsonElement phoneList = (await _sandbox.RunAsync("phone", "handoff", "list", "--json")).Expect(0).Json();
        JsonElement pending = Assert.Single(phoneList.GetProperty("pending").EnumerateArray());
        Assert.Equal(id, pending.GetProperty("package_id").GetString());
        Assert.Equal("laptop", pending.GetProperty("from").GetString());
        Assert.Empty((await _sandbox.RunAsync("tablet", "handoff", "list", "--json")).Expect(0).Json().GetProperty("pending").EnumerateArray());
        CliResult human = (await _sandbox.RunAsync("phone", "handoff", "list")).Expect(0);
        Assert.Contains(id, human.StdOut, StringComparison.Ordinal);
        Assert.Contains("from laptop", human.StdOut, StringComparison.Ordinal);

        // The tablet cannot take the phone's package.
        CliResult wrong = (await _sandbox.RunAsync("tablet", "handoff", "resume", id)).Expect(1);
        Assert.Contains("addressed to another device", wrong.StdErr, StringComparison.Ordinal);

        CliResult resumed = (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--profile", "ios")).Expect(0);
        Assert.StartsWith("# Continuing: ", resumed.StdOut, StringComparison.Ordinal);
        Assert.Contains("## Key decisions", resumed.StdOut, StringComparison.Ordinal);
        Assert.Contains("## Last instruction (verbatim)", resumed.StdOut, StringComparison.Ordinal);
        Assert.Contains(generator.Turns[^1][..40], resumed.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, resumed.StdOut, StringComparison.Ordinal);
        Assert.Contains("rebuilt for ios", resumed.StdErr, StringComparison.Ordinal);
        Assert.Contains("consumed", resumed.StdErr, StringComparison.Ordinal);

        Assert.Empty((await _sandbox.RunAsync("phone", "handoff", "list", "--json")).Expect(0).Json().GetProperty("pending").EnumerateArray());
        CliResult again = (await _sandbox.RunAsync("phone", "handoff", "resume", id)).Expect(1);
        Assert.Contains("resumed already", again.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResumeJson_WithinTheWebProfile_PathsRewritten_OfflineCopyKept()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("browser");
        string transcript = Path.Combine(_sandbox.Root, "session.jsonl");
        await File.WriteAllTextAsync(transcript, new TranscriptGenerator(seed: 7).Generate(40));
        string id = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--json")).Expect(0).Json().GetProperty("package_id").GetString()!;
        string workspace = Path.Combine(_sandbox.Root, "checkout");

        JsonElement resumed = (await _sandbox.RunAsync("browser", "handoff", "resume", id, "--profile", "web", "--workspace", workspace, "--offline", "--json")).Expect(0).Json();

        Assert.Equal("web", resumed.GetProperty("profile").GetString());
        Assert.True(resumed.GetProperty("context_tokens").GetInt32() <= 2_000);
        Assert.Equal(2_000, resumed.GetProperty("context_budget").GetInt32());
        Assert.True(resumed.GetProperty("active_agents").GetArrayLength() <= 1);
        Assert.True(resumed.GetProperty("estimated_memory_bytes").GetInt64() <= 100_000_000);
        JsonElement file = resumed.GetProperty("active_files").EnumerateArray().First(f => f.GetProperty("original_path").GetString()!.StartsWith(TranscriptGenerator.ProjectRoot, StringComparison.Ordinal));
        Assert.StartsWith(workspace + "/", file.GetProperty("path").GetString(), StringComparison.Ordinal);
        Assert.True(resumed.GetProperty("consumed").GetBoolean());
        string offline = resumed.GetProperty("offline_copy").GetString()!;
        Assert.True(File.Exists(offline));
        // The offline copy keeps the package's verbatim last turns (at most 10, as many as the thread's share held) and the person's last instruction.
        JsonElement copy = JsonDocument.Parse(await File.ReadAllTextAsync(offline)).RootElement;
        Assert.InRange(copy.GetProperty("last_messages").GetArrayLength(), 1, 10);
        Assert.False(string.IsNullOrEmpty(copy.GetProperty("project_state").GetProperty("last_instruction").GetString()));
        Assert.Empty((await _sandbox.RunAsync("browser", "handoff", "list", "--json")).Expect(0).Json().GetProperty("pending").EnumerateArray());
    }

    [Fact]
    public async Task TamperedPackage_ExitCode3_NamesTheObject()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string transcript = Path.Combine(_sandbox.Root, "chat.json");
        await File.WriteAllTextAsync(transcript, """[{"role":"user","content":"Plan a trip to Lisbon."},{"role":"assistant","content":"Let's go with five days in Alfama."}]""");
        string id = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--to", "phone", "--json")).Expect(0).Json().GetProperty("package_id").GetString()!;
        string stored = Directory.EnumerateFiles(Path.Combine(_sandbox.Repository, "x"), id, SearchOption.AllDirectories).Single();
        byte[] bytes = await File.ReadAllBytesAsync(stored);
        bytes[^3] ^= 0x40;
        await File.WriteAllBytesAsync(stored, bytes);
        string objectName = "x/" + Path.GetFileName(Path.GetDirectoryName(stored)) + "/" + id;

        JsonElement error = (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--json")).Expect(3).Json();
        Assert.Equal("IntegrityFailure", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(objectName, error.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(File.Exists(stored)); // not consumed

        // Listed as a problem, with the way out; 'delete' removes it.
        CliResult listed = (await _sandbox.RunAsync("phone", "handoff", "list")).Expect(6);
        Assert.True(listed.StdErr.Contains("ghostie handoff delete <id>' (" + id + ")", StringComparison.Ordinal), listed.StdErr);
        (await _sandbox.RunAsync("phone", "handoff", "delete", id)).Expect(0);
        Assert.False(File.Exists(stored));
        (await _sandbox.RunAsync("phone", "handoff", "list")).Expect(0);
    }

    [Fact]
    public async Task Delete_WithdrawsAPackage_ThenNotFound_AndIdsAreTakenAsTyped()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string transcript = Path.Combine(_sandbox.Root, "chat.json");
        await File.WriteAllTextAsync(transcript, """[{"role":"user","content":"Plan a trip to Lisbon."},{"role":"assistant","content":"Let's go with five days in Alfama."}]""");
        CliResult small = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--to", "phone")).Expect(0);
        Assert.Contains("larger than the", small.StdOut, StringComparison.Ordinal); // a 2-message chat: the package outweighs it, and says so
        string first = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--to", "phone", "--json")).Expect(0).Json().GetProperty("package_id").GetString()!;

        // The sender withdraws it; the id may be typed in upper case.
        JsonElement deleted = (await _sandbox.RunAsync("laptop", "handoff", "delete", first.ToUpperInvariant(), "--json")).Expect(0).Json();
        Assert.Equal(first, deleted.GetProperty("package_id").GetString());
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_sandbox.Repository, "x"), first, SearchOption.AllDirectories));
        Assert.DoesNotContain((await _sandbox.RunAsync("phone", "handoff", "list", "--json")).Expect(0).Json().GetProperty("pending").EnumerateArray(),
            p => p.GetProperty("package_id").GetString() == first);

        CliResult again = (await _sandbox.RunAsync("laptop", "handoff", "delete", first)).Expect(1);
        Assert.Contains("no handoff package " + first, again.StdErr, StringComparison.Ordinal);
        (await _sandbox.RunAsync("laptop", "handoff", "delete", "not-an-id")).Expect(1);
        (await _sandbox.RunAsync("unset", "handoff", "delete", first)).Expect(4);

        // The other package resumes with its id in upper case too; nothing is left behind (no claim object).
        string second = (await _sandbox.RunAsync("phone", "handoff", "list", "--json")).Expect(0).Json().GetProperty("pending")[0].GetProperty("package_id").GetString()!;
        (await _sandbox.RunAsync("phone", "handoff", "resume", " " + second.ToUpperInvariant())).Expect(0);
        Assert.Empty(Directory.EnumerateFiles(_sandbox.Repository, second + "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task BadInput_UsageErrors()
    {
        await _sandbox.SetupAsync("laptop");
        CliResult missing = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", Path.Combine(_sandbox.Root, "nope.jsonl"))).Expect(1);
        Assert.Contains("does not exist", missing.StdErr, StringComparison.Ordinal);
        string notes = Path.Combine(_sandbox.Root, "notes.txt");
        await File.WriteAllTextAsync(notes, "just notes");
        (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", notes)).Expect(1);
        (await _sandbox.RunAsync("laptop", "handoff", "resume", "not-an-id")).Expect(1);
        (await _sandbox.RunAsync("laptop", "handoff", "resume", "0123456789abcdef01234567", "--profile", "watch")).Expect(1);
        (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", notes, "--to", "bad device!")).Expect(1);
        (await _sandbox.RunAsync("unset", "handoff", "list")).Expect(4);
        string chat = Path.Combine(_sandbox.Root, "chat.json");
        await File.WriteAllTextAsync(chat, """[{"role":"user","content":"hi there"}]""");
        foreach (string ttl in new[] { "0", "-1", "NaN", "8761" })
        {
            Assert.Contains("--ttl must be", (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", chat, "--ttl", ttl)).Expect(1).StdErr, StringComparison.Ordinal);
        }
    }
    /// <summary>A Claude Code session (the shape of ~/.claude/projects/*.jsonl, hand-written): the person's last instruction,
    /// then a long report of an agent-team teammate, stored by Claude Code as a user message.</summary>
    private static string TeamSession(string instruction)
    {
        string report = string.Join(" ", Enumerable.Repeat("The queue writer flushes each batch and the reader checks sequence numbers before merging.", 120));
        string[] lines =
        [
            """{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/home/alice/src/app","sessionId":"s-team","gitBranch":"main","type":"user","message":{"role":"user","content":"Fix the queue ordering with the team."},"uuid":"u1","timestamp":"2026-11-20T09:00:00.000Z"}""",
            """{"parentUuid":"u1","isSidechain":false,"userType":"external","cwd":"/home/alice/src/app","sessionId":"s-team","gitBranch":"main","type":"assistant","message":{"id":"m1","type":"message","role":"assistant","model":"claude-opus-4-5-20251101","content":[{"type":"text","text":"Fixed: items are ordered by (timestamp, sequence)."}]},"uuid":"a1","timestamp":"2026-11-20T09:01:00.000Z"}""",
            """{"parentUuid":"a1","isSidechain":false,"userType":"external","cwd":"/home/alice/src/app","sessionId":"s-team","gitBranch":"main","type":"user","message":{"role":"user","content":""" + JsonSerializer.Serialize(instruction) + """},"uuid":"u2","timestamp":"2026-11-20T09:02:00.000Z"}""",
            """{"parentUuid":"u2","isSidechain":false,"userType":"external","cwd":"/home/alice/src/app","sessionId":"s-team","gitBranch":"main","type":"assistant","message":{"id":"m2","type":"message","role":"assistant","model":"claude-opus-4-5-20251101","content":[{"type":"tool_use","id":"t1","name":"TodoWrite","input":{"todos":[{"content":"Commit","status":"in_progress","activeForm":"Committing"},{"content":"Retrospective","status":"pending","activeForm":"Holding the retrospective"}]}}]},"uuid":"a2","timestamp":"2026-11-20T09:03:00.000Z"}""",
            """{"parentUuid":"a2","isSidechain":false,"userType":"external","cwd":"/home/alice/src/app","sessionId":"s-team","gitBranch":"main","type":"user","message":{"role":"user","content":[{"tool_use_id":"t1","type":"tool_result","content":"Todos have been modified successfully."}]},"uuid":"r2","timestamp":"2026-11-20T09:03:01.000Z"}""",
            """{"parentUuid":"r2","isSidechain":false,"userType":"external","cwd":"/home/alice/src/app","sessionId":"s-team","gitBranch":"main","type":"user","message":{"role":"user","content":""" + JsonSerializer.Serialize("<teammate-message teammate_id=\"researcher\" color=\"blue\" summary=\"audit\">\n" + report + "\n</teammate-message>") + """},"uuid":"u3","timestamp":"2026-11-20T09:04:00.000Z"}""",
        ];
        return string.Join("\n", lines) + "\n";
    }

    [Fact]
    public async Task TeamSession_TheLastRequestIsThePersons_AndResumesAsAClaudeCodeSession_ThatHandsOnAgain()
    {
        const string Instruction = "Commit this, then hold a retrospective with the team.";
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string transcript = Path.Combine(_sandbox.Root, "team.jsonl");
        await File.WriteAllTextAsync(transcript, TeamSession(Instruction));
        string id = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--to", "phone", "--json")).Expect(0).Json().GetProperty("package_id").GetString()!;

        JsonElement resumed = (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--profile", "web", "--keep", "--json")).Expect(0).Json();
        Assert.Equal(Instruction, resumed.GetProperty("resumption_point").GetProperty("last_user_message").GetString());
        Assert.Contains(Instruction, resumed.GetProperty("context").GetString(), StringComparison.Ordinal); // verbatim, in its own section

        string session = Path.Combine(_sandbox.Root, "continued.jsonl");
        CliResult written = (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--format", "claude-code", "--output", session, "--workspace", Path.Combine(_sandbox.Root, "checkout"))).Expect(0);
        Assert.Contains("claude --resume ", written.StdErr, StringComparison.Ordinal);
        string[] lines = await File.ReadAllLinesAsync(session);
        Assert.Contains(lines, l => l.Contains("\"isCompactSummary\":true", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"cwd\":" + JsonSerializer.Serialize(Path.Combine(_sandbox.Root, "checkout")), StringComparison.Ordinal));
        (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--format", "claude-code", "--output", session)).Expect(1); // never over an existing file

        // Continued there, and handed back: our importer reads the written session with the same last instruction.
        string back = (await _sandbox.RunAsync("phone", "handoff", "create", "--from", session, "--to", "laptop", "--json")).Expect(0).Json().GetProperty("package_id").GetString()!;
        JsonElement home = (await _sandbox.RunAsync("laptop", "handoff", "resume", back, "--json")).Expect(0).Json();
        Assert.Equal(Instruction, home.GetProperty("resumption_point").GetProperty("last_user_message").GetString());
    }

    [Fact]
    public async Task CreateOffline_RepositoryAway_QueuedAndListed_SentByTheNextCommandThatReachesIt()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string transcript = Path.Combine(_sandbox.Root, "chat.json");
        string key = "sk-" + "proj-" + "Zx8Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc4Vb6Nm8";
        await File.WriteAllTextAsync(transcript, "[{\"role\":\"user\",\"content\":\"Plan a trip to Lisbon, five days, 900 euros, key " + key + " .\"},{\"role\":\"assistant\",\"content\":\"Let's go with five days in Alfama.\"},{\"role\":\"user\",\"content\":\"Book the guesthouse near the Miradouro.\"}]");
        string away = _sandbox.Repository + ".away";
        Directory.Move(_sandbox.Repository, away);

        // Out of reach: queued, not an error; the secret is gone from what is written on the device too.
        JsonElement queued = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--to", "phone", "--json")).Expect(0).Json();
        string id = queued.GetProperty("package_id").GetString()!;
        Assert.True(queued.GetProperty("queued").GetBoolean());
        Assert.Contains("does not exist", queued.GetProperty("unreachable").GetString(), StringComparison.Ordinal);
        string file = queued.GetProperty("queued_path").GetString()!;
        Assert.True(File.Exists(file));
        Assert.DoesNotContain("Zx8Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc4Vb6Nm8", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        CliResult listed = (await _sandbox.RunAsync("laptop", "handoff", "list")).Expect(5);
        Assert.Contains(id + "  for phone", listed.StdOut, StringComparison.Ordinal);
        Assert.Contains("queued on this device", listed.StdOut, StringComparison.Ordinal);

        // --offline queues even with the repository in reach.
        Directory.Move(away, _sandbox.Repository);
        string second = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--offline", "--json")).Expect(0).Json().GetProperty("package_id").GetString()!;
        Assert.Empty(Directory.EnumerateFiles(_sandbox.Repository, second, SearchOption.AllDirectories));
        JsonElement stillQueued = (await _sandbox.RunAsync("laptop", "handoff", "list", "--json")).Expect(0).Json();
        Assert.Empty(stillQueued.GetProperty("queued").EnumerateArray()); // 'list' reached the repository: both went

        Assert.Single(Directory.EnumerateFiles(_sandbox.Repository, id, SearchOption.AllDirectories));
        Assert.Single(Directory.EnumerateFiles(_sandbox.Repository, second, SearchOption.AllDirectories));
        Assert.False(File.Exists(file));
        JsonElement resumed = (await _sandbox.RunAsync("phone", "handoff", "resume", id, "--json")).Expect(0).Json();
        Assert.Equal("Book the guesthouse near the Miradouro.", resumed.GetProperty("resumption_point").GetProperty("last_user_message").GetString());
    }

    [Fact]
    public async Task QueuedOffline_SentByTheNextSync()
    {
        await _sandbox.SetupAsync("laptop");
        await _sandbox.SetupAsync("phone");
        string transcript = Path.Combine(_sandbox.Root, "chat.json");
        await File.WriteAllTextAsync(transcript, """[{"role":"user","content":"Rename the queue."},{"role":"assistant","content":"Renamed to OutboxQueue."}]""");
        string away = _sandbox.Repository + ".away";
        Directory.Move(_sandbox.Repository, away);
        string id = (await _sandbox.RunAsync("laptop", "handoff", "create", "--from", transcript, "--to", "phone", "--json")).Expect(0).Json().GetProperty("package_id").GetString()!;
        (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(5); // still away: stays queued
        Directory.Move(away, _sandbox.Repository);

        CliResult pushed = (await _sandbox.RunAsync("laptop", "sync", "push")).Expect(0);

        Assert.Contains("sent 1 queued handoff package to the repository: " + id, pushed.StdErr, StringComparison.Ordinal);
        Assert.Equal(id, Assert.Single((await _sandbox.RunAsync("phone", "handoff", "list", "--json")).Expect(0).Json().GetProperty("pending").EnumerateArray()).GetProperty("package_id").GetString());
    }
}
