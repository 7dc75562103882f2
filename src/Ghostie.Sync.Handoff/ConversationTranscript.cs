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

    /// <summary>The state of the agent as the host left it: system prompt, project instructions, todo list, permission mode, helpers.</summary>
    public TranscriptAgentState AgentState { get; init; } = new();

    /// <summary>
    /// The person's last instruction: the last message of <see cref="MessageKind.Person"/> outside any side conversation,
    /// or null when the person wrote nothing (an injected message, a tool result or a teammate's report never counts).
    /// </summary>
    public TranscriptMessage? LastInstruction => Messages.LastOrDefault(m => m.Kind == MessageKind.Person && !m.IsSidechain);

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

/// <summary>What a transcript message is, as the rebuild and the compressor need to know it.</summary>
public enum MessageKind
{
    /// <summary>The person's own words: what they typed.</summary>
    Person,

    /// <summary>The assistant's text (it may also call tools).</summary>
    Assistant,

    /// <summary>An assistant message that only calls tools.</summary>
    ToolCall,

    /// <summary>A tool's output fed back to the assistant.</summary>
    ToolResult,

    /// <summary>
    /// Written by the host in the person's place: meta messages, slash-command echoes, local command output, system
    /// reminders, hook feedback, interruption markers, system prompts and hidden system messages.
    /// </summary>
    Injected,

    /// <summary>A message of an agent-team teammate (Claude Code stores them as user messages).</summary>
    Teammate,

    /// <summary>A message of a sub-agent's side conversation.</summary>
    SubAgent,

    /// <summary>The host's own summary of what came before (Claude Code's compaction summary).</summary>
    CompactionSummary,
}

/// <summary>The agent's state as the host left it, for a host on the other side to restore.</summary>
public sealed class TranscriptAgentState
{
    /// <summary>The system prompt, if the source carries one (a chat's system message; Claude Code does not write its own).</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>Project instructions (CLAUDE.md files found from the session's working directory), in the order the host loads them.</summary>
    public List<ProjectInstructionFile> ProjectInstructions { get; init; } = [];

    /// <summary>The latest todo list (Claude Code's last TodoWrite call), or empty.</summary>
    public List<TodoItem> Todos { get; set; } = [];

    /// <summary>The permission mode the session was last in ("default", "acceptEdits", "plan", "bypassPermissions"), if known.</summary>
    public string? PermissionMode { get; set; }

    /// <summary>The working directory the session last ran in, if known.</summary>
    public string? WorkingDirectory { get; set; }
}

/// <summary>One project-instructions file (a CLAUDE.md), as read.</summary>
public sealed record ProjectInstructionFile
{
    /// <summary>The file's path on the sending device.</summary>
    public required string Path { get; init; }

    /// <summary>Its text (at most <see cref="Importers.ProjectInstructions.MaxBytes"/> bytes of it).</summary>
    public required string Text { get; init; }

    /// <summary>Whether the text was cut at the cap.</summary>
    public bool Truncated { get; init; }
}

/// <summary>One item of a todo list.</summary>
public sealed record TodoItem
{
    /// <summary>What is to be done.</summary>
    public required string Content { get; init; }

    /// <summary>"pending", "in_progress" or "completed".</summary>
    public string Status { get; init; } = "pending";

    /// <summary>The present-tense form shown while it is in progress, if any.</summary>
    public string? ActiveForm { get; init; }
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
