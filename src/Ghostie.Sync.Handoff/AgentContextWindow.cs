namespace Ghostie.Sync.Handoff;

/// <summary>An agent's context window.</summary>
public sealed record AgentContextWindow
{
    /// <summary>Its size in tokens.</summary>
    public int MaxTokens { get; init; }

    /// <summary>Its messages, oldest first.</summary>
    public IReadOnlyList<AgentMessage> Messages { get; init; } = [];
}
