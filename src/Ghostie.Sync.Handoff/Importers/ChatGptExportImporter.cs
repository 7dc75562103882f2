using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Handoff.Importers;

/// <summary>
/// Reads the ChatGPT data export's <c>conversations.json</c>: a list of conversations, each a <c>mapping</c> of nodes
/// (<c>{id, message, parent, children}</c>) and a <c>current_node</c>. The conversation is the branch that ends at
/// <c>current_node</c>, followed up through <c>parent</c> and reversed (edited and regenerated branches are left out).
/// Content types: <c>text</c> and <c>multimodal_text</c> (text parts kept, an image part becomes "[image]"), <c>code</c>
/// (a tool call of the assistant to its recipient, such as "python"), tool outputs (<c>execution_output</c>,
/// <c>tether_browsing_display</c>, <c>tether_quote</c>, <c>system_error</c>); the model's <c>thoughts</c> and
/// <c>reasoning_recap</c> are left out like Claude's thinking; hidden system messages
/// (<c>metadata.is_visually_hidden_from_conversation</c>) are skipped, and the custom instructions
/// (<c>user_editable_context</c>) become the agent's system prompt.
/// </summary>
internal static class ChatGptExportImporter
{
    /// <summary>The <see cref="ConversationTranscript.SourceFormat"/> of imported transcripts.</summary>
    public const string FormatName = "chatgpt-export";

