using Ghostie.Sync.Handoff.Importers;
using Ghostie.Sync.Handoff.Tests.Support;

namespace Ghostie.Sync.Handoff.Tests;

public sealed class ImporterTests
{
    [Fact]
    public async Task ClaudeCode_Fixture_ReadsEveryEventKind()
    {
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(Fixtures.PathOf("claude-code-session.jsonl"));

        Assert.Equal(ClaudeCodeTranscriptImporter.FormatName, t.SourceFormat);
        Assert.Equal("0a6afc57-2f31-4cb4-8ff0-01247f50c64c", t.Id);
        Assert.Equal("Fix flaky offline queue test", t.Title);
        Assert.Equal("/home/alice/src/ghostie-mobile", t.ProjectRoot);
        Assert.Equal("main", t.GitBranch);
        Assert.Equal("claude-sonnet-4-5-20250929", t.Model);
        Assert.Equal(new FileInfo(Fixtures.PathOf("claude-code-session.jsonl")).Length, t.RawBytes);
        Assert.Equal(["line 16: not valid JSON, skipped"], t.Warnings);

        // user, assistant (thinking dropped; text + Read joined across three lines of one message), tool, assistant (Bash),
        // tool (error), assistant (text + Edit), tool, sidechain user, meta (system), user, assistant
        Assert.Equal(
            [TranscriptRole.User, TranscriptRole.Assistant, TranscriptRole.Tool, TranscriptRole.Assistant, TranscriptRole.Tool, TranscriptRole.Assistant,
             TranscriptRole.Tool, TranscriptRole.User, TranscriptRole.System, TranscriptRole.User, TranscriptRole.Assistant],
            t.Messages.Select(m => m.Role));
        Assert.Equal(Enumerable.Range(0, t.Messages.Count), t.Messages.Select(m => m.Index));
        TranscriptMessage first = t.Messages[1];
        Assert.Equal("I'll read the test and the queue first.", first.Text);
        ToolCall read = Assert.Single(first.ToolCalls);
        Assert.Equal(("Read", "toolu_01READ"), (read.Name, read.Id));
        Assert.Equal("/home/alice/src/ghostie-mobile/tests/Ghostie.Mobile.Tests/OfflineQueueTests.cs", read.FilePath);
        Assert.StartsWith("     1\tpublic sealed class", t.Messages[2].Text, StringComparison.Ordinal);
        Assert.Equal("toolu_01READ", t.Messages[2].ToolUseId);
        Assert.True(t.Messages[4].IsError);
        Assert.Equal("Failed!  - Failed: 1, Passed: 0, Skipped: 0, Total: 1", t.Messages[4].Text);
        Assert.Equal("dotnet test tests/Ghostie.Mobile.Tests --filter Enqueue_TwoItems", t.Messages[3].ToolCalls[0].Summary);
        ToolCall edit = Assert.Single(t.Messages[5].ToolCalls);
        Assert.Equal("OrderBy(i => i.Timestamp).ThenBy(i => i.Sequence)", edit.Code);
        Assert.True(t.Messages[7].IsSidechain);
        Assert.Equal(DateTimeOffset.Parse("2026-11-20T09:05:20Z", System.Globalization.CultureInfo.InvariantCulture), t.LastActivity);
    }

