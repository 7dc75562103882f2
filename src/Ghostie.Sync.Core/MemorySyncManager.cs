using Ghostie.Sync.Crypto;
using Ghostie.Sync.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync;

/// <summary>
/// Synchronizes the memories of one Ghostie home with a repository shared by all of a person's devices: the seed's
/// manager (push, pull, sync, status, conflicts) over the lock-free protocol described in docs/sync-protocol.md.
/// </summary>
/// <remarks>
/// Every operation first commits local changes (new, edited and deleted memory files become versions in
/// <c>sync/outbox.jsonl</c>), so nothing written locally is lost even if the push fails. One instance per home;
/// a second process on the same home gets a <see cref="GhostieErrorCode.Busy"/> error.
/// </remarks>
public sealed partial class MemorySyncManager : IDisposable
{
    // The work is done by internal types, one per concern (see docs/architecture.md): SyncEngine runs each operation
    // under the gate and the home's lock; LocalChanges commits, Outbox and SyncStateStore persist, PushCommit and
    // PullApply talk to the repository through RepositoryObjects, VersionApplier merges, ConflictResolver resolves.
    private readonly SyncContext _sync;
    private readonly SyncEngine _engine;
    private readonly bool _ownsKeys;
    private readonly LocalMemoryStore _store;

    private MemorySyncManager(IStorageBackend backend, RepositoryKeys keys, bool ownsKeys, GhostieSyncOptions options, string deviceId, string deviceName, ILogger logger)
    {
        _ownsKeys = ownsKeys;
        backend = SyncTelemetry.Observe(backend); // counts the objects and bytes moved (docs/observability.md)
        _sync = new SyncContext(backend, keys, options, deviceId, deviceName, logger);
        _store = new LocalMemoryStore(_sync.Home);
        _engine = new SyncEngine(_sync);
    }

    /// <summary>This device's id (changed by <see cref="RenameDeviceAsync"/>).</summary>
    public string DeviceId => _sync.DeviceId;

    /// <summary>This device's display name.</summary>
    public string DeviceName => _sync.DeviceName;

    /// <summary>The Ghostie home.</summary>
    public GhostieHome Home => _sync.Home;

    /// <summary>The local memory files.</summary>
    public LocalMemoryStore Memories => _store;

    /// <summary>The engine behind the public operations (HomeArchive runs its export and import through it).</summary>
    internal SyncEngine Engine => _engine;

    /// <summary>The repository's keys (owned by this manager when it opened them).</summary>
    public RepositoryKeys Keys => _sync.Keys;

    /// <summary>Test hook: called with the path of every file of the home about to be written by sync (memory,
    /// conflict, pending and state files); an exception it returns is thrown there, as a full disk would.</summary>
    internal Func<string, Exception?>? LocalWriteFault
    {
        get => _sync.LocalWriteFault;
        set => _sync.LocalWriteFault = value;
    }

    /// <summary>Test hook: every local version as it is committed.</summary>
    internal event Action<PackEntry>? LocalVersionCommitted
    {
        add => _sync.LocalVersionCommitted += value;
        remove => _sync.LocalVersionCommitted -= value;
    }

    /// <summary>Test hook: the versions not superseded, per memory, winner first.</summary>
    internal IReadOnlyDictionary<string, RecordState> RecordStates => _sync.State.Records;

