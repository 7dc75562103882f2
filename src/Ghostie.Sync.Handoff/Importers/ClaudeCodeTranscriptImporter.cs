using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>
/// Reads a Claude Code session transcript (<c>~/.claude/projects/&lt;project&gt;/&lt;session&gt;.jsonl</c>): one JSON
/// object per line with a <c>type</c> of "user", "assistant", "system" or "summary" (other types, such as
/// "file-history-snapshot", are ignored). Assistant content blocks written as separate lines of one message are joined;
/// tool_result blocks become tool messages; thinking blocks are left out. Lines that are not JSON (a session still
/// being written ends mid-line) are skipped with a warning.
/// </summary>
public static class ClaudeCodeTranscriptImporter
{
    /// <summary>The <see cref="ConversationTranscript.SourceFormat"/> of imported transcripts.</summary>
    public const string FormatName = "claude-code-jsonl";

    /// <summary>Reads a session transcript.</summary>
    /// <param name="stream">The JSONL, UTF-8.</param>
    /// <param name="source">A name for messages (the file path).</param>
    /// <param name="fallbackId">The conversation id when no line carries a sessionId.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">No line is a user or assistant message (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static async Task<ConversationTranscript> ImportAsync(Stream stream, string source, string? fallbackId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var messages = new List<TranscriptMessage>();
        var summaries = new List<string>();
        var warnings = new List<string>();
        string? sessionId = null, cwd = null, branch = null, model = null, lastAssistantId = null;
        long bytes = 0;
        int lineNumber = 0;
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            bytes += Encoding.UTF8.GetByteCount(line) + 1;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                warnings.Add($"line {lineNumber.ToString(CultureInfo.InvariantCulture)}: not valid JSON, skipped");
                continue;
            }

            using (document)
            {
                JsonElement root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    warnings.Add($"line {lineNumber.ToString(CultureInfo.InvariantCulture)}: not a JSON object, skipped");
                    continue;
                }

                string? type = TranscriptImporter.ReadString(root, "type");
                sessionId ??= TranscriptImporter.ReadString(root, "sessionId");
                cwd = TranscriptImporter.ReadString(root, "cwd") ?? cwd;
                branch = TranscriptImporter.ReadString(root, "gitBranch") is { Length: > 0 } b ? b : branch;
                DateTimeOffset? time = TranscriptImporter.ReadTime(root, "timestamp");
                bool sidechain = root.TryGetProperty("isSidechain", out JsonElement side) && side.ValueKind == JsonValueKind.True;
                bool meta = root.TryGetProperty("isMeta", out JsonElement metaFlag) && metaFlag.ValueKind == JsonValueKind.True;
                switch (type)
                {
                    case "summary":
                        if (TranscriptImporter.ReadString(root, "summary") is { Length: > 0 } summary)
                        {
                            summaries.Add(summary);
                        }

                        break;
                    case "user" when root.TryGetProperty("message", out JsonElement userMessage):
                        lastAssistantId = null;
                        ReadUser(userMessage, time, sidechain, meta, messages);
                        break;
                    case "assistant" when root.TryGetProperty("message", out JsonElement assistantMessage):
                        model = TranscriptImporter.ReadString(assistantMessage, "model") is { Length: > 0 } m && m != "<synthetic>" ? m : model;
                        string? id = TranscriptImporter.ReadString(assistantMessage, "id");
                        TranscriptMessage? previous = id is not null && id == lastAssistantId && messages.Count > 0 && messages[^1].Role == TranscriptRole.Assistant ? messages[^1] : null;
                        ReadAssistant(assistantMessage, time, sidechain, previous, messages);
                        lastAssistantId = id;
                        break;
                    case "system":
                        if (TranscriptImporter.ReadString(root, "content") is { Length: > 0 } systemText)
                        {
                            messages.Add(new TranscriptMessage { Role = TranscriptRole.System, Text = systemText, Timestamp = time, SourceRole = "system" });
                        }

                        break;
                    default:
                        break; // file-history-snapshot, queue-operation, ...: not conversation
                }
            }
        }

        if (!messages.Any(m => m.Role is TranscriptRole.User or TranscriptRole.Assistant))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{source} holds no Claude Code messages (no line of type \"user\" or \"assistant\"). Is it a Claude Code session transcript (~/.claude/projects/<project>/<session>.jsonl)?");
        }

        for (int i = 0; i < messages.Count; i++)
        {
            messages[i].Index = i;
        }

        return new ConversationTranscript
        {
            Id = sessionId ?? fallbackId ?? "conversation",
            Title = summaries.Count > 0 ? summaries[0] : null,
            SourceFormat = FormatName,
            RawBytes = stream.CanSeek ? stream.Length : bytes,
            ProjectRoot = cwd,
            GitBranch = branch,
            Model = model,
            Summaries = summaries,
            Messages = messages,
            Warnings = warnings,
        };
    }

    private static void ReadUser(JsonElement message, DateTimeOffset? time, bool sidechain, bool meta, List<TranscriptMessage> messages)
    {
        if (!message.TryGetProperty("content", out JsonElement content))
        {
            return;
        }

        TranscriptRole role = meta ? TranscriptRole.System : TranscriptRole.User;
        if (content.ValueKind == JsonValueKind.String)
        {
            messages.Add(new TranscriptMessage { Role = role, Text = content.GetString() ?? "", Timestamp = time, IsSidechain = sidechain, SourceRole = "user" });
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var text = new StringBuilder();
        foreach (JsonElement block in content.EnumerateArray())
        {
            switch (TranscriptImporter.ReadString(block, "type"))
            {
                case "text":
                    AppendParagraph(text, TranscriptImporter.ReadString(block, "text"));
                    break;
                case "tool_result":
                    messages.Add(new TranscriptMessage
                    {
                        Role = TranscriptRole.Tool,
                        Text = ToolResultText(block),
                        ToolUseId = TranscriptImporter.ReadString(block, "tool_use_id"),
                        IsError = block.TryGetProperty("is_error", out JsonElement error) && error.ValueKind == JsonValueKind.True,
                        Timestamp = time,
                        IsSidechain = sidechain,
                        SourceRole = "tool",
                    });
                    break;
                case "image":
                    AppendParagraph(text, "[image]");
                    break;
                default:
                    break;
            }
        }

        if (text.Length > 0)
        {
            messages.Add(new TranscriptMessage { Role = role, Text = text.ToString(), Timestamp = time, IsSidechain = sidechain, SourceRole = "user" });
        }
    }

    private static void ReadAssistant(JsonElement message, DateTimeOffset? time, bool sidechain, TranscriptMessage? continued, List<TranscriptMessage> messages)
    {
        if (!message.TryGetProperty("content", out JsonElement content))
        {
            return;
        }

        TranscriptMessage target = continued ?? new TranscriptMessage { Role = TranscriptRole.Assistant, Timestamp = time, IsSidechain = sidechain, SourceRole = "assistant" };
        var text = new StringBuilder(target.Text);
        if (content.ValueKind == JsonValueKind.String)
        {
            AppendParagraph(text, content.GetString());
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement block in content.EnumerateArray())
            {
                switch (TranscriptImporter.ReadString(block, "type"))
                {
                    case "text":
                        AppendParagraph(text, TranscriptImporter.ReadString(block, "text"));
                        break;
                    case "tool_use":
                        target.ToolCalls.Add(ReadToolCall(block));
                        break;
                    default:
                        break; // thinking and redacted_thinking: the model's scratchpad, not the conversation
                }
            }
        }

        target.Text = text.ToString();
        if (continued is null && (target.Text.Length > 0 || target.ToolCalls.Count > 0))
        {
            messages.Add(target);
        }
    }

    private static ToolCall ReadToolCall(JsonElement block)
    {
        string name = TranscriptImporter.ReadString(block, "name") ?? "tool";
        var call = new ToolCall { Id = TranscriptImporter.ReadString(block, "id") ?? "", Name = name };
        if (!block.TryGetProperty("input", out JsonElement input) || input.ValueKind != JsonValueKind.Object)
        {
            return call;
        }

        call.Input = input.GetRawText();
        call.FilePath = TranscriptImporter.ReadString(input, "file_path") ?? TranscriptImporter.ReadString(input, "notebook_path")
            ?? (name is "Read" or "Write" or "Edit" or "MultiEdit" or "LS" ? TranscriptImporter.ReadString(input, "path") : null);
        call.Code = TranscriptImporter.ReadString(input, "new_string") ?? TranscriptImporter.ReadString(input, "content");
        if (call.Code is null && input.TryGetProperty("edits", out JsonElement edits) && edits.ValueKind == JsonValueKind.Array)
        {
            call.Code = string.Join("\n", edits.EnumerateArray().Select(e => TranscriptImporter.ReadString(e, "new_string")).Where(s => s is not null));
        }

        string? detail = TranscriptImporter.ReadString(input, "command") ?? TranscriptImporter.ReadString(input, "pattern")
            ?? TranscriptImporter.ReadString(input, "description") ?? TranscriptImporter.ReadString(input, "url")
            ?? TranscriptImporter.ReadString(input, "query") ?? call.FilePath;
        call.Summary = Compact(detail ?? "");
        return call;
    }

    private static string ToolResultText(JsonElement block)
    {
        if (!block.TryGetProperty("content", out JsonElement content))
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString() ?? "";
        }

        var text = new StringBuilder();
        if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement part in content.EnumerateArray())
            {
                AppendParagraph(text, TranscriptImporter.ReadString(part, "type") == "text" ? TranscriptImporter.ReadString(part, "text") : "[" + (TranscriptImporter.ReadString(part, "type") ?? "part") + "]");
            }
        }

        return text.ToString();
    }

    private static void AppendParagraph(StringBuilder text, string? paragraph)
    {
        if (string.IsNullOrEmpty(paragraph))
        {
            return;
        }

        if (text.Length > 0)
        {
            text.Append("\n\n");
        }

        text.Append(paragraph);
    }

    internal static string Compact(string text)
    {
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        string first = newline < 0 ? text : text[..newline] + " ...";
        return first.Length > 200 ? first[..197] + "..." : first;
    }
}
