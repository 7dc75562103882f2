namespace Ghostie.Sync.Handoff;

/// <summary>A conversation as an importer reads it, before compression: every message, tool calls and results included.</summary>
public sealed class ConversationTranscript
{
    /// <summary>The conversation id.</summary>
    public required string Id { get; init; }

    /// <summary>A title, if the source had one (a Claude Code summary, for example).</summary>
    public string? Title { get; set; }

    /// <summary>"claude-code-jsonl", "chat-json", or a host's own name.</summary>
    public string SourceFormat { get; init; } = "";

    /// <summary>The bytes of the source file, if imported from one (the base of the size ratio).</summary>
    public long RawBytes { get; init; }

    /// <summary>The working directory of the session, if known.</summary>
    public string? ProjectRoot { get; init; }

    /// <summary>The version-control branch, if known.</summary>
    public string? GitBranch { get; init; }

    /// <summary>The model that answered, if known.</summary>
    public string? Model { get; init; }

    /// <summary>Summaries the source itself carried (Claude Code writes them when it compacts a session).</summary>
    public List<string> Summaries { get; init; } = [];

    /// <summary>The messages, in order; <see cref="TranscriptMessage.Index"/> is the position in this list.</summary>
    public List<TranscriptMessage> Messages { get; init; } = [];

    /// <summary>Lines or entries the importer skipped, with why (never their content).</summary>
    public List<string> Warnings { get; init; } = [];

    /// <summary>When the first message was written, if known.</summary>
    public DateTimeOffset? StartedAt => Messages.Select(m => m.Timestamp).FirstOrDefault(t => t is not null);

    /// <summary>When the last message was written, if known.</summary>
    public DateTimeOffset? LastActivity => Messages.Select(m => m.Timestamp).LastOrDefault(t => t is not null);
}

/// <summary>Who wrote a message.</summary>
public enum TranscriptRole
{
    /// <summary>The person.</summary>
    User,

    /// <summary>The assistant.</summary>
    Assistant,

    /// <summary>System or developer instructions, and events of the host.</summary>
    System,

    /// <summary>Tool output fed back to the assistant.</summary>
    Tool,
}

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
}

/// <summary>A tool call made by the assistant.</summary>
public sealed class ToolCall
{
    /// <summary>The call id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The tool ("Bash", "Edit", "Read", "Task", ...).</summary>
    public required string Name { get; init; }

    /// <summary>The call's input as compact JSON.</summary>
    public string Input { get; set; } = "";

    /// <summary>The file the call works on (file_path, path or notebook_path of its input), if any.</summary>
    public string? FilePath { get; set; }

    /// <summary>A one-line description: the command, the pattern, or the sub-agent's task.</summary>
    public string Summary { get; set; } = "";

    /// <summary>Code the call writes (new_string, content), if any.</summary>
    public string? Code { get; set; }
}
