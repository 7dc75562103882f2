namespace Ghostie.Sync.Handoff;

/// <summary>The conversation's metadata.</summary>
public sealed record ConversationMetadata
{
    /// <summary>The conversation id (a Claude Code session id, a chat id, ...).</summary>
    public required string Id { get; init; }

    /// <summary>A short title.</summary>
    public string Title { get; init; } = "";

    /// <summary>When the conversation started.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>When it was last active.</summary>
    public DateTimeOffset? LastActivity { get; init; }

    /// <summary>How many messages the original conversation had (tool calls and results included).</summary>
    public int MessageCount { get; init; }

    /// <summary>How many tokens the original conversation had, by the token counter named in <see cref="CompressionInfo.TokenCounter"/>.</summary>
    public long TokenCount { get; init; }

    /// <summary>Where it was imported from: "claude-code-jsonl", "chat-json", or a host's own name.</summary>
    public string SourceFormat { get; init; } = "";

    /// <summary>The model that answered, if known.</summary>
    public string? Model { get; init; }

    /// <summary>The version-control branch the work was on, if known.</summary>
    public string? GitBranch { get; init; }
}
