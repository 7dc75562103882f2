namespace Ghostie.Sync.Handoff;

/// <summary>Where the whole state of an agent can be fetched from instead of the package (schema version 2).</summary>
public sealed record AgentStateCheckpointRef
{
    /// <summary>The kind of store that holds the checkpoint ("redis"); the receiver asks its own store of that kind.</summary>
    public required string Store { get; init; }

    /// <summary>The checkpoint's sequence number in the agent's chain (1 or more).</summary>
    public long Sequence { get; init; }

    /// <summary>SHA-256 (64 lowercase hex digits) of the state's canonical JSON, so the receiver can tell it got exactly that state.</summary>
    public required string StateSha256 { get; init; }

    /// <summary>When the checkpoint was written.</summary>
    public DateTimeOffset CreatedAt { get; init; }
}
