namespace Ghostie.Sync.Handoff;

/// <summary>A message in an agent's context window.</summary>
public sealed record AgentMessage
{
    /// <summary>"system", "user", "assistant" or "tool".</summary>
    public required string Role { get; init; }

    /// <summary>The text.</summary>
    public required string Text { get; init; }
}
