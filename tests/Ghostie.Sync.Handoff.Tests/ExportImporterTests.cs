using Ghostie.Sync.Handoff.Importers;
using Ghostie.Sync.Handoff.Tests.Support;

namespace Ghostie.Sync.Handoff.Tests;

/// <summary>
/// The ChatGPT and Claude.ai data exports. The fixtures are small and hand-written, in the shapes the exports have:
/// Fixtures/chatgpt-conversations.json after the conversations.json of ChatGPT's "Export data" as public parsers describe
/// it (mitkury/chatgpt-export-parser docs/chatgpt-data-export-format.md; the mapping / current_node / parent / children tree,
/// author.role, content.content_type text, multimodal_text with image_asset_pointer parts, code to a recipient, execution_output,
/// thoughts, user_editable_context, metadata.is_visually_hidden_from_conversation, model_slug); Fixtures/claude-ai-conversations.json
/// after the conversations.json of Claude.ai's export (uuid, name, created_at, updated_at, account, chat_messages with sender
/// human/assistant, text, content blocks text/thinking/tool_use/tool_result, attachments with extracted_content, files), as
/// Sinity/polylogue docs/providers/claude-ai.md and public type definitions of the export describe it.
/// </summary>
public sealed class ExportImporterTests
{
    [Fact]
    public async Task ChatGpt_TheBranchOfCurrentNode_HiddenSkipped_ToolsAndInstructionsKept()
    {
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(Fixtures.PathOf("chatgpt-conversations.json"));

        Assert.Equal(ChatGptExportImporter.FormatName, t.SourceFormat);
        Assert.Equal("6811a1b2-0c3d-800e-9f4a-5b6c7d8e9f01", t.Id); // the most recently updated of the two
        Assert.Equal("Lisbon trip budget", t.Title);
        Assert.Equal(
            [MessageKind.Person, MessageKind.ToolCall, MessageKind.ToolResult, MessageKind.Assistant, MessageKind.Person, MessageKind.Assistant],
            t.Messages.Select(m => m.Kind));
        Assert.Equal("[image]\n\nHere are my flight prices. Plan five days in Lisbon for 900 euros.", t.Messages[0].Text);
        ToolCall python = Assert.Single(t.Messages[1].ToolCalls);
        Assert.Equal("python", python.Name);
        Assert.Contains("print(900 - flights - nights)", python.Code, StringComparison.Ordinal);
        Assert.Equal(("320", "python"), (t.Messages[2].Text, t.Messages[2].Sender));
        Assert.Equal("Keep five days, but find a cheaper guesthouse in Alfama.", t.LastInstruction?.Text); // not the edited-away "six days"
        Assert.DoesNotContain(t.Messages, m => m.Text.Contains("Six days", StringComparison.Ordinal) || m.Text.Contains("Split into flights", StringComparison.Ordinal));
        Assert.Equal("The user is a backend developer in Porto.\n\nAnswer briefly, in euros.", t.AgentState.SystemPrompt);
        Assert.Equal("o3", t.Model);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1772359201500), t.Messages[0].Timestamp);
    }

    [Theory]
    [InlineData("67f0aaaa-1111-8000-9000-000000000002")]
    [InlineData("regex for dates")]
    public async Task ChatGpt_PickAConversationByIdOrTitle(string wanted)
    {
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(Fixtures.PathOf("chatgpt-conversations.json"), new TranscriptImportOptions { Conversation = wanted });
        Assert.Equal(("67f0aaaa-1111-8000-9000-000000000002", "A regex for ISO dates?"), (t.Id, t.LastInstruction?.Text));
    }

    [Fact]
    public async Task Export_UnknownConversation_ListsWhatIsInTheFile()
    {
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() =>
            TranscriptImporter.ImportFileAsync(Fixtures.PathOf("chatgpt-conversations.json"), new TranscriptImportOptions { Conversation = "Tokyo" }));

        Assert.Equal(GhostieErrorCode.NotFound, error.Code);
        Assert.Contains("has no conversation with the id or title \"Tokyo\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("6811a1b2-0c3d-800e-9f4a-5b6c7d8e9f01  \"Lisbon trip budget\"  2026-03-01", error.Message, StringComparison.Ordinal);
        Assert.Contains("67f0aaaa-1111-8000-9000-000000000002  \"Regex for dates\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClaudeAi_SendersBlocksAndAttachments()
    {
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(Fixtures.PathOf("claude-ai-conversations.json"));

        Assert.Equal(ClaudeAiExportImporter.FormatName, t.SourceFormat);
        Assert.Equal(("3f1e2d3c-4b5a-4968-8776-655443322110", "Postgres connection pooling"), (t.Id, t.Title));
        Assert.Equal([MessageKind.Person, MessageKind.Assistant, MessageKind.ToolResult, MessageKind.Person], t.Messages.Select(m => m.Kind));
        Assert.Equal("Our API opens a connection per request. What pool size for 4 cores?\n\n[attached: pg_stat_activity.txt]\nactive: 97\nidle in transaction: 12", t.Messages[0].Text);
        Assert.Equal("Start with a pool of 10: (4 cores x 2) + 2, and cap the API at that.", t.Messages[1].Text); // thinking left out
        Assert.Equal("web_search", Assert.Single(t.Messages[1].ToolCalls).Name);
        Assert.Equal("connections = (core_count * 2) + effective_spindle_count", t.Messages[2].Text);
        Assert.Equal("Set it up with PgBouncer in transaction mode, and tell me what to watch.", t.LastInstruction?.Text); // from "text" when content is empty
        Assert.Equal(DateTimeOffset.Parse("2026-10-02T09:30:00Z", System.Globalization.CultureInfo.InvariantCulture), t.LastActivity);

        ConversationTranscript haiku = await TranscriptImporter.ImportFileAsync(Fixtures.PathOf("claude-ai-conversations.json"), new TranscriptImportOptions { Conversation = "Haiku about autumn" });
        Assert.Equal(2, haiku.Messages.Count);
    }

    [Fact]
    public async Task ChatGpt_BecomesAPackage_WhoseLastRequestIsThePersons()
    {
        ConversationTranscript t = await TranscriptImporter.ImportFileAsync(Fixtures.PathOf("chatgpt-conversations.json"));
        using Repository repository = await Repository.CreateAsync();
        HandoffPackage package = await repository.Device("laptop").BuildAsync(new HandoffRequest { Transcript = t });

        Assert.Equal("Keep five days, but find a cheaper guesthouse in Alfama.", package.Reconstruction.ResumptionPoint.LastUserMessage);
        Assert.Equal("Answer briefly, in euros.", package.Agents[0].SystemPrompt.Split("\n\n")[^1]);
        Assert.Equal(ChatGptExportImporter.FormatName, package.Conversation.SourceFormat);
    }

    [Theory]
    [InlineData("export.json", "{\"conversations_count\": 2, \"owner\": \"alice\", \"items\": []}", "it is a JSON object with keys conversations_count, owner, items; expected")]
    [InlineData("list.json", "[{\"question\": \"q\", \"answer\": \"a\"}]", "it is a JSON array of objects with keys question, answer; expected")]
    [InlineData("empty.json", "[]", "it is an empty JSON array")]
    [InlineData("number.json", "42", "text that is not JSON")]
    [InlineData("session.jsonl", "{\"a\":1}\n{\"b\":2}\n", "it is JSON that does not parse")]
    public async Task UnknownFormat_TypedErrorNamingWhatWasFound(string file, string content, string expected)
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, file);
        await File.WriteAllTextAsync(path, content);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => TranscriptImporter.ImportFileAsync(path));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatGPT export", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Detection_IsByContent_NotByFileName()
    {
        using var folder = new TempFolder();
        string misnamed = Path.Combine(folder.Path, "session.jsonl");
        File.Copy(Fixtures.PathOf("claude-ai-conversations.json"), misnamed);
        string jsonl = Path.Combine(folder.Path, "conversations.json");
        File.Copy(Fixtures.PathOf("claude-code-session.jsonl"), jsonl);

        Assert.Equal(ClaudeAiExportImporter.FormatName, (await TranscriptImporter.ImportFileAsync(misnamed)).SourceFormat);
        Assert.Equal(ClaudeCodeTranscriptImporter.FormatName, (await TranscriptImporter.ImportFileAsync(jsonl)).SourceFormat);
    }
}
