namespace Ghostie.Sync.Handoff;

/// <summary>The state of one agent, carried complete.</summary>
public sealed record AgentState
{
    /// <summary>The agent's id.</summary>
    public required string Id { get; init; }

    /// <summary>Its display name.</summary>
    public string Name { get; init; } = "";

    /// <summary>What it does.</summary>
    public string Role { get; init; } = "";

    /// <summary>Schema version 3: "main" (the conversation's assistant), "sub-agent" (started by a Task call) or "teammate" (of an agent team); "" when unknown.</summary>
    public string Kind { get; init; } = "";

    /// <summary>Schema version 3: its last state: "active", "running" (a sub-agent with no result yet), "completed", "failed", "idle" (a teammate waiting) or "terminated"; "" when unknown.</summary>
    public string Status { get; init; } = "";

    /// <summary>Schema version 3: the permission mode it ran in ("default", "acceptEdits", "plan", "bypassPermissions"), if known.</summary>
    public string? PermissionMode { get; init; }

    /// <summary>Schema version 3: the working directory it ran in on the sending device, if known.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Schema version 3: its todo list as it stood last, in order.</summary>
    public IReadOnlyList<TodoItem> Todos { get; init; } = [];

    /// <summary>Schema version 3: the project instructions it was given (CLAUDE.md files), in loading order, each capped.</summary>
    public IReadOnlyList<ProjectInstructionFile> ProjectInstructions { get; init; } = [];

    /// <summary>Restoration priority: lower is restored first.</summary>
    public int Priority { get; init; }

    /// <summary>Whether it was active on the sending device.</summary>
    public bool IsActive { get; init; }

    /// <summary>The model it runs on, if any.</summary>
    public string? Model { get; init; }

    /// <summary>Its current system prompt.</summary>
    public string SystemPrompt { get; init; } = "";

    /// <summary>How its prompt changed during the conversation.</summary>
    public IReadOnlyList<PromptChange> PromptChanges { get; init; } = [];

    /// <summary>Its context window.</summary>
    public AgentContextWindow ContextWindow { get; init; } = new();

    /// <summary>Its memories.</summary>
    public IReadOnlyList<AgentMemory> MemorySnapshot { get; init; } = [];

    /// <summary>Opaque state of the host (string keys and values), kept verbatim.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    /// <summary>The memory the agent needs when active, in bytes, as estimated by the sender; 0 lets the receiver estimate.</summary>
    public long EstimatedMemoryBytes { get; init; }

    /// <summary>
    /// Schema version 2: a pointer to the agent's latest checkpoint in an agent-state store (for example
    /// Ghostie.Sync.AgentState.Redis). When set, the package may carry only the agent's id, name, role, priority, model and
    /// memory estimate, and the receiver fetches the whole state from the store; null (always, in version 1): the state
    /// above is complete. A package with any pointer is written as schema version 2.
    /// </summary>
    public AgentStateCheckpointRef? Checkpoint { get; init; }
}