    /// <summary>Reads one conversation of an export.</summary>
    /// <param name="root">The parsed <c>conversations.json</c> (a list of conversations, or one conversation).</param>
    /// <param name="source">A name for messages (the file path).</param>
    /// <param name="conversation">The conversation's id or title; null takes the most recently updated one.</param>
    /// <param name="rawBytes">The size of the file.</param>
    /// <exception cref="GhostieSyncException">No such conversation, or it holds no message (<see cref="GhostieErrorCode.InvalidArgument"/> or <see cref="GhostieErrorCode.NotFound"/>).</exception>
    public static ConversationTranscript Import(JsonElement root, string source, string? conversation = null, long rawBytes = 0)
    {
        JsonElement chosen = ExportSelection.Choose(root, source, conversation, "ChatGPT export", Describe);
        (string id, string title, _) = Describe(chosen);
        if (!chosen.TryGetProperty("mapping", out JsonElement mapping) || mapping.ValueKind != JsonValueKind.Object)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"{source}: conversation {id} has no \"mapping\" object; it is not a ChatGPT export conversation.");
        }

        var nodes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (JsonProperty node in mapping.EnumerateObject())
        {
            nodes[node.Name] = node.Value;
        }

        string? leaf = TranscriptImporter.ReadString(chosen, "current_node");
        if (leaf is null || !nodes.ContainsKey(leaf))
        {
            // No current node: the latest leaf.
            leaf = nodes.Where(n => !n.Value.TryGetProperty("children", out JsonElement c) || c.ValueKind != JsonValueKind.Array || c.GetArrayLength() == 0)
                .OrderBy(n => Time(n.Value.TryGetProperty("message", out JsonElement m) ? m : default) ?? DateTimeOffset.MinValue).Select(n => n.Key).LastOrDefault();
        }

        var path = new List<JsonElement>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (string? at = leaf; at is not null && nodes.TryGetValue(at, out JsonElement node) && seen.Add(at);)
        {
            path.Add(node);
            at = TranscriptImporter.ReadString(node, "parent");
        }

        path.Reverse();
        var state = new TranscriptAgentState();
        var messages = new List<TranscriptMessage>();
        var warnings = new List<string>();
        string? model = TranscriptImporter.ReadString(chosen, "default_model_slug");
        foreach (JsonElement node in path)
        {
            if (!node.TryGetProperty("message", out JsonElement message) || message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            ReadMessage(message, messages, state, ref model);
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
            Model = model,
            Messages = messages,
            Warnings = warnings,
            AgentState = state,
        };
    }

    private static void ReadMessage(JsonElement message, List<TranscriptMessage> messages, TranscriptAgentState state, ref string? model)
    {
        JsonElement author = message.TryGetProperty("author", out JsonElement a) ? a : default;
        string role = TranscriptImporter.ReadString(author, "role") ?? "";
        string? name = TranscriptImporter.ReadString(author, "name");
        JsonElement metadata = message.TryGetProperty("metadata", out JsonElement md) ? md : default;
        bool hidden = metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty("is_visually_hidden_from_conversation", out JsonElement h) && h.ValueKind == JsonValueKind.True;
        JsonElement content = message.TryGetProperty("content", out JsonElement c) ? c : default;
        string contentType = TranscriptImporter.ReadString(content, "content_type") ?? "text";
        string recipient = TranscriptImporter.ReadString(message, "recipient") ?? "all";
        DateTimeOffset? time = Time(message);
        string? sourceId = TranscriptImporter.ReadString(message, "id");
        if (contentType == "user_editable_context")
        {
            string instructions = string.Join("\n\n", new[] { TranscriptImporter.ReadString(content, "user_profile"), TranscriptImporter.ReadString(content, "user_instructions") }
                .Where(s => !string.IsNullOrWhiteSpace(s)));
            if (instructions.Length > 0)
            {
                state.SystemPrompt = instructions;
            }

            return;
        }

        if (hidden || contentType is "thoughts" or "reasoning_recap" or "model_editable_context")
        {
            return; // hidden system messages, and the model's own scratchpad
        }

        string text = ContentText(content, contentType);
        if (role == "assistant" && TranscriptImporter.ReadString(metadata, "model_slug") is { Length: > 0 } slug)
        {
            model = slug;
        }

        if (role == "assistant" && recipient != "all")
        {
            // The assistant writing to a tool (code for "python", a query for "browser", a prompt for "dalle.text2im").
            messages.Add(new TranscriptMessage
            {
                Role = TranscriptRole.Assistant,
                Kind = MessageKind.ToolCall,
                Timestamp = time,
                SourceRole = "assistant",
                SourceId = sourceId,
                ToolCalls = [new ToolCall { Id = sourceId ?? "", Name = recipient, Input = text, Summary = ClaudeCodeTranscriptImporter.Compact(text), Code = contentType == "code" ? text : null }],
            });
            return;
        }

        if (text.Trim().Length == 0)
        {
            return;
        }

        (TranscriptRole r, MessageKind kind) = role switch
        {
            "user" => (TranscriptRole.User, MessageKind.Person),
            "assistant" => (TranscriptRole.Assistant, MessageKind.Assistant),
            "tool" => (TranscriptRole.Tool, MessageKind.ToolResult),
            _ => (TranscriptRole.System, MessageKind.Injected),
        };
        messages.Add(new TranscriptMessage
        {
            Role = r,
            Kind = kind,
            Text = text,
            Timestamp = time,
            SourceRole = role,
            SourceId = sourceId,
            Sender = role == "tool" ? name : null,
            IsError = contentType == "system_error",
        });
    }

    private static string ContentText(JsonElement content, string contentType)
    {
        if (content.ValueKind != JsonValueKind.Object)
        {
            return "";
        }

        switch (contentType)
        {
            case "code":
            case "execution_output":
            case "system_error":
                return TranscriptImporter.ReadString(content, "text") ?? "";
            case "tether_browsing_display":
                return TranscriptImporter.ReadString(content, "result") ?? TranscriptImporter.ReadString(content, "summary") ?? "";
            case "tether_quote":
                return string.Join("\n", new[] { TranscriptImporter.ReadString(content, "title"), TranscriptImporter.ReadString(content, "url"), TranscriptImporter.ReadString(content, "text") }
                    .Where(s => !string.IsNullOrEmpty(s)));
            default:
                break;
        }

        if (!content.TryGetProperty("parts", out JsonElement parts) || parts.ValueKind != JsonValueKind.Array)
        {
            return TranscriptImporter.ReadString(content, "text") ?? "";
        }

        var text = new StringBuilder();
        foreach (JsonElement part in parts.EnumerateArray())
        {
            string? piece = part.ValueKind == JsonValueKind.String ? part.GetString()
                : TranscriptImporter.ReadString(part, "content_type") switch
                {
                    "image_asset_pointer" => "[image]",
                    "audio_transcription" => TranscriptImporter.ReadString(part, "text"),
                    "audio_asset_pointer" or "real_time_user_audio_video_asset_pointer" => null,
                    var other => TranscriptImporter.ReadString(part, "text") ?? "[" + (other ?? "part") + "]",
                };
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

    /// <summary>create_time is Unix seconds with a fraction.</summary>
    internal static DateTimeOffset? Time(JsonElement message)
    {
        if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("create_time", out JsonElement value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetDouble(out double seconds) && seconds is > 0 and < 253_402_300_799)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
        }

        return null;
    }

    private static (string Id, string Title, DateTimeOffset? Updated) Describe(JsonElement conversation)
    {
        string id = TranscriptImporter.ReadString(conversation, "conversation_id") ?? TranscriptImporter.ReadString(conversation, "id") ?? "";
        DateTimeOffset? updated = conversation.TryGetProperty("update_time", out JsonElement u) && u.ValueKind == JsonValueKind.Number && u.TryGetDouble(out double s) && s is > 0 and < 253_402_300_799
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(s * 1000)) : Time(conversation);
        return (id, TranscriptImporter.ReadString(conversation, "title") ?? "", updated);
    }
}
