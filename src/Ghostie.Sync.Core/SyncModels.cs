namespace Ghostie.Sync;

/// <summary>The outcome of a push, pull or sync.</summary>
public sealed record SyncResult
{
    /// <summary>Local versions uploaded (new, edited or deleted memories).</summary>
    public int Uploaded { get; init; }

    /// <summary>Remote versions applied to this device.</summary>
    public int Downloaded { get; init; }

    /// <summary>Memories newly in conflict after this operation.</summary>
    public int NewConflicts { get; init; }

    /// <summary>Objects written to the backend.</summary>
    public int ObjectsWritten { get; init; }

    /// <summary>Objects read from the backend.</summary>
    public int ObjectsRead { get; init; }

    /// <summary>Things that went wrong without stopping the operation (a malformed local file, a device whose head
    /// could not be read, a rollback). Each names the file, object or device and what to do.</summary>
    public IReadOnlyList<SyncProblem> Problems { get; init; } = [];

    /// <summary>Whether the operation completed with no problem.</summary>
    public bool Success => Problems.Count == 0;
}

/// <summary>A problem met during sync that did not stop it.</summary>
/// <param name="Code">What kind of problem.</param>
/// <param name="Subject">The file, object or device concerned.</param>
/// <param name="Message">What happened and what to do; never secrets or memory content.</param>
public sealed record SyncProblem(GhostieErrorCode Code, string Subject, string Message);

/// <summary>The seed's status view.</summary>
public sealed record SyncStatus
{
    /// <summary>The backend's description.</summary>
    public required string Backend { get; init; }

    /// <summary>This device's id.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The repository id.</summary>
    public required string RepositoryId { get; init; }

    /// <summary>When this device last completed a sync (push or pull), or null.</summary>
    public DateTimeOffset? LastSync { get; init; }

    /// <summary>Valid memory files on this device.</summary>
    public int LocalCount { get; init; }

    /// <summary>Memories (not deleted) the repository is known to hold, as of <see cref="LastSync"/>: other devices'
    /// versions read at the last pull and this device's pushed ones. A version committed here but not yet pushed is not
    /// counted (a memory whose newer version waits to be pushed counts by its version in the repository).</summary>
    public int CloudCount { get; init; }

    /// <summary>Memories with a change that is not yet in the repository: a version committed to the outbox but not
    /// pushed (or whose push failed), or a memory file added, edited or deleted since sync last saw it (which the next
    /// push, pull or sync commits). Zero means every local change is in the repository.</summary>
    public int PendingPush { get; init; }

    /// <summary>Memories with unresolved conflicts.</summary>
    public int ConflictCount { get; init; }

    /// <summary>Every device known to have written to the repository (this one included), by id.</summary>
    public IReadOnlyList<DeviceInfo> KnownDevices { get; init; } = [];
}

/// <summary>A device of the repository.</summary>
/// <param name="DeviceId">Its id.</param>
/// <param name="DeviceName">Its display name.</param>
/// <param name="IsThisDevice">Whether it is the device asking.</param>
/// <param name="LastSeen">When its newest head was written (its clock), or null.</param>
public sealed record DeviceInfo(string DeviceId, string DeviceName, bool IsThisDevice, DateTimeOffset? LastSeen)
{
    /// <summary>Its device prefix: the opaque folder of its heads and packs (<c>h/&lt;prefix&gt;/</c>, <c>p/&lt;prefix&gt;/</c>).
    /// Empty where not filled in (<see cref="SyncStatus.KnownDevices"/>).</summary>
    public string Prefix { get; init; } = "";

    /// <summary>The sequence of its newest head known here (0: none).</summary>
    public long Sequence { get; init; }

    /// <summary>Whether the repository holds a head of it (as of the listing that made this list).</summary>
    public bool HasHead { get; init; }

    /// <summary>Whether it is active, removed or revoked.</summary>
    public DeviceStatus Status { get; init; }

    /// <summary>The device that removed or revoked it; null while it is active.</summary>
    public string? RemovedBy { get; init; }

    /// <summary>When it was removed or revoked (the remover's clock); null while it is active.</summary>
    public DateTimeOffset? RemovedAt { get; init; }
}

/// <summary>Whether a device still takes part in the repository (see <see cref="MemorySyncManager.RemoveDeviceAsync"/>).</summary>
public enum DeviceStatus
{
    /// <summary>It syncs as usual.</summary>
    Active = 0,

