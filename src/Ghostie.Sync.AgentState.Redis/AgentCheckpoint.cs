using Ghostie.Sync.Handoff;

namespace Ghostie.Sync.AgentState.Redis;

/// <summary>How a checkpoint is stored.</summary>
public enum CheckpointKind
{
    /// <summary>The whole state.</summary>
    Snapshot = 1,

    /// <summary>The changes since the previous checkpoint of the chain.</summary>
    Delta = 2,
}

/// <summary>A checkpoint of one agent's state in Redis.</summary>
public sealed record AgentCheckpoint
{
    /// <summary>The agent's id.</summary>
    public required string AgentId { get; init; }

    /// <summary>Its sequence number in the agent's chain: 1 for the first checkpoint, one more for each later one.</summary>
    public long Sequence { get; init; }

    /// <summary>Whether it was stored as a snapshot or a delta.</summary>
    public CheckpointKind Kind { get; init; }

    /// <summary>SHA-256 (lowercase hex) of the state's canonical JSON (docs/agent-state.md).</summary>
    public required string StateSha256 { get; init; }

    /// <summary>When it was written.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The sealed bytes stored for it (the snapshot or delta object; the head is not counted).</summary>
    public long StoredBytes { get; init; }

    /// <summary>True when <see cref="RedisAgentStateStore.CheckpointAsync"/> found the state equal to this, the latest checkpoint, and wrote nothing.</summary>
    public bool Unchanged { get; init; }

    /// <summary>The pointer a handoff package carries instead of the whole state (schema version 2).</summary>
    public AgentStateCheckpointRef Pointer => new() { Store = RedisAgentStateStore.StoreName, Sequence = Sequence, StateSha256 = StateSha256, CreatedAt = CreatedAt };

    /// <summary>
    /// <paramref name="state"/> as a handoff package carries it with a pointer: its id, name, role, priority, activity,
    /// model, memory estimate and context size, and <see cref="Handoff.AgentState.Checkpoint"/> set to <see cref="Pointer"/>;
    /// its prompts, messages, memories and variables stay in Redis.
    /// </summary>
    /// <param name="state">The state this checkpoint was written from.</param>
    /// <exception cref="ArgumentException">The state is of another agent.</exception>
    public Handoff.AgentState ToHandoffAgent(Handoff.AgentState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!string.Equals(state.Id, AgentId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The state is of agent '{state.Id}', the checkpoint of agent '{AgentId}'.", nameof(state));
        }

        return new Handoff.AgentState
        {
            Id = state.Id, Name = state.Name, Role = state.Role, Priority = state.Priority, IsActive = state.IsActive, Model = state.Model,
            EstimatedMemoryBytes = state.EstimatedMemoryBytes,
            ContextWindow = new AgentContextWindow { MaxTokens = state.ContextWindow.MaxTokens },
            Checkpoint = Pointer,
        };
    }
}

/// <summary>Where a recovered state comes from.</summary>
public enum RecoveredFrom
{
    /// <summary>The latest consistent checkpoint in Redis.</summary>
    Redis = 1,

    /// <summary>A state kept on this device because Redis could not take it (newer than anything in Redis).</summary>
    LocalPending = 2,
}

/// <summary>An agent's state as recovered: the latest consistent checkpoint, and what could not be applied.</summary>
public sealed record AgentStateRecovery
{
    /// <summary>The state.</summary>
    public required Handoff.AgentState State { get; init; }

    /// <summary>The checkpoint it is (for <see cref="RecoveredFrom.LocalPending"/>, the last one Redis holds, if any).</summary>
    public AgentCheckpoint? Checkpoint { get; init; }

    /// <summary>Where it comes from.</summary>
    public RecoveredFrom Source { get; init; }

    /// <summary>The sequence the chain head names; greater than <see cref="Checkpoint"/>'s when a delta could not be applied.</summary>
    public long HeadSequence { get; init; }

    /// <summary>Checkpoint objects that were not applied (missing, torn, replaced), each with the reason; empty when the chain is whole.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}
