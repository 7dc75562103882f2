namespace Ghostie.Sync.Handoff;

/// <summary>A conversation rebuilt on the receiving device, within its profile.</summary>
public sealed record RebuiltConversation
{
    /// <summary>The package it came from.</summary>
    public required string PackageId { get; init; }

    /// <summary>The conversation.</summary>
    public required ConversationMetadata Conversation { get; init; }

    /// <summary>The profile it was rebuilt within.</summary>
    public required DeviceProfile Profile { get; init; }

    /// <summary>The context to give the model: sections in priority order, within <see cref="DeviceProfile.ContextTokens"/>.</summary>
    public required string Context { get; init; }

    /// <summary>The tokens of <see cref="Context"/>.</summary>
    public int ContextTokens { get; init; }

    /// <summary>The sections, in order.</summary>
    public IReadOnlyList<RebuiltSection> Sections { get; init; } = [];

    /// <summary>Agents restored and active, by activation order (at most <see cref="DeviceProfile.MaxAgents"/>).</summary>
    public IReadOnlyList<AgentState> ActiveAgents { get; init; } = [];

    /// <summary>Agents that did not fit: held compressed, loaded on demand.</summary>
    public IReadOnlyList<DeferredAgent> DeferredAgents { get; init; } = [];

    /// <summary>Agents that could not even be held within the memory budget (ids), lowest priority first to go.</summary>
    public IReadOnlyList<string> DroppedAgents { get; init; } = [];

    /// <summary>The on-device vector cache: the most similar embeddings, at most <see cref="DeviceProfile.VectorCacheEntries"/>.</summary>
    public IReadOnlyList<EmbeddingEntry> VectorCache { get; init; } = [];

    /// <summary>Embeddings of the package left out of the cache.</summary>
    public int VectorsLeftOut { get; init; }

    /// <summary>The active files, paths rewritten for this device.</summary>
    public IReadOnlyList<RewrittenFile> ActiveFiles { get; init; } = [];

    /// <summary>Where to carry on.</summary>
    public ResumptionPoint ResumptionPoint { get; init; } = new();

    /// <summary>The estimated memory of everything rebuilt, in bytes; never above <see cref="DeviceProfile.MemoryBudgetBytes"/>.</summary>
    public long EstimatedMemoryBytes { get; init; }
}
