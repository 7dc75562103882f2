using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>
/// Reads a plain chat transcript: a JSON array of messages <c>{"role": ..., "content": ...}</c>, or an object with such a
/// <c>messages</c> array (and optional <c>id</c> and <c>title</c>). Content is a string or an array of parts whose
/// <c>text</c> parts are joined. Roles: user/human; assistant/ai/model/bot; system/developer; tool/function.
/// OpenAI-style <c>tool_calls</c> become tool calls. An optional <c>timestamp</c> (ISO 8601 or Unix time) is kept.
/// </summary>
public static class ChatTranscriptImporter
{
    /// <summary>The <see cref="ConversationTranscript.SourceFormat"/> of imported transcripts.</summary>
    public const string FormatName = "chat-json";

    /// <summary>Reads a chat transcript.</summary>
    /// <param name="stream">The JSON, UTF-8.</param>
    /// <param name="source">A name for messages (the file path).</param>
    /// <param name="fallbackId">The conversation id when the document carries none.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The document is not a chat transcript (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static async Task<ConversationTranscript> ImportAsync(Stream stream, string source, string? fallbackId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long bytes = stream.CanSeek ? stream.Length - stream.Position : 0;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(stream, default, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw NotChat(source, $"it is not valid JSON (line {ex.LineNumber + 1})", ex);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            JsonElement list = root;
            string? id = null, title = null;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("messages", out JsonElement inner))
            {
                list = inner;
                id = TranscriptImporter.ReadString(root, "id");
                title = TranscriptImporter.ReadString(root, "title");
            }

            if (list.ValueKind != JsonValueKind.Array)
            {
                throw NotChat(source, "the document is neither an array of messages nor an object with a \"messages\" array");
            }

            var messages = new List<TranscriptMessage>();
            var warnings = new List<string>();
            int position = 0;
            foreach (JsonElement item in list.EnumerateArray())
            {
                position++;
                string where = $"message {position.ToString(CultureInfo.InvariantCulture)}";
                if (item.ValueKind != JsonValueKind.Object || TranscriptImporter.ReadString(item, "role") is not { } roleName)
                {
                    throw NotChat(source, $"{where} is not an object with a string \"role\"");
                }

                TranscriptRole? role = roleName.ToLowerInvariant() switch
                {
                    "user" or "human" => TranscriptRole.User,
                    "assistant" or "ai" or "model" or "bot" => TranscriptRole.Assistant,
                    "system" or "developer" => TranscriptRole.System,
                    "tool" or "function" => TranscriptRole.Tool,
                    _ => null,
                };
                if (role is null)
                {
                    warnings.Add($"{where}: unknown role, skipped");
                    continue;
                }

                var message = new TranscriptMessage
                {
                    Role = role.Value,
                    Text = ContentText(item, where, source),
                    Timestamp = TranscriptImporter.ReadTime(item, "timestamp") ?? TranscriptImporter.ReadTime(item, "created_at"),
                    ToolUseId = TranscriptImporter.ReadString(item, "tool_call_id"),
                    SourceRole = roleName,
                };
                if (item.TryGetProperty("tool_calls", out JsonElement calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement call in calls.EnumerateArray())
                    {
                        JsonElement function = call.TryGetProperty("function", out JsonElement f) ? f : call;
                        string arguments = TranscriptImporter.ReadString(function, "arguments") ?? "";
                        message.ToolCalls.Add(new ToolCall
                        {
                            Id = TranscriptImporter.ReadString(call, "id") ?? "",
                            Name = TranscriptImporter.ReadString(function, "name") ?? "tool",
                            Input = arguments,
                            Summary = ClaudeCodeTranscriptImporter.Compact(arguments),
                        });
                    }
                }

                if (message.Text.Length > 0 || message.ToolCalls.Count > 0)
                {
                    message.Index = messages.Count;
                    messages.Add(message);
                }
            }

            if (messages.Count == 0)
            {
                throw NotChat(source, "it holds no message with content");
            }

            return new ConversationTranscript
            {
                Id = id ?? fallbackId ?? "conversation",
                Title = title,
                SourceFormat = FormatName,
                RawBytes = bytes,
                Messages = messages,
                Warnings = warnings,
            };
        }
    }

    private static string ContentText(JsonElement item, string where, string source)
    {
        if (!item.TryGetProperty("content", out JsonElement content) || content.ValueKind == JsonValueKind.Null)
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString() ?? "";
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw NotChat(source, $"{where} has a \"content\" that is neither a string nor an array of parts");
        }

        var text = new StringBuilder();
        foreach (JsonElement part in content.EnumerateArray())
        {
            string? piece = part.ValueKind == JsonValueKind.String ? part.GetString()
                : TranscriptImporter.ReadString(part, "text") ?? "[" + (TranscriptImporter.ReadString(part, "type") ?? "part") + "]";
            if (!string.IsNullOrEmpty(piece))
            {
                if (text.Length > 0)
                {
                    text.Append("\n\n");
                }

                text.Append(piece);
            }
        }

        return text.ToString();
    }

    private static GhostieSyncException NotChat(string source, string reason, Exception? inner = null) =>
        new(GhostieErrorCode.InvalidArgument,
            $"{source} is not a chat transcript: {reason}. Expected a JSON array of {{\"role\": \"user\"|\"assistant\"|\"system\", \"content\": \"...\"}} objects.", innerException: inner);
}