    [Fact]
    public async Task ClaudeCode_Fixture_BecomesAPackage()
    {
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(Fixtures.PathOf("claude-code-session.jsonl"));
        using Repository repository = await Repository.CreateAsync();
        HandoffPackage package = await repository.Device("laptop").BuildAsync(new HandoffRequest { Transcript = t });

        // Decisions are sentences chosen by MMR (no trigger phrases): each is a verbatim statement of the conversation, never a question.
        Assert.NotEmpty(package.Context.KeyDecisions);
        Assert.All(package.Context.KeyDecisions, d => Assert.Contains(t.Messages, m => m.Text.Contains(d.Text, StringComparison.Ordinal)));
        Assert.DoesNotContain(package.Context.KeyDecisions, d => d.Text.EndsWith('?'));
        Assert.Contains(package.Context.ActiveFiles, f => f.Path.EndsWith("Sync/OfflineQueue.cs", StringComparison.Ordinal) && f.Status == "edited");
        Assert.Contains(package.Context.ActiveFiles, f => f.Path.EndsWith("OfflineQueueTests.cs", StringComparison.Ordinal) && f.Status == "read");
        Assert.Contains("Should we also add a sequence number to the persisted format?", package.Context.ProjectState.OpenQuestions);
        Assert.Contains(package.Context.ProjectState.NextSteps, n => n.Contains("bump the queue format to 2", StringComparison.Ordinal));
        Assert.Equal(3, package.Context.Compression.DroppedToolOutputs); // the Read, Bash and Edit results
        Assert.Equal("Fix flaky offline queue test", package.Conversation.Title);
        Assert.Equal("main", package.Conversation.GitBranch);
        Assert.Equal("main", Assert.Single(package.Agents).Id);
        Assert.Equal("/home/alice/src/ghostie-mobile", package.Source.ProjectRoot);
        Assert.StartsWith("Great, it passes 50 times", package.Reconstruction.ResumptionPoint.LastUserMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_Fixture_ReadsRolesPartsToolCallsAndTimes()
    {
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(Fixtures.PathOf("chat.json"));

        Assert.Equal(ChatTranscriptImporter.FormatName, t.SourceFormat);
        Assert.Equal("chat", t.Id);
        Assert.Equal(
            [TranscriptRole.System, TranscriptRole.User, TranscriptRole.Assistant, TranscriptRole.User, TranscriptRole.Assistant, TranscriptRole.Tool, TranscriptRole.Assistant],
            t.Messages.Select(m => m.Role));
        Assert.Equal("Great choice. March is mild in Lisbon.\n\nDo you prefer staying in Alfama or Baixa?", t.Messages[2].Text);
        ToolCall call = Assert.Single(t.Messages[4].ToolCalls);
        Assert.Equal("search_hotels", call.Name);
        Assert.Equal("call_1", t.Messages[5].ToolUseId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1772359300), t.Messages[6].Timestamp);
        Assert.Equal(["message 8: unknown role, skipped"], t.Warnings);

        using Repository repository = await Repository.CreateAsync();
        HandoffPackage package = await repository.Device("laptop").BuildAsync(new HandoffRequest { Transcript = t });
        Assert.Contains(package.Context.KeyDecisions, d => d.Text == "Let's go with the guesthouse near the Miradouro you mentioned.");
        // Every user/assistant message with text: the last user message in its own section, the other three in the thread.
        Assert.Equal(3, package.Context.Thread.Count(e => e.Kind == ThreadEntryKinds.Verbatim));
        Assert.Equal(t.Messages.Last(m => m.Role == TranscriptRole.User).Text, package.Context.ProjectState.LastInstruction);
    }

    [Fact]
    public async Task Chat_WrappedInAnObject_IsDetected()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "export.json");
        await File.WriteAllTextAsync(path, """{"id":"c-9","title":"Trip","messages":[{"role":"human","content":"hi"},{"role":"ai","content":"hello"}]}""");
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(path);
        Assert.Equal(("c-9", "Trip", 2), (t.Id, t.Title, t.Messages.Count));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ClaudeCode_FirstLineLongerThan4KiB_OrNoFinalNewline_IsStillDetected(bool trailingNewline)
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "session.jsonl");
        string longPrompt = new string('x', 10_000);
        string line = "{\"type\":\"user\",\"uuid\":\"u1\",\"sessionId\":\"s1\",\"timestamp\":\"2026-11-21T08:00:00Z\",\"message\":{\"role\":\"user\",\"content\":\"" + longPrompt + "\"}}";
        await File.WriteAllTextAsync(path, line + (trailingNewline ? "\n" : ""));
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(path);
        Assert.Single(t.Messages);
        Assert.Contains(longPrompt, t.Messages[0].Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999999999999999")]
    [InlineData("-99999999999999999")]
    public async Task Chat_TimestampOutsideTheCalendar_IsIgnored_NotACrash(string timestamp)
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "chat.json");
        await File.WriteAllTextAsync(path, "[{\"role\":\"user\",\"content\":\"hi\",\"timestamp\":" + timestamp + "},{\"role\":\"assistant\",\"content\":\"hello\"}]");
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(path);
        Assert.Equal(2, t.Messages.Count);
    }

    [Theory]
    [InlineData("chat.json", "{\"messages\": 3}", "neither an array")]
    [InlineData("chat.json", "[{\"content\":\"no role\"}]", "message 1 is not an object with a string \"role\"")]
    [InlineData("chat.json", "[{\"role\":\"user\",\"content\":42}]", "neither a string nor an array")]
    [InlineData("chat.json", "[1, 2", "not valid JSON")]
    [InlineData("session.jsonl", "{\"type\":\"summary\",\"summary\":\"s\",\"leafUuid\":\"u\"}\n{\"type\":\"file-history-snapshot\"}\n", "holds no Claude Code messages")]
    [InlineData("notes.txt", "just some notes", "not a transcript this version reads")]
    public async Task Malformed_ClearErrorNamingTheFile(string file, string content, string expected)
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, file);
        await File.WriteAllTextAsync(path, content);
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => TranscriptImporter.ImportFileAsync(path));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_NotFound()
    {
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => TranscriptImporter.ImportFileAsync("/nonexistent/x.jsonl"));
        Assert.Equal(GhostieErrorCode.NotFound, error.Code);
    }
}
