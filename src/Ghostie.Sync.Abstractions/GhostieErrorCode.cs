namespace Ghostie.Sync;

/// <summary>Stable error codes carried by every <see cref="GhostieSyncException"/>.</summary>
/// <remarks>The numeric values are part of the public contract (CLI exit codes and logs use them): never renumber.</remarks>
public enum GhostieErrorCode
{
    /// <summary>An error with no more specific code.</summary>
    Unknown = 0,

    /// <summary>The passphrase does not open any key file of the repository.</summary>
    WrongPassphrase = 1,

    /// <summary>An object failed authentication: it was modified, truncated, moved, swapped or replayed.</summary>
    IntegrityFailure = 2,

    /// <summary>The data was written by a newer format version or uses an algorithm this version does not know.</summary>
    UnsupportedFormat = 3,

    /// <summary>The repository has no key files: it was never initialized, or the wrong location was given.</summary>
    RepositoryNotInitialized = 4,

    /// <summary>A repository already exists at the location given to an initialize call.</summary>
    RepositoryAlreadyInitialized = 5,

    /// <summary>An argument or a configuration value is not acceptable.</summary>
    InvalidArgument = 6,

    /// <summary>A requested object or key does not exist.</summary>
    NotFound = 7,

    /// <summary>A device-local secret file has permissions wider than its owner.</summary>
    InsecurePermissions = 8,

    /// <summary>The operation would leave the repository without any usable key file.</summary>
    LastKeyFile = 9,

    /// <summary>The storage backend could not be reached or refused the request.</summary>
    BackendUnavailable = 10,

    /// <summary>The storage served an older state than one already seen (a device head went backwards).</summary>
    Rollback = 11,

    /// <summary>A local file is not a valid memory; it was skipped and left untouched.</summary>
    MalformedLocalFile = 12,

    /// <summary>Sync has not been set up in this Ghostie home, or its configuration is unreadable.</summary>
    NotConfigured = 13,

    /// <summary>Another process is syncing the same Ghostie home.</summary>
    Busy = 14,

    /// <summary>The storage refused the credentials (HTTP 401/403): a wrong, expired or under-privileged key or token.</summary>
    AccessDenied = 15,

    /// <summary>The bucket, container or gist set the backend points at does not exist.</summary>
    StorageNotFound = 16,

    /// <summary>A file of the Ghostie home on this device could not be written or read (the disk is full, the home is
    /// read-only or not writable by this user); the repository is not at fault and nothing was lost.</summary>
    LocalStorageFailure = 17,

    /// <summary>Another installation (another Ghostie home) writes to the repository under this device id: two homes
    /// must not share one. Setup refuses such an id; a home that finds itself sharing one is given a new id.</summary>
    DeviceIdInUse = 18,

    /// <summary>The device was removed from the repository (or revoked as lost) by another device: it can no longer push
    /// or pull under its id. Its local memories are untouched; give the home a new device id to sync again.</summary>
    DeviceRemoved = 19,
}