    /// <summary>Creates a manager over an unlocked repository.</summary>
    /// <param name="backend">The repository's storage.</param>
    /// <param name="keys">The unlocked keys.</param>
    /// <param name="options">Home folder, pack sizes, clock.</param>
    /// <param name="deviceId">This device's id (as in memories' device_id).</param>
    /// <param name="deviceName">A display name for other devices; the id when null.</param>
    /// <param name="logger">Where events go; never receives secrets or memory content.</param>
    /// <param name="ownsKeys">Whether disposing the manager disposes <paramref name="keys"/>.</param>
    public static MemorySyncManager Create(IStorageBackend backend, RepositoryKeys keys, GhostieSyncOptions options, string deviceId,
        string? deviceName = null, ILogger? logger = null, bool ownsKeys = false)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(options);
        DeviceIdGuard.Validate(deviceId);
        return new MemorySyncManager(backend, keys, ownsKeys, options, deviceId, deviceName ?? deviceId, logger ?? NullLogger.Instance);
    }

    /// <summary>
    /// Sets up sync in a Ghostie home: unlocks the repository in <paramref name="backend"/> with the passphrase (or
    /// creates it when the backend holds nothing of the repository layout), caches the unlocked key on this device
    /// (0600), and writes <c>sync/config.json</c> and <c>sync/device_id</c>.
    /// </summary>
    /// <param name="backend">The repository's storage.</param>
    /// <param name="configuration">Backend type and non-secret settings; device id and name. The repository id is filled in.</param>
    /// <param name="passphrase">The repository passphrase. Never stored.</param>
    /// <param name="options">Home folder, pack sizes, clock.</param>
    /// <param name="keyOptions">Key derivation options; defaults when null.</param>
    /// <param name="logger">Where events go.</param>
    /// <param name="takeOverDeviceId">Set up even when another installation writes to the repository under this device
    /// id (default false: refused with <see cref="GhostieErrorCode.DeviceIdInUse"/>). Only for the same device set up
    /// again after its old home is gone for good: a home still using the id can no longer push or pull under it, and
    /// must then be given a new id (<see cref="RenameDeviceAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A manager that owns the unlocked keys.</returns>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.DeviceIdInUse"/> when the repository holds
    /// heads or packs of this device id written by another installation, unless <paramref name="takeOverDeviceId"/>.</exception>
    /// <exception cref="IncompleteRepositoryException">The backend holds objects of a repository (heads, packs, epochs, ...)
    /// but no key file; nothing was written or deleted.</exception>
    public static async Task<MemorySyncManager> SetupAsync(IStorageBackend backend, SyncConfiguration configuration, string passphrase, GhostieSyncOptions options,
        RepositoryKeyOptions? keyOptions = null, ILogger? logger = null, bool takeOverDeviceId = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        RepositoryKeys keys = await HomeSetup.SetupAsync(backend, configuration, passphrase, options, keyOptions, takeOverDeviceId, cancellationToken).ConfigureAwait(false);
        return CreateOwning(backend, keys, options, configuration.DeviceId, configuration.DeviceName, logger);
    }

    /// <summary>
    /// Opens the manager of a Ghostie home that was set up before: with the device's cached key, or, when there is
    /// none, with <paramref name="passphrase"/> (and caches the key for next time).
    /// </summary>
    /// <param name="backend">The repository's storage (as configured in <c>sync/config.json</c>).</param>
    /// <param name="options">Home folder, pack sizes, clock.</param>
    /// <param name="passphrase">Used only when no key is cached on this device.</param>
    /// <param name="keyOptions">Key derivation options; defaults when null.</param>
    /// <param name="logger">Where events go.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">Not set up (<see cref="GhostieErrorCode.NotConfigured"/>), or no cached key and no passphrase.</exception>
    public static async Task<MemorySyncManager> OpenAsync(IStorageBackend backend, GhostieSyncOptions options, string? passphrase = null,
        RepositoryKeyOptions? keyOptions = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        (RepositoryKeys keys, SyncConfiguration configuration) = await HomeSetup.OpenAsync(backend, options, passphrase, keyOptions, cancellationToken).ConfigureAwait(false);
        return CreateOwning(backend, keys, options, configuration.DeviceId, configuration.DeviceName, logger);
    }

    /// <summary>Uploads local changes.</summary>
    /// <param name="progress">Receives progress on long work.</param>
    /// <param name="cancellationToken">Cancels between steps; committed changes stay in the outbox.</param>
    public Task<SyncResult> PushAsync(IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        SyncTelemetry.RunAsync("push", () => _engine.RunAsync(push: true, pull: false, progress, cancellationToken));

    /// <summary>Downloads and applies other devices' changes (local changes are committed first, so none is overwritten).</summary>
    /// <param name="progress">Receives progress on long work.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    public Task<SyncResult> PullAsync(IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        SyncTelemetry.RunAsync("pull", () => _engine.RunAsync(push: false, pull: true, progress, cancellationToken));

    /// <summary>Pulls, then pushes.</summary>
    /// <param name="progress">Receives progress on long work.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    public Task<SyncResult> SyncAsync(IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        SyncTelemetry.RunAsync("sync", () => _engine.RunAsync(push: true, pull: true, progress, cancellationToken));

    /// <summary>The seed's status view, from local state (no network request).</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default) => _engine.GetStatusAsync(cancellationToken);

    /// <summary>
    /// Tells whether a push or pull has anything to do, without doing it: no lock is taken, nothing is committed,
    /// written or downloaded (except the heads that <see cref="SyncCheckScope.Estimate"/> reads). A scheduler calls it
    /// at every interval, so an idle repository costs one listing request and no write (see docs/background-sync.md).
    /// </summary>
    /// <param name="scope">How far to look: local files only, one listing of the repository's heads, or that listing
    /// plus the changed heads, to estimate how many bytes a pull would download.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>What a sync would find; counts of local changes follow <see cref="SyncStatus.PendingPush"/>.</returns>
    /// <exception cref="GhostieSyncException">The listing failed (for example <see cref="GhostieErrorCode.BackendUnavailable"/>).</exception>
    public Task<SyncCheck> CheckAsync(SyncCheckScope scope = SyncCheckScope.Listing, CancellationToken cancellationToken = default) =>
        _engine.CheckAsync(scope, cancellationToken);

    /// <summary>Lists the memories with concurrent versions awaiting resolution (from <c>sync/conflicts/</c>).</summary>
    public IReadOnlyList<ConflictInfo> ListConflicts() => _engine.ListConflicts();

    /// <summary>One conflict, or null if the memory is not in conflict.</summary>
    /// <param name="id">The memory id.</param>
    public ConflictInfo? GetConflict(string id) => _engine.GetConflict(id);

    /// <summary>
    /// Resolves a conflict with a new version that supersedes every concurrent one, so every device converges on the
    /// choice once it syncs. The choice is committed locally at once and uploaded by the next push.
    /// </summary>
    /// <param name="id">The memory id.</param>
    /// <param name="choice">Which version to keep.</param>
    /// <param name="merged">The record to keep when <paramref name="choice"/> is <see cref="ConflictChoice.Merged"/>.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The ids of the memories that now hold the kept content (several for <see cref="ConflictChoice.KeepBoth"/>).
    /// When the chosen version is a deletion, the memory is deleted and <paramref name="id"/> is not in the list (empty,
    /// or only the copies of <see cref="ConflictChoice.KeepBoth"/>).</returns>
    /// <exception cref="GhostieSyncException">No such conflict (<see cref="GhostieErrorCode.NotFound"/>), a bad merged
    /// record, or <see cref="ConflictChoice.KeepMine"/> on a device that wrote none of the versions
    /// (<see cref="GhostieErrorCode.InvalidArgument"/>); <see cref="GhostieErrorCode.LocalStorageFailure"/> when the
    /// home cannot be written.</exception>
    public Task<IReadOnlyList<string>> ResolveConflictAsync(string id, ConflictChoice choice, MemoryRecord? merged = null, CancellationToken cancellationToken = default) =>
        _engine.ResolveConflictAsync(id, choice, merged, cancellationToken);

    /// <summary>
    /// Gives this home a new device id, keeping its memories and every change not yet in the repository: for a home
    /// that finds another installation writing under its id (<see cref="GhostieErrorCode.DeviceIdInUse"/>), or to
    /// rename a device. Local changes are committed first; the versions this home committed but never pushed are made
    /// again under the new id (on top of what the repository holds, so they supersede it as they did before), and the
    /// next push uploads them under the new id's prefix. What this home pushed under the old id stays in the
    /// repository, where the installation now using that id carries it on. Sync settings (<c>sync/config.json</c>,
    /// <c>sync/device_id</c>) are updated. No request writes to the repository.
    /// </summary>
    /// <param name="newDeviceId">The new id (1 to 128 printable characters), not used in the repository yet.</param>
    /// <param name="newDeviceName">The new display name; the new id when null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.DeviceIdInUse"/> when the repository already
    /// holds heads or packs of <paramref name="newDeviceId"/> (nothing is changed); <see cref="GhostieErrorCode.InvalidArgument"/>
    /// for an invalid id or the current one.</exception>
    public Task RenameDeviceAsync(string newDeviceId, string? newDeviceName = null, CancellationToken cancellationToken = default) =>
        _engine.RenameDeviceAsync(newDeviceId, newDeviceName, cancellationToken);

    /// <summary>Disposes the keys if this manager owns them.</summary>
    public void Dispose()
    {
        _engine.Dispose();
        if (_ownsKeys)
        {
            _sync.Keys.Dispose();
        }
    }

    /// <summary>A manager that owns <paramref name="keys"/>, which are disposed if it cannot be created.</summary>
    private static MemorySyncManager CreateOwning(IStorageBackend backend, RepositoryKeys keys, GhostieSyncOptions options, string deviceId, string? deviceName, ILogger? logger)
    {
        try
        {
            return Create(backend, keys, options, deviceId, deviceName, logger, ownsKeys: true);
        }
        catch
        {
            keys.Dispose();
            throw;
        }
    }
}
