using Ghostie.Sync.Crypto;

namespace Ghostie.Sync;

/// <summary>How <see cref="HomeArchive.ExportAsync"/> protects and writes an archive.</summary>
public sealed class HomeArchiveExportOptions
{
    /// <summary>The passphrase the archive is encrypted under (AES-256-GCM, key from PBKDF2-HMAC-SHA256 as key files
    /// use). Required unless <see cref="Plain"/>. Never stored.</summary>
    public string? Passphrase { get; set; }

    /// <summary>Write the archive unencrypted. Default false. A plain archive holds every memory, conflict, handoff
    /// package and vector in the clear (see docs/security.md); it is never the default.</summary>
    public bool Plain { get; set; }

    /// <summary>PBKDF2-HMAC-SHA256 iterations for the archive key. Default and minimum
    /// <see cref="RepositoryKeyOptions.MinimumIterations"/> (600,000).</summary>
    public int Pbkdf2Iterations { get; set; } = RepositoryKeyOptions.MinimumIterations;

    /// <summary>Replace an existing file at the destination. Default false: an existing file is an error.</summary>
    public bool Overwrite { get; set; }

    /// <summary>Lets tests use as few as 1,000 iterations. Never set outside tests.</summary>
    internal bool AllowWeakKdfForTesting { get; set; }

    internal void Validate()
    {
        if (Plain == Passphrase is not null)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, Plain
                ? "Give either a passphrase or Plain = true, not both."
                : "Give a passphrase to encrypt the archive, or set Plain = true to write it in the clear (it then holds every memory unencrypted).");
        }

        if (Passphrase is { Length: 0 })
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "The archive passphrase is empty; give a passphrase.");
        }

        int minimum = AllowWeakKdfForTesting ? Internal.ArchiveFormat.MinIterations : RepositoryKeyOptions.MinimumIterations;
        if (Pbkdf2Iterations < minimum || Pbkdf2Iterations > Internal.ArchiveFormat.MaxIterations)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"HomeArchiveExportOptions.Pbkdf2Iterations is {Pbkdf2Iterations:N0}; use {minimum:N0} to {Internal.ArchiveFormat.MaxIterations:N0}.");
        }
    }
}

/// <summary>Progress of an export or import.</summary>
/// <param name="Stage">"export", "verify" or "import".</param>
/// <param name="Memories">Memories done so far.</param>
/// <param name="TotalMemories">Memories in all, or -1 while unknown (verifying).</param>
/// <param name="Bytes">Archive bytes written or read so far.</param>
public readonly record struct HomeArchiveProgress(string Stage, long Memories, long TotalMemories, long Bytes);

/// <summary>What <see cref="HomeArchive.ExportAsync"/> wrote.</summary>
public sealed record HomeArchiveExportResult
{
    /// <summary>The archive's path.</summary>
    public required string Path { get; init; }

    /// <summary>Whether it is encrypted.</summary>
    public bool Encrypted { get; init; }

    /// <summary>Memories written (deleted ones included, as tombstones).</summary>
    public long Memories { get; init; }

    /// <summary>Versions written (more than <see cref="Memories"/> when some are in conflict).</summary>
    public long Versions { get; init; }

    /// <summary>Memories in conflict (with more than one content).</summary>
    public long Conflicts { get; init; }

    /// <summary>Handoff and vector files written.</summary>
    public long Files { get; init; }

    /// <summary>The archive's size in bytes.</summary>
    public long Bytes { get; init; }

    /// <summary>What could not be exported (a malformed memory file, a version whose content is not on this device),
    /// each naming the file or memory.</summary>
    public IReadOnlyList<SyncProblem> Problems { get; init; } = [];
}

/// <summary>What <see cref="HomeArchive.ImportAsync"/> did.</summary>
public sealed record HomeArchiveImportResult
{
    /// <summary>Memories in the archive.</summary>
    public long Memories { get; init; }

    /// <summary>Versions in the archive.</summary>
    public long Versions { get; init; }

    /// <summary>Versions this home did not have, now merged into it (and in its outbox, to be pushed).</summary>
    public long Merged { get; init; }

    /// <summary>Versions this home already had or already held something newer of: nothing was changed for them.</summary>
    public long AlreadyPresent { get; init; }

    /// <summary>Memories newly in conflict: the archive's version and this home's were concurrent; both are kept.</summary>
    public int NewConflicts { get; init; }

    /// <summary>Handoff and vector files written (the home had none at their path).</summary>
    public long FilesWritten { get; init; }

    /// <summary>Files the home already had with the same content.</summary>
    public long FilesUnchanged { get; init; }

    /// <summary>Files the home already had with another content: the home's file is kept, and the archive's is
    /// written beside it (named in <see cref="Problems"/>).</summary>
    public long FilesKeptAside { get; init; }

    /// <summary>The push after the import, or null when not asked for or when it failed (see <see cref="PushError"/>).</summary>
    public SyncResult? Push { get; init; }

    /// <summary>Why the push failed (the imported versions stay in the outbox for the next push), or null.</summary>
    public string? PushError { get; init; }

    /// <summary>Versions and files not imported, each naming the memory or file and why.</summary>
    public IReadOnlyList<SyncProblem> Problems { get; init; } = [];
}

/// <summary>
/// An archive could not be read: <see cref="GhostieErrorCode.UnsupportedFormat"/> for an archive of a newer format
/// (upgrade Ghostie.Sync), <see cref="GhostieErrorCode.IntegrityFailure"/> for a truncated, damaged or tampered one,
/// <see cref="GhostieErrorCode.WrongPassphrase"/> for a passphrase that does not open it. Nothing was imported.
/// </summary>
public sealed class HomeArchiveException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">What is wrong.</param>
    /// <param name="archive">The archive's path or name.</param>
    /// <param name="message">What happened and what to do (no secrets).</param>
    /// <param name="formatVersion">The archive's format version, when known.</param>
    /// <param name="innerException">The cause, if any.</param>
    public HomeArchiveException(GhostieErrorCode code, string archive, string message, int? formatVersion = null, Exception? innerException = null)
        : base(code, $"{archive}: {message}", isTransient: false, innerException)
    {
        Archive = archive;
        FormatVersion = formatVersion;
    }

    /// <summary>The archive's path or name.</summary>
    public string Archive { get; }

    /// <summary>The archive's format version when it is what is wrong (newer than <see cref="HomeArchive.FormatVersion"/>), else null.</summary>
    public int? FormatVersion { get; }
}
