namespace Ghostie.Sync.KnowledgeGraph;

/// <summary>What one <see cref="KnowledgeGraphSync.SyncAsync"/> did.</summary>
public sealed record GraphSyncResult
{
    /// <summary>The graph file.</summary>
    public required string FilePath { get; init; }

    /// <summary>Entities, observations and relations added (or entity types changed) in the file since the last graph sync, now in the repository.</summary>
    public int LocalAdditions { get; init; }

    /// <summary>Entities, observations and relations deleted from the file since the last graph sync, now tombstones in the repository.</summary>
    public int LocalDeletions { get; init; }

    /// <summary>Whether the file was rewritten with the merged graph (false when it already held it).</summary>
    public bool FileWritten { get; init; }

    /// <summary>How many read-merge-write rounds it took (more than 1 when the file changed during the sync).</summary>
    public int Attempts { get; init; }

    /// <summary>The merged graph, as written to the file (without <see cref="KeptLines"/>).</summary>
    public required KnowledgeGraph Graph { get; init; }

    /// <summary>The memory sync of the last round (uploads, downloads, its problems).</summary>
    public required SyncResult MemorySync { get; init; }

    /// <summary>Entities whose type devices changed differently, awaiting resolution.</summary>
    public IReadOnlyList<GraphEntityConflict> Conflicts { get; init; } = [];

    /// <summary>Lines of the file that are not a well-formed entity or relation: kept in the file as they are, not synced.</summary>
    public IReadOnlyList<GraphFileLine> KeptLines { get; init; } = [];

    /// <summary>Observations in the repository whose entity was deleted (on another device, while they were added): kept, not in the file.</summary>
    public IReadOnlyList<HiddenObservations> HiddenObservations { get; init; } = [];

    /// <summary>Everything that needs attention, the memory sync's problems included.</summary>
    public IReadOnlyList<SyncProblem> Problems { get; init; } = [];

    /// <summary>Whether nothing needs attention: no problem and no kept line.</summary>
    public bool Success => Problems.Count == 0 && KeptLines.Count == 0;
}

/// <summary>The local state of a graph file against the repository, without a network request.</summary>
public sealed record GraphStatus
{
    /// <summary>The graph file.</summary>
    public required string FilePath { get; init; }

    /// <summary>Whether the file exists.</summary>
    public bool FileExists { get; init; }

    /// <summary>Whether a graph sync of this file has completed in this home before.</summary>
    public bool SyncedBefore { get; init; }

    /// <summary>The graph in the file.</summary>
    public required KnowledgeGraph Graph { get; init; }

    /// <summary>Additions (and entity type changes) in the file not yet synced.</summary>
    public int PendingAdditions { get; init; }

    /// <summary>Deletions from the file not yet synced (0 while the file has a kept line or is missing: none is inferred then).</summary>
    public int PendingDeletions { get; init; }

    /// <summary>Entities in conflict.</summary>
    public IReadOnlyList<GraphEntityConflict> Conflicts { get; init; } = [];

    /// <summary>Lines of the file that are not a well-formed entity or relation.</summary>
    public IReadOnlyList<GraphFileLine> KeptLines { get; init; } = [];

    /// <summary>Observations whose entity was deleted.</summary>
    public IReadOnlyList<HiddenObservations> HiddenObservations { get; init; } = [];
}

/// <summary>An entity whose type devices changed differently (or one changed it while another deleted it).</summary>
/// <param name="EntityName">The entity.</param>
/// <param name="MemoryId">The memory id of its record, for <c>ghostie sync conflict resolve</c> or <see cref="MemorySyncManager.ResolveConflictAsync"/>.</param>
/// <param name="Versions">The concurrent versions, the one in the file first.</param>
public sealed record GraphEntityConflict(string EntityName, string MemoryId, IReadOnlyList<GraphConflictVersion> Versions);

/// <summary>One version of a conflicted entity.</summary>
/// <param name="DeviceId">The device that made it.</param>
/// <param name="EntityType">Its type, or null when the version is a deletion.</param>
public sealed record GraphConflictVersion(string DeviceId, string? EntityType);

/// <summary>Observations of an entity that is not in the graph (deleted on one device while another added them).</summary>
/// <param name="EntityName">The missing entity.</param>
/// <param name="Count">How many observations wait for it; they return to the file when the entity is created again.</param>
public sealed record HiddenObservations(string EntityName, int Count);
