namespace Ghostie.Sync.Handoff;

/// <summary>One message of a transcript.</summary>
public sealed class TranscriptMessage
{
    /// <summary>Its position in the transcript.</summary>
    public int Index { get; set; }

    /// <summary>Who wrote it.</summary>
    public TranscriptRole Role { get; init; }

    /// <summary>Its text (for a tool message, the tool output).</summary>
    public string Text { get; set; } = "";

    /// <summary>When, if known.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The tools it called (assistant messages).</summary>
    public List<ToolCall> ToolCalls { get; init; } = [];

    /// <summary>For a tool message: the call it answers, if known.</summary>
    public string? ToolUseId { get; init; }

    /// <summary>For a tool message: whether the tool reported an error.</summary>
    public bool IsError { get; init; }

    /// <summary>Whether it belongs to a sub-agent's side conversation.</summary>
    public bool IsSidechain { get; init; }

    /// <summary>The raw role name of the source (for example "developer").</summary>
    public string? SourceRole { get; init; }

    /// <summary>
    /// What the message is: the person's own words, the assistant's, a tool call or result, something the host injected,
    /// a teammate's or sub-agent's message, or a compaction summary. Unset, it follows <see cref="Role"/> (user: person;
    /// assistant: assistant, or tool call when it has only tool calls; tool: tool result; system: injected).
    /// </summary>
    public MessageKind Kind
    {
        get => _kind ?? Role switch
        {
            TranscriptRole.User => IsSidechain ? MessageKind.SubAgent : MessageKind.Person,
            TranscriptRole.Assistant => IsSidechain ? MessageKind.SubAgent : Text.Length == 0 && ToolCalls.Count > 0 ? MessageKind.ToolCall : MessageKind.Assistant,
            TranscriptRole.Tool => MessageKind.ToolResult,
            _ => MessageKind.Injected,
        };
        set => _kind = value;
    }

    private MessageKind? _kind;

    /// <summary>Who sent it when it is not the person nor the assistant: the teammate's id (agent teams) or the sub-agent's.</summary>
    public string? Sender { get; init; }

    /// <summary>The source's own id of the message (a Claude Code uuid, a ChatGPT node id), if any.</summary>
    public string? SourceId { get; init; }
}
