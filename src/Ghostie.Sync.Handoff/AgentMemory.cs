namespace Ghostie.Sync.Handoff;

/// <summary>One memory of an agent.</summary>
public sealed record AgentMemory
{
    /// <summary>The agent it belongs to.</summary>
    public required string AgentId { get; init; }

    /// <summary>The memory.</summary>
    public required string Text { get; init; }

    /// <summary>Importance from 0 to 1; the rebuild loads higher first.</summary>
    public double Importance { get; init; }

    /// <summary>When it was recorded, if known.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
}
