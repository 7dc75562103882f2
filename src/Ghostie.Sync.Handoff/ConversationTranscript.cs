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