    /// <summary>Removed (retired or dead): it no longer holds back the deletion of retired packs, and what it writes
    /// after its removal is not applied. Its history up to its removal stays.</summary>
    Removed = 1,

    /// <summary>Removed as lost or stolen, and the repository re-keyed so that it can read nothing written since.</summary>
    Revoked = 2,
}

/// <summary>Progress of a long operation.</summary>
/// <param name="Stage">What is happening ("scan", "upload", "download", "apply").</param>
/// <param name="Done">Units done.</param>
/// <param name="Total">Units in all, or -1 when unknown.</param>
public readonly record struct SyncProgress(string Stage, long Done, long Total);

/// <summary>A memory with concurrent versions from different devices, awaiting resolution.</summary>
/// <param name="Id">The memory id.</param>
/// <param name="Current">The version every device shows now (the deterministic winner).</param>
/// <param name="Others">The concurrent versions kept aside.</param>
/// <param name="DetectedAt">When this device detected the conflict.</param>
public sealed record ConflictInfo(string Id, ConflictVersionInfo Current, IReadOnlyList<ConflictVersionInfo> Others, DateTimeOffset DetectedAt);

/// <summary>One side of a conflict.</summary>
/// <param name="DeviceId">The device that wrote this version.</param>
/// <param name="LastModified">When it was written (its clock).</param>
/// <param name="Deleted">Whether this version deletes the memory.</param>
/// <param name="Record">The memory as this version has it (null for a deletion).</param>
public sealed record ConflictVersionInfo(string DeviceId, DateTimeOffset LastModified, bool Deleted, MemoryRecord? Record);

/// <summary>How to resolve a conflict.</summary>
public enum ConflictChoice
{
    /// <summary>Keep this device's version (which may be a deletion). A device that wrote none of the versions has
    /// nothing of its own to keep: <see cref="MemorySyncManager.ResolveConflictAsync"/> then throws
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>) and changes nothing; use <see cref="KeepTheirs"/>,
    /// <see cref="KeepBoth"/> or <see cref="Merged"/>.</summary>
    KeepMine,

    /// <summary>Keep the other device's version (the newest other one if several).</summary>
    KeepTheirs,

    /// <summary>Keep the current version under the memory's id and every other version as a new memory.</summary>
    KeepBoth,

    /// <summary>Replace all versions with a merged record supplied by the host.</summary>
    Merged,
}

/// <summary>How far <see cref="MemorySyncManager.CheckAsync"/> looks.</summary>
public enum SyncCheckScope
{
    /// <summary>Only this device's files and outbox: no request to the storage.</summary>
    Local,

    /// <summary>Also one listing of the repository's heads (one request), compared with what this device has applied.</summary>
    Listing,

    /// <summary>The listing, plus a download of each changed head (small objects) to estimate the bytes a pull would download.</summary>
    Estimate,
}

/// <summary>What a push or pull would find, as <see cref="MemorySyncManager.CheckAsync"/> saw it without doing either.</summary>
public sealed record SyncCheck
{
    /// <summary>Whether a pull has something to do: another device wrote a head this device has not applied, or this
    /// device's own head is missing or newer than its state (a sync writes or adopts it). False with <see cref="SyncCheckScope.Local"/>.</summary>
    public bool RemoteChanged { get; init; }

    /// <summary>Other devices with a head this device has not applied.</summary>
    public int ChangedDevices { get; init; }

    /// <summary>With <see cref="SyncCheckScope.Estimate"/>: the bytes of the packs a pull would download, as the changed
    /// heads state them (sealed, compressed sizes); otherwise null.</summary>
    public long? DownloadBytes { get; init; }

    /// <summary>Memories with a change not yet in the repository, counted as <see cref="SyncStatus.PendingPush"/>.</summary>
    public int PendingChanges { get; init; }

    /// <summary>An estimate of what a push would upload, in bytes before compression: the outbox versions not pushed
    /// plus the size of each changed memory file (a deleted one counts as nothing).</summary>
    public long UploadBytes { get; init; }

    /// <summary>Requests made to the storage (the listing and any heads read).</summary>
    public int ObjectsRead { get; init; }

    /// <summary>Whether a push or pull has anything to do.</summary>
    public bool HasWork => RemoteChanged || PendingChanges > 0;
}
