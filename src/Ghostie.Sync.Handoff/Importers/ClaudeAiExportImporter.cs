using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>
/// Reads the Claude.ai data export's <c>conversations.json</c>: a list of conversations <c>{uuid, name, created_at,
/// updated_at, chat_messages}</c>, each message <c>{uuid, sender: "human"|"assistant", text, content[], created_at,
/// attachments[], files[]}</c>. Content blocks: <c>text</c> kept, <c>tool_use</c> a tool call, <c>tool_result</c> a tool
/// message, <c>thinking</c> left out; a message without content blocks is its <c>text</c>. An attachment's extracted text
/// (a long paste becomes one) is part of the person's message, capped at 8,000 characters. When messages carry
/// <c>parent_message_uuid</c> and the conversation a <c>current_leaf_message_uuid</c>, only that branch is read.
/// </summary>
internal static class ClaudeAiExportImporter
{
    /// <summary>The <see cref="ConversationTranscript.SourceFormat"/> of imported transcripts.</summary>
    public const string FormatName = "claude-ai-export";

    private const int AttachmentMaxChars = 8_000;

    /// <summary>Reads one conversation of an export.</summary>
    /// <param name="root">The parsed <c>conversations.json</c> (a list of conversations, or one conversation).</param>
    /// <param name="source">A name for messages (the file path).</param>
    /// <param name="conversation">The conversation's uuid or name; null takes the most recently updated one.</param>
    /// <param name="rawBytes">The size of the file.</param>
    /// <exception cref="GhostieSyncException">No such conversation, or it holds no message (<see cref="GhostieErrorCode.InvalidArgument"/> or <see cref="GhostieErrorCode.NotFound"/>).</exception>
    public static ConversationTranscript Import(JsonElement root, string source, string? conversation = null, long rawBytes = 0)
    {
        JsonElement chosen = ExportSelection.Choose(root, source, conversation, "Claude.ai export", Describe);
        (string id, string title, _) = Describe(chosen);
        if (!chosen.TryGetProperty("chat_messages", out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{source}: conversation {id} has no \"chat_messages\" array; it is not a Claude.ai export conversation.");
        }

        List<JsonElement> items = list.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object).ToList();
        if (TranscriptImporter.ReadString(chosen, "current_leaf_message_uuid") is { } leaf && items.Any(m => TranscriptImporter.ReadString(m, "parent_message_uuid") is not null))
        {
            var byId = items.Where(m => TranscriptImporter.ReadString(m, "uuid") is not null).GroupBy(m => TranscriptImporter.ReadString(m, "uuid")!).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var branch = new List<JsonElement>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (string? at = leaf; at is not null && byId.TryGetValue(at, out JsonElement m) && seen.Add(at);)
            {
                branch.Add(m);
                at = TranscriptImporter.ReadString(m, "parent_message_uuid");
            }

            branch.Reverse();
            if (branch.Count > 0)
            {
                items = branch;
            }
        }

        var messages = new List<TranscriptMessage>();
        foreach (JsonElement item in items)
        {
            ReadMessage(item, messages);
        }

        if (messages.Count == 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{source}: conversation {id} (\"{title}\") holds no message with text.");
        }

        for (int i = 0; i < messages.Count; i++)
        {
            messages[i].Index = i;
        }

        return new ConversationTranscript
        {
            Id = id,
            Title = title.Length > 0 ? title : null,
            SourceFormat = FormatName,
            RawBytes = rawBytes,
            Messages = messages,
        };
    }

    private static void ReadMessage(JsonElement item, List<TranscriptMessage> messages)
    {
        string sender = TranscriptImporter.ReadString(item, "sender") ?? "";
        DateTimeOffset? time = TranscriptImporter.ReadTime(item, "created_at");
        string? sourceId = TranscriptImporter.ReadString(item, "uuid");
        bool human = sender is "human" or "user";
        var text = new StringBuilder();
        var calls = new List<ToolCall>();
        var results = new List<TranscriptMessage>();
        if (item.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.Array && content.GetArrayLength() > 0)
        {
            foreach (JsonElement block in content.EnumerateArray())
            {
                switch (TranscriptImporter.ReadString(block, "type"))
                {
                    case "text":
                        Append(text, TranscriptImporter.ReadString(block, "text"));
                        break;
                    case "tool_use":
                        string input = block.TryGetProperty("input", out JsonElement i) ? i.GetRawText() : "";
                        calls.Add(new ToolCall { Id = TranscriptImporter.ReadString(block, "id") ?? "", Name = TranscriptImporter.ReadString(block, "name") ?? "tool", Input = input, Summary = ClaudeCodeTranscriptImporter.Compact(input) });
                        break;
                    case "tool_result":
                        var output = new StringBuilder();
                        if (block.TryGetProperty("content", out JsonElement parts) && parts.ValueKind == JsonValueKind.Array)
                        {
                            foreach (JsonElement part in parts.EnumerateArray())
                            {
                                Append(output, TranscriptImporter.ReadString(part, "text"));
                            }
                        }

                        results.Add(new TranscriptMessage
                        {
                            Role = TranscriptRole.Tool, Kind = MessageKind.ToolResult, Text = output.ToString(), Timestamp = time, SourceRole = "tool", SourceId = sourceId,
                            Sender = TranscriptImporter.ReadString(block, "name"),
                            IsError = block.TryGetProperty("is_error", out JsonElement e) && e.ValueKind == JsonValueKind.True,
                        });
                        break;
                    default:
                        break; // thinking, and kinds of a later export
                }
            }
        }
        else
        {
            Append(text, TranscriptImporter.ReadString(item, "text"));
        }

        if (human && item.TryGetProperty("attachments", out JsonElement attachments) && attachments.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement attachment in attachments.EnumerateArray())
            {
                string name = TranscriptImporter.ReadString(attachment, "file_name") ?? "attachment";
                string extracted = TranscriptImporter.ReadString(attachment, "extracted_content") ?? "";
                Append(text, $"[attached: {name}]" + (extracted.Length > 0 ? "\n" + ExtractiveCompressor.Truncate(extracted, AttachmentMaxChars) : ""));
            }
        }

        if (text.Length > 0 || calls.Count > 0)
        {
            messages.Add(new TranscriptMessage
            {
                Role = human ? TranscriptRole.User : TranscriptRole.Assistant,
                Kind = human ? MessageKind.Person : text.Length == 0 ? MessageKind.ToolCall : MessageKind.Assistant,
                Text = text.ToString(),
                Timestamp = time,
                SourceRole = sender,
                SourceId = sourceId,
                ToolCalls = calls,
            });
        }

        messages.AddRange(results);
    }

    private static void Append(StringBuilder text, string? piece)
    {
        if (!string.IsNullOrEmpty(piece))
        {
            if (text.Length > 0)
            {
                text.Append("\n\n");
            }

            text.Append(piece);
        }
    }

    private static (string Id, string Title, DateTimeOffset? Updated) Describe(JsonElement conversation) => (
        TranscriptImporter.ReadString(conversation, "uuid") ?? TranscriptImporter.ReadString(conversation, "id") ?? "",
        TranscriptImporter.ReadString(conversation, "name") ?? TranscriptImporter.ReadString(conversation, "title") ?? "",
        TranscriptImporter.ReadTime(conversation, "updated_at") ?? TranscriptImporter.ReadTime(conversation, "created_at"));
}
