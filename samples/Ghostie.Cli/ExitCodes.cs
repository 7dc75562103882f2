using Ghostie.Sync;

namespace Ghostie.Cli;

/// <summary>
/// The process exit codes of <c>ghostie</c>. They are a public contract for scripts (docs/cli.md): never renumber.
/// </summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Usage = 1;
    public const int WrongPassphrase = 2;
    public const int IntegrityFailure = 3;
    public const int NotConfigured = 4;
    public const int BackendUnavailable = 5;
    public const int CompletedWithProblems = 6;
    public const int ConflictsExist = 7;
    public const int Busy = 8;
    public const int UnsupportedFormat = 9;
    public const int OtherError = 10;
    public const int AccessDenied = 11;
    public const int DeviceIdInUse = 12;
    public const int Cancelled = 130;

    /// <summary>The table printed at the end of every <c>--help</c>; docs/cli.md has the same one.</summary>
    public const string HelpText = """
        Exit codes:
          0   success
          1   usage error: bad arguments, unknown command, no passphrase available, no such memory or conflict
          2   wrong passphrase
          3   integrity failure: data in the repository was modified, truncated, replaced or rolled back
          4   not configured: sync is not set up in this Ghostie home (run 'ghostie sync setup'), or a backend
              credential is neither in its environment variable nor stored on this device
          5   backend unavailable: the repository folder, bucket, container or gists are missing, unreachable or
              hold no repository (or, for 'ghostie sync setup', part of one without its key files)
          6   completed with problems: something was skipped (for example a malformed memory file) or is
              missing (a device whose head is gone), or the memory file asked for is malformed; see stderr
          7   conflicts exist (only 'ghostie sync conflict list --exit-code')
          8   busy: another process is syncing this Ghostie home ('--wait [SECONDS]' waits for it), or another
              device is resuming the same handoff package right now
          9   unsupported format: written by a newer version of Ghostie; upgrade
          10  any other error, such as a Ghostie home that cannot be written (a full disk, a read-only or
              foreign-owned folder)
          11  access denied: the storage refused the credentials (wrong, expired or without the permissions needed)
          12  device id in use: another Ghostie home writes to the repository under this device id ('sync setup'
              with another --device; a home that finds itself sharing one: 'ghostie sync rename-device <new-id>'),
              or this device was removed or revoked by another ('ghostie device remove'; the same way back)
          130 interrupted (Ctrl+C)

        Environment: GHOSTIE_HOME (default home, else ~/.ghostie), GHOSTIE_PASSPHRASE (the repository passphrase;
        otherwise ghostie prompts for it without echo when it needs it).
        """;

    /// <summary>Maps a library error code to the exit code documented for it.</summary>
    /// <param name="code">The error code of a <see cref="GhostieSyncException"/>.</param>
    public static int From(GhostieErrorCode code) => code switch
    {
        GhostieErrorCode.WrongPassphrase => WrongPassphrase,
        GhostieErrorCode.IntegrityFailure or GhostieErrorCode.Rollback => IntegrityFailure,
        GhostieErrorCode.UnsupportedFormat => UnsupportedFormat,
        GhostieErrorCode.NotConfigured => NotConfigured,

        // A configured home whose folder holds no repository: the disk is not mounted, or the path is wrong.
        GhostieErrorCode.RepositoryNotInitialized or GhostieErrorCode.BackendUnavailable or GhostieErrorCode.StorageNotFound => BackendUnavailable,
        GhostieErrorCode.AccessDenied => AccessDenied,
        GhostieErrorCode.InvalidArgument or GhostieErrorCode.NotFound or GhostieErrorCode.LastKeyFile => Usage,
        GhostieErrorCode.MalformedLocalFile => CompletedWithProblems,
        GhostieErrorCode.Busy => Busy,
        GhostieErrorCode.DeviceIdInUse or GhostieErrorCode.DeviceRemoved => DeviceIdInUse,

        // This device's own disk (full, read-only, not writable): not the repository's fault, so not 5 or 6.
        GhostieErrorCode.LocalStorageFailure => OtherError,
        _ => OtherError,
    };
}
