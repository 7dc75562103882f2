namespace Ghostie.Sync.Handoff;

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
