namespace Ghostie.Sync;

/// <summary>Options of a <see cref="BackgroundSync"/> scheduler (docs/background-sync.md).</summary>
public sealed class BackgroundSyncOptions
{
    /// <summary>How often the repository is checked for other devices' changes (one listing request; a pull or sync
    /// only when something changed). Default 5 minutes.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>After a local change (<see cref="BackgroundSync.NotifyLocalChange"/> or the memories folder watcher),
    /// the push waits until no further change came for this long. Default 5 seconds.</summary>
    public TimeSpan DebounceDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A push after local changes waits at most this long after the first of them, even if changes keep
    /// coming. Default 1 minute; at least <see cref="DebounceDelay"/>.</summary>
    public TimeSpan MaxDebounceDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The ceiling of the first retry delay after a failure; each further consecutive failure doubles it, up to
    /// <see cref="MaxBackoff"/>. The delay itself is random between 0 and the ceiling (full jitter), never less than
    /// one second or this value, whichever is smaller. Default 10 seconds.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The cap of the retry delay ceiling. Default 30 minutes; at least <see cref="InitialBackoff"/>.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>When another process holds the home's lock (<see cref="GhostieErrorCode.Busy"/>), the same work is tried
    /// again after this delay; it is not counted as a failure. Default 2 seconds.</summary>
    public TimeSpan BusyRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>While the host's hints say the network is metered or the battery saver is on
    /// (<see cref="IBackgroundSyncHints"/>), a pull estimated to download more than this many bytes, or a push estimated to
    /// upload more, is deferred until the hints clear; smaller transfers still go. Default 1 MiB; 0 defers every transfer
    /// that moves anything.</summary>
    public long LargeTransferBytes { get; set; } = 1024 * 1024;

    /// <summary>Whether to watch the home's <c>memories/</c> folder for changes (a debounced push follows). Default
    /// true. Without it, local changes are pushed after <see cref="BackgroundSync.NotifyLocalChange"/> or at the next
    /// interval.</summary>
    public bool WatchMemoriesFolder { get; set; } = true;

    /// <summary>Whether the first check runs as soon as <see cref="BackgroundSync.RunAsync"/> starts (else after one
    /// <see cref="Interval"/>). Default true.</summary>
    public bool CheckAtStart { get; set; } = true;

    /// <summary>The clock of the schedule. Default <see cref="TimeProvider.System"/>; tests inject a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Why these options cannot be used, or null when they can.</summary>
    internal string? Problem() =>
        Interval <= TimeSpan.Zero ? "BackgroundSyncOptions.Interval must be positive."
        : DebounceDelay < TimeSpan.Zero ? "BackgroundSyncOptions.DebounceDelay must not be negative."
        : MaxDebounceDelay < DebounceDelay ? "BackgroundSyncOptions.MaxDebounceDelay must be at least DebounceDelay."
        : InitialBackoff <= TimeSpan.Zero ? "BackgroundSyncOptions.InitialBackoff must be positive."
        : MaxBackoff < InitialBackoff ? "BackgroundSyncOptions.MaxBackoff must be at least InitialBackoff."
        : BusyRetryDelay <= TimeSpan.Zero ? "BackgroundSyncOptions.BusyRetryDelay must be positive."
        : LargeTransferBytes < 0 ? "BackgroundSyncOptions.LargeTransferBytes must not be negative."
        : TimeProvider is null ? "BackgroundSyncOptions.TimeProvider must be set."
        : null;
}

/// <summary>
/// What the host knows of the device's conditions, asked before each transfer of a <see cref="BackgroundSync"/>. While
/// either is true, transfers larger than <see cref="BackgroundSyncOptions.LargeTransferBytes"/> are deferred; small ones
/// still go. Implementations must be cheap and thread-safe; an exception is logged and read as "no constraint".
/// </summary>
public interface IBackgroundSyncHints
{
    /// <summary>Whether the network is metered (a mobile connection, a hotspot, a capped plan).</summary>
    bool IsMetered { get; }

    /// <summary>Whether the device saves battery (a low-power or battery-saver mode).</summary>
    bool IsBatterySaver { get; }
}

/// <summary>Hints that never change, for a host that knows its conditions up front (the CLI's <c>--metered</c>).</summary>
/// <param name="IsMetered">Whether the network is metered.</param>
/// <param name="IsBatterySaver">Whether the battery saver is on.</param>
public sealed record FixedBackgroundSyncHints(bool IsMetered, bool IsBatterySaver) : IBackgroundSyncHints;

/// <summary>What a <see cref="BackgroundSync"/> is doing.</summary>
public enum BackgroundSyncState
{
    /// <summary><see cref="BackgroundSync.RunAsync"/> has not been called.</summary>
    NotStarted,

    /// <summary>Waiting for the next check, a debounced push, or a retry (<see cref="BackgroundSyncStatus.NextRun"/>).</summary>
    Waiting,

    /// <summary>Checking local files and the repository's listing.</summary>
    Checking,

    /// <summary>Pushing, pulling or syncing.</summary>
    Syncing,

    /// <summary><see cref="BackgroundSync.RunAsync"/> returned (cancelled).</summary>
    Stopped,
}

/// <summary>A snapshot of a <see cref="BackgroundSync"/>, for a host to show.</summary>
public sealed record BackgroundSyncStatus
{
    /// <summary>What it is doing now.</summary>
    public BackgroundSyncState State { get; init; }

    /// <summary>When it will next check, push or retry (while waiting); null when not running.</summary>
    public DateTimeOffset? NextRun { get; init; }

    /// <summary>When the last check (local, or with the listing) completed, or null.</summary>
    public DateTimeOffset? LastCheck { get; init; }

    /// <summary>When the last push, pull or sync completed, or null.</summary>
    public DateTimeOffset? LastSync { get; init; }

    /// <summary>The outcome of that push, pull or sync (its problems included), or null.</summary>
    public SyncResult? LastResult { get; init; }

    /// <summary>Failures in a row since the last success; 0 when the last run succeeded.</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>The most recent failure, kept after a later success (then <see cref="ConsecutiveFailures"/> is 0), or null.</summary>
    public BackgroundSyncError? LastError { get; init; }

    /// <summary>The transfer the host's hints deferred at the last check, or null when nothing is deferred.</summary>
    public BackgroundSyncDeferral? Deferred { get; init; }
}

/// <summary>A failure of a background run.</summary>
/// <param name="Code">The library's error code (<see cref="GhostieErrorCode.Unknown"/> for an exception of another kind).</param>
/// <param name="Message">What happened and what to do (the library's message; for another kind of exception only its type, since its message may hold anything).</param>
/// <param name="IsTransient">Whether trying again may succeed without anyone acting.</param>
/// <param name="At">When it failed.</param>
public sealed record BackgroundSyncError(GhostieErrorCode Code, string Message, bool IsTransient, DateTimeOffset At);

/// <summary>A transfer deferred by the host's hints.</summary>
/// <param name="DownloadBytes">The estimated bytes of a deferred pull, or null when the pull was not deferred.</param>
/// <param name="UploadBytes">The estimated bytes of a deferred push, or null when the push was not deferred.</param>
/// <param name="Reason">"metered network", "battery saver", or both.</param>
public sealed record BackgroundSyncDeferral(long? DownloadBytes, long? UploadBytes, string Reason);
