namespace Ghostie.Sync.Handoff;

/// <summary>The result of merging offline work.</summary>
/// <param name="MemoriesCreated">Queue items that became memories.</param>
/// <param name="Sync">The sync that pushed them (and pulled the other devices' changes).</param>
public sealed record OfflineMergeResult(int MemoriesCreated, SyncResult Sync);
