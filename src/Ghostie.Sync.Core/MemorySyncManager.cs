using System.Text;
using System.Text.Json;
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
    private readonly IStorageBackend _backend;
    private readonly RepositoryKeys _keys;
    private readonly bool _ownsKeys;
    private readonly GhostieHome _home;
    private readonly LocalMemoryStore _store;
    private readonly GhostieSyncOptions _options;
    private readonly ILogger _logger;
    private string _prefix; // changes only with RenameDeviceAsync
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SyncStateDocument _state;
    private readonly StringPool _strings = new();
    private readonly WriteBarrier _barrier = new();
    private (DateTime Written, long Length) _stateStamp;
    private (DateTime Written, long Length) _outboxStamp;
    private List<SyncProblem> _problems = [];
    private int _reads;
    private int _writes;

    private MemorySyncManager(IStorageBackend backend, RepositoryKeys keys, bool ownsKeys, GhostieSyncOptions options, string deviceId, string deviceName, ILogger logger)
    {
        _backend = SyncTelemetry.Observe(backend); // counts the objects and bytes moved (docs/observability.md)
        _keys = keys;
        _ownsKeys = ownsKeys;
        _options = options;
        _logger = logger;
        _home = new GhostieHome(options.Home);
        Directory.CreateDirectory(_home.ConflictsPath); // never memories/: a missing memories folder must stay missing (see commit)
        _store = new LocalMemoryStore(_home);
        DeviceId = deviceId;
        DeviceName = deviceName;
        _prefix = keys.DeriveObjectName("", "device-prefix", Encoding.UTF8.GetBytes(deviceId));
        _state = LoadState();
    }

    /// <summary>This device's id (changed by <see cref="RenameDeviceAsync"/>).</summary>
    public string DeviceId { get; private set; }

    /// <summary>This device's display name.</summary>
    public string DeviceName { get; private set; }

    /// <summary>The Ghostie home.</summary>
    public GhostieHome Home => _home;

    /// <summary>The local memory files.</summary>
    public LocalMemoryStore Memories => _store;

    /// <summary>The repository's keys (owned by this manager when it opened them).</summary>
    public RepositoryKeys Keys => _keys;

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
        ValidateDeviceId(deviceId);
        return new MemorySyncManager(backend, keys, ownsKeys, options, deviceId, deviceName ?? deviceId, logger ?? NullLogger.Instance);
    }

    /// <summary>Uploads local changes.</summary>
    /// <param name="progress">Receives progress on long work.</param>
    /// <param name="cancellationToken">Cancels between steps; committed changes stay in the outbox.</param>
    public Task<SyncResult> PushAsync(IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        SyncTelemetry.RunAsync("push", () => RunAsync(push: true, pull: false, progress, cancellationToken));

    /// <summary>Downloads and applies other devices' changes (local changes are committed first, so none is overwritten).</summary>
    /// <param name="progress">Receives progress on long work.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    public Task<SyncResult> PullAsync(IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        SyncTelemetry.RunAsync("pull", () => RunAsync(push: false, pull: true, progress, cancellationToken));

    /// <summary>Pulls, then pushes.</summary>
    /// <param name="progress">Receives progress on long work.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    public Task<SyncResult> SyncAsync(IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        SyncTelemetry.RunAsync("sync", () => RunAsync(push: true, pull: true, progress, cancellationToken));

    /// <summary>The seed's status view, from local state (no network request).</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ReloadStateIfChanged(); // also after a failed run, whose state in memory was discarded
            int local = Directory.Exists(_home.MemoriesPath)
                ? Directory.EnumerateFiles(_home.MemoriesPath, "*.json").Count(p => !Path.GetFileName(p).StartsWith('.'))
                : 0;

            // Not yet in the repository: memories with a version in the outbox, and memory files changed since sync
            // last saw them (a 'memory add' a moment ago, an edit, a deletion), which the next sync commits.
            var pending = ReadOutbox(_state.OutboxPushed).Select(l => l.Entry.Id).ToHashSet(StringComparer.Ordinal);
            pending.UnionWith(UncommittedChanges());
            var devices = new List<DeviceInfo> { new(DeviceId, DeviceName, true, _state.LastPush) };
            devices.AddRange(_state.Devices.Values.Where(d => d.DeviceId.Length > 0)
                .OrderBy(d => d.DeviceId, StringComparer.Ordinal)
                .Select(d => new DeviceInfo(d.DeviceId, d.DeviceName, false, d.LastSeen)));
            return new SyncStatus
            {
                Backend = _backend.DisplayName,
                DeviceId = DeviceId,
                RepositoryId = _keys.RepositoryId,
                LastSync = _state.LastSync,
                LocalCount = local,
                CloudCount = _state.Records.Values.Count(r => r.InRepository),
                PendingPush = pending.Count,
                ConflictCount = _state.Records.Values.Count(r => r.IsConflicted),
                KnownDevices = devices,
            };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Disposes the keys if this manager owns them.</summary>
    public void Dispose()
    {
        CloseWritten(stateSaved: false);
        if (_ownsKeys)
        {
            _keys.Dispose();
        }

        _gate.Dispose();
    }

    private async Task<SyncResult> RunAsync(bool push, bool pull, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return await RunCoreAsync(push, pull, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw LocalFailure(push && !pull ? "push" : pull && !push ? "pull" : "sync", ex);
        }
    }

    /// <summary>
    /// A failure of this device's own file system as the typed local error: the backends report theirs as
    /// <see cref="GhostieSyncException"/>s (and object reads that fail part-way are converted where they are read), so a
    /// raw <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> here comes from the Ghostie home.
    /// </summary>
    private GhostieSyncException LocalFailure(string operation, Exception ex)
    {
        const int Enospc = 28, Erofs = 30, Edquot = 122;
        const int WindowsDiskFull = unchecked((int)0x80070070), WindowsHandleDiskFull = unchecked((int)0x80070027);
        string why = ex switch
        {
            UnauthorizedAccessException => "permission denied (this user cannot write there): fix the ownership or permissions of the home",
            IOException { HResult: Enospc or Edquot or WindowsDiskFull or WindowsHandleDiskFull } => "the disk holding it is full (or over quota): free space on that disk",
            IOException { HResult: Erofs } => "it is on a read-only file system: remount it writable",
            _ => "a file system error: check the disk holding it",
        };
        return new GhostieSyncException(GhostieErrorCode.LocalStorageFailure,
            $"The {operation} could not write this device's Ghostie home {_home.Root}: {why}, then run it again. ({ex.Message}) " +
            "Nothing was lost: local changes stay in the memory files and the outbox, and what was already applied is kept.",
            isTransient: false, innerException: ex);
    }

    private async Task<SyncResult> RunCoreAsync(bool push, bool pull, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using LocalLock _ = LocalLock.Acquire(_home);
            ReloadStateIfChanged(); // another process may have synced this home since
            _problems = [];
            _reads = _writes = 0;
            int uploaded = 0, downloaded = 0, newConflicts = 0;
            CleanTemporaryFiles();

            // One listing serves the whole run: it shows whether this device's own head moved (checked before anything
            // is committed, so counters and outbox numbers continue from the real history) and what others wrote.
            Dictionary<string, List<string>> heads = await ListHeadsAsync(pull ? HeadPrefix : OwnHeadPrefix, cancellationToken).ConfigureAwait(false);
            List<string> ownHeads = heads.GetValueOrDefault(_prefix) ?? [];
            await CheckOwnHeadAsync(ownHeads, cancellationToken).ConfigureAwait(false);
            CommitLocalChanges(progress, ref newConflicts, save: false); // the outbox is durable; the state is saved below
            if (pull)
            {
                (downloaded, int conflicts) = await PullCoreAsync(heads, progress, cancellationToken).ConfigureAwait(false);
                newConflicts += conflicts;
                _state.LastPull = Now;
            }

            _state.LastSync = Now;
            bool saved = false;
            if (push)
            {
                (uploaded, saved) = await PushCoreAsync(ownHeads, progress, cancellationToken).ConfigureAwait(false);
            }
            else if (_state.OwnHead is not null && !ownHeads.Contains(_state.OwnHead))
            {
                Problem(GhostieErrorCode.Rollback, "this device",
                    $"This device's head '{_state.OwnHead}' (sequence {_state.OwnSeq}) is missing from storage: it was deleted or rolled back, so other devices cannot receive this device's history. Push to write it again; nothing was deleted here.");
            }

            if (!saved)
            {
                SaveState();
            }
            foreach (SyncProblem problem in _problems)
            {
                SyncLog.Problem(_logger, problem.Subject, problem.Message);
            }

            _succeeded = true;
            return new SyncResult
            {
                Uploaded = uploaded,
                Downloaded = downloaded,
                NewConflicts = newConflicts,
                ObjectsRead = _reads,
                ObjectsWritten = _writes,
                Problems = _problems.ToArray(),
            };
        }
        finally
        {
            DiscardStateUnlessSucceeded();
            _gate.Release();
        }
    }

    private bool _succeeded;

    /// <summary>
    /// After a failure part-way, the state in memory may be ahead of the state file (or behind the outbox): forget it,
    /// so the next operation reloads the file and replays the outbox, which are always consistent.
    /// </summary>
    private void DiscardStateUnlessSucceeded()
    {
        CloseWritten(stateSaved: false); // kept, if still there, for the replay when the state is loaded again
        if (!_succeeded)
        {
            _stateStamp = (DateTime.MinValue, -2);
            _outbox = null;
            _pendingStamps.Clear();
        }

        _succeeded = false;
    }

    private void CleanTemporaryFiles()
    {
        string folder = Path.Combine(_home.SyncPath, "tmp");
        if (Directory.Exists(folder))
        {
            foreach (string file in Directory.EnumerateFiles(folder))
            {
                File.Delete(file); // left by a crash: plaintext copies of packs must not linger
            }
        }

        // Temporary files of atomic writes (memory files, state, conflicts) that a killed process left behind. Memory
        // files are also written outside this lock (by hosts adding memories), so only old ones are taken.
        DateTimeOffset before = Now - AtomicFile.LeftoverAge;
        int removed = AtomicFile.SweepLeftovers(_home.MemoriesPath, before)
            + AtomicFile.SweepLeftovers(_home.SyncPath, before)
            + AtomicFile.SweepLeftovers(_home.ConflictsPath, before);
        if (removed > 0)
        {
            SyncLog.LeftoversRemoved(_logger, removed);
        }
    }

    /// <summary>
    /// Compares this device's own heads in storage with what the state knows. A newer own head means the state is
    /// behind its own history: a push that crashed after writing its head, a state that was lost or restored from a
    /// backup, or a reinstall under the same device id. The device's own packs are then applied first (files written
    /// where missing, never over a local file), so its counters and outbox continue from the real history; outbox
    /// lines the head already covers are dropped. A newer head written by another installation while this one was
    /// active means two devices share one id: an error, never a merge of two histories.
    /// </summary>
    private async Task CheckOwnHeadAsync(List<string> names, CancellationToken cancellationToken)
    {
        HeadDocument? best = null;
        string? bestName = null;
        foreach (string name in names.Where(n => n != _state.OwnHead))
        {
            HeadDocument? head = await ReadHeadAsync(name, cancellationToken).ConfigureAwait(false);
            if (head is not null && (best is null || head.Seq > best.Seq))
            {
                (best, bestName) = (head, name);
            }
        }

        if (best is not null && best.Seq > _state.OwnSeq)
        {
            if (best.Installation != _state.Installation && _state.OwnLogChecked)
            {
                throw new GhostieSyncException(GhostieErrorCode.DeviceIdInUse,
                    $"Another installation (another Ghostie home) is writing to the repository as device '{DeviceId}' (its head '{bestName}' has sequence {best.Seq}, newer than this home's {_state.OwnSeq}), so this home can no longer push or pull as '{DeviceId}'. " +
                    "Give this home a new device id with RenameDeviceAsync (the CLI: 'ghostie sync rename-device <new-id>'): its memories and the changes it has not pushed are kept, and the next push uploads them under the new id. Nothing was changed.");
            }

            var pushed = new HashSet<string>(StringComparer.Ordinal);
            _recovering = true; // local files that differ are this device's own edits: kept, and not reported
            try
            {
                foreach (PackRef pack in best.Packs)
                {
                    await foreach (PackEntry entry in ReadPackAsync(pack, cancellationToken).ConfigureAwait(false))
                    {
                        ApplyVersion(entry, local: false, writeFiles: true);
                        pushed.Add(VersionKey(entry));
                    }
                }
            }
            finally
            {
                _recovering = false;
            }

            (_state.OwnSeq, _state.OwnHead, _state.OwnPacks, _state.Retired) = (best.Seq, bestName, best.Packs, best.Retired);
            List<OutboxLine> pending = ReadOutbox(_state.OutboxPushed);
            if (pending.Any(l => pushed.Contains(VersionKey(l.Entry))))
            {
                pending = pending.Where(l => !pushed.Contains(VersionKey(l.Entry))).ToList();
                RewriteOutbox(pending);
                var unpushed = pending.Select(l => l.Entry.Id).ToHashSet(StringComparer.Ordinal);
                foreach ((string id, RecordState record) in _state.Records)
                {
                    if (!unpushed.Contains(id))
                    {
                        record.Confirmed = null; // its local versions were in the repository after all
                    }
                }
            }

            SyncLog.RecoveredOwnHead(_logger, best.Seq);
        }

        _state.OwnLogChecked = true;
    }

    private static string VersionKey(PackEntry entry) =>
        entry.Id + "|" + string.Join(",", entry.VersionVector.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + ":" + v.Value));

    private bool _recovering;

    private DateTimeOffset Now => _options.TimeProvider.GetUtcNow();

    private Hlc Clock
    {
        get => new(_state.HlcWallMs, _state.HlcCounter);
        set => (_state.HlcWallMs, _state.HlcCounter) = (value.WallMs, value.Counter);
    }

    private Hlc NextClock() => Clock = Hlc.Tick(Clock, Now.ToUnixTimeMilliseconds());

    private void Problem(GhostieErrorCode code, string subject, string message) => _problems.Add(new SyncProblem(code, subject, message));

    // ---- local state and outbox -------------------------------------------------------------------------------

    private SyncStateDocument LoadState()
    {
        _outbox = null; // another process may have written it
        SyncStateDocument state;
        if (File.Exists(_home.StatePath))
        {
            byte[] json = File.ReadAllBytes(_home.StatePath);
            if (FormatPeek.Read(json) is long format && format > 1)
            {
                // Written by a newer Ghostie.Sync: reading it with this version's meaning, then saving it back as
                // format 1, would lose what the newer version recorded.
                throw new UnsupportedFormatException($"Sync state file '{_home.StatePath}'", (int)Math.Min(format, int.MaxValue), 1);
            }

            try
            {
                state = JsonSerializer.Deserialize(json, CoreJson.Default.SyncStateDocument) ?? throw new JsonException("null");
            }
            catch (JsonException ex)
            {
                throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                    $"{_home.StatePath} is unreadable ({ex.Message}). Move it aside and pull again to rebuild it from the repository.", innerException: ex);
            }

            if (state.RepositoryId.Length > 0 && state.RepositoryId != _keys.RepositoryId)
            {
                throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                    $"{_home.Root} syncs with repository {state.RepositoryId}, not {_keys.RepositoryId}. Use another Ghostie home for this repository.");
            }
        }
        else
        {
            state = new SyncStateDocument();
        }

        if (state.Installation.Length == 0)
        {
            state.Installation = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        }

        _strings.Intern(state);
        _stateStamp = StampOf(_home.StatePath);
        _outboxStamp = StampOf(_home.OutboxPath);
        state.RepositoryId = _keys.RepositoryId;
        state.DeviceId = DeviceId;
        state.DevicePrefix = _prefix;

        // Versions appended to the outbox but not yet reflected in the state (a crash between the two writes).
        foreach (OutboxLine line in ReadOutbox(state.OutboxApplied))
        {
            _state = state;
            ApplyVersion(line.Entry, local: true, writeFiles: false);
            state.OutboxApplied = line.Seq;
            Hlc clock = Hlc.Observe(new Hlc(state.HlcWallMs, state.HlcCounter), new Hlc(line.Entry.WallMs, line.Entry.Counter));
            (state.HlcWallMs, state.HlcCounter) = (clock.WallMs, clock.Counter);
        }

        // Memory files a pull wrote or deleted after the state was last saved (it was killed before its checkpoint).
        ReplayWritten(state);
        return state;
    }

    /// <summary>Test hook: called with the path of every file of the home about to be written by sync (memory,
    /// conflict, pending and state files); an exception it returns is thrown there, as a full disk would.</summary>
    internal Func<string, Exception?>? LocalWriteFault { get; set; }

    /// <summary>Writes a file of the home atomically (see <see cref="AtomicFile.Write"/>).</summary>
    private void WriteLocal(string path, ReadOnlySpan<byte> content, WriteBarrier? deferFlushTo = null)
    {
        if (LocalWriteFault?.Invoke(path) is { } fault)
        {
            throw fault;
        }

        AtomicFile.Write(path, content, deferFlushTo: deferFlushTo);
    }

    /// <summary>Saves the state, after making every memory and conflict file it describes durable.</summary>
    private void SaveState()
    {
        if (LocalWriteFault?.Invoke(_home.StatePath) is { } fault)
        {
            throw fault;
        }

        _barrier.Flush(Path.Combine(_home.SyncPath, ".barrier"));
        AtomicFile.WriteAsync(_home.StatePath, s => JsonSerializer.SerializeAsync(s, _state, CoreJson.Default.SyncStateDocument)).GetAwaiter().GetResult();
        CloseWritten(stateSaved: true); // the state now records every file sync/written.jsonl names
        _stateStamp = StampOf(_home.StatePath);
        _outboxStamp = StampOf(_home.OutboxPath);
    }

    private static (DateTime, long) StampOf(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (default, -1);
    }

    /// <summary>Reloads the state only if another process changed it since this one last read or wrote it.</summary>
    private void ReloadStateIfChanged()
    {
        if (StampOf(_home.StatePath) != _stateStamp || StampOf(_home.OutboxPath) != _outboxStamp)
        {
            _state = LoadState();
        }
    }

    /// <summary>The outbox lines with a sequence number above <paramref name="after"/>. The file is parsed once and
    /// then kept in memory while this process holds the home (it is the only writer then).</summary>
    private List<OutboxLine> ReadOutbox(long after)
    {
        _outbox ??= ParseOutbox();
        return after <= 0 ? [.. _outbox] : _outbox.Where(l => l.Seq > after).ToList();
    }

    private List<OutboxLine>? _outbox;

    private List<OutboxLine> ParseOutbox()
    {
        var lines = new List<OutboxLine>();
        if (!File.Exists(_home.OutboxPath))
        {
            return lines;
        }

        foreach (string text in File.ReadLines(_home.OutboxPath))
        {
            if (text.Length == 0)
            {
                continue;
            }

            try
            {
                OutboxLine? line = JsonSerializer.Deserialize(text, CoreJson.Default.OutboxLine);
                if (line is not null)
                {
                    lines.Add(line);
                }
            }
            catch (JsonException)
            {
                // A line torn by a crash while appending: its version was never reflected in the state, and the
                // change is still in the memory file, so the next commit makes it again.
            }
        }

        return lines;
    }

    private static OutboxLine? TryParseOutboxLine(ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, CoreJson.Default.OutboxLine);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void AppendOutbox(List<PackEntry> entries)
    {
        List<OutboxLine> existing = ReadOutbox(0);
        long seq = Math.Max(Math.Max(_state.OutboxApplied, _state.OutboxPushed), existing.Count > 0 ? existing.Max(l => l.Seq) : 0);
        var lines = entries.Select(e => new OutboxLine { Seq = ++seq, Entry = e, EntryJson = e.ToJson() }).ToList();
        using (var stream = new FileStream(_home.OutboxPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            // A line torn by a crash mid-append would swallow the next one: cut the file back to its last newline,
            // unless the tail is a complete line that only lacks its newline (it was parsed and replayed: keep it).
            long end = stream.Length;
            while (end > 0)
            {
                stream.Position = end - 1;
                if (stream.ReadByte() == '\n')
                {
                    break;
                }

                end--;
            }

            if (end < stream.Length)
            {
                var tail = new byte[stream.Length - end];
                stream.Position = end;
                stream.ReadExactly(tail);
                if (TryParseOutboxLine(tail) is not null)
                {
                    stream.Position = stream.Length;
                    stream.WriteByte((byte)'\n');
                    end = stream.Length;
                }
            }

            stream.SetLength(end);
            stream.Position = end;
            foreach (OutboxLine line in lines)
            {
                // Same bytes as serializing the OutboxLine, with the entry serialized once for outbox and pack.
                stream.Write("{\"n\":"u8);
                stream.Write(System.Text.Encoding.ASCII.GetBytes(line.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                stream.Write(",\"e\":"u8);
                stream.Write(line.EntryJson);
                stream.Write("}\n"u8);
            }

            stream.Flush(flushToDisk: true);
        }

        _outbox!.AddRange(lines);
        _outboxStamp = StampOf(_home.OutboxPath); // our own write: no reason to reload
        _state.OutboxApplied = seq;
        foreach (PackEntry entry in entries)
        {
            LocalVersionCommitted?.Invoke(entry);
        }
    }

    /// <summary>Test hook: every local version as it is committed.</summary>
    internal event Action<PackEntry>? LocalVersionCommitted;

    /// <summary>Test hook: the versions not superseded, per memory, winner first.</summary>
    internal IReadOnlyDictionary<string, RecordState> RecordStates => _state.Records;

    private void TrimOutbox(long through) => RewriteOutbox(ReadOutbox(through));

    private void RewriteOutbox(List<OutboxLine> rest)
    {
        _outbox = rest;
        if (rest.Count == 0)
        {
            File.Delete(_home.OutboxPath);
            _outboxStamp = StampOf(_home.OutboxPath);
            return;
        }

        using var buffer = new MemoryStream();
        foreach (OutboxLine line in rest)
        {
            JsonSerializer.Serialize(buffer, line, CoreJson.Default.OutboxLine);
            buffer.WriteByte((byte)'\n');
        }

        AtomicFile.Write(_home.OutboxPath, buffer.ToArray());
        _outboxStamp = StampOf(_home.OutboxPath);
    }

    // ---- committing local changes -----------------------------------------------------------------------------

    private void CommitLocalChanges(IProgress<SyncProgress>? progress, ref int newConflicts, bool save = true)
    {
        if (!Directory.Exists(_home.MemoriesPath) && _state.Records.Values.Any(r => r.Versions.Count > 0 && !r.Winner.Deleted && r.FileSize >= 0))
        {
            // Never read a missing folder as "every memory was deleted".
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"The memories folder {_home.MemoriesPath} is missing although this device holds memories. Restore it (is the disk mounted?) and sync again; nothing was changed.");
        }

        var entries = new List<PackEntry>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        var changed = new List<FileInfo>();
        long scanned = 0;
        if (Directory.Exists(_home.MemoriesPath))
        {
            foreach (FileInfo file in new DirectoryInfo(_home.MemoriesPath).EnumerateFiles("*.json"))
            {
                if (file.Name.StartsWith('.'))
                {
                    continue;
                }

                string id = Path.GetFileNameWithoutExtension(file.Name);
                present.Add(id);
                if (++scanned % 1000 == 0)
                {
                    progress?.Report(new SyncProgress("scan", scanned, -1));
                }

                if (_state.Records.TryGetValue(id, out RecordState? known) && known.FileTicks == file.LastWriteTimeUtc.Ticks && known.FileSize == file.Length)
                {
                    continue; // unchanged since we last read or wrote it: never re-read
                }

                changed.Add(file);
            }
        }

        // Reading, parsing and hashing the changed files is the costly part of a first push: spread it over the cores.
        changed.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var read = new (LocalMemoryFile File, string? Hash, byte[]? Json)[changed.Count];
        Parallel.For(0, changed.Count, i =>
        {
            LocalMemoryFile file = LocalMemoryStore.Read(changed[i]);
            (string? hash, byte[]? json) = file.Record is null ? (null, null) : LocalMemoryStore.Canonical(file.Record);
            read[i] = (file, hash, json);
        });

        foreach ((LocalMemoryFile local, string? contentHash, byte[]? canonical) in read)
        {
            string id = local.Id;
            _state.Records.TryGetValue(id, out RecordState? known);
            if (local.Record is null)
            {
                Problem(GhostieErrorCode.MalformedLocalFile, local.Path, $"{local.Path} is not a valid memory ({local.Problem}); it was skipped and left untouched. Fix or remove it.");
                continue;
            }

            string hash = contentHash!;
            // Touched or rewritten with the same content as the current version (or as the version the file showed).
            VersionInfo? shown = known is { Versions.Count: > 0 } && !known.Winner.Deleted && known.Winner.Hash == hash
                ? known.Winner
                : known?.Versions.FirstOrDefault(v => !v.Deleted && v.Hash == hash && known.FileVector is { } fv && Vectors.Compare(fv, v.VersionVector) == Causality.Equal);
            if (shown is not null)
            {
                (known!.FileTicks, known.FileSize, known.FileVector) = (local.LastWriteTicks, local.Size, shown.VersionVector);
                continue;
            }

            if (local.Record.SyncMetadata?.SyncHash == hash && known is not { Versions.Count: > 0 })
            {
                // Written by sync and not edited since, but of a version this state does not know: a pull that was
                // interrupted before it saved the state. Not a local edit; the next pull records or replaces it.
                continue;
            }

            // A local edit: it follows the version the file was showing (not necessarily the current winner, if
            // sync could not update the file), so a remote version the user never saw is never superseded.
            VersionVector baseline = Baseline(known, known?.FileVector);
            entries.Add(NewLocalEntry(id, baseline, deleted: false, hash, local.Record with { SyncMetadata = null }, canonical));
            _pendingStamps[id] = (local.LastWriteTicks, local.Size);
        }

        foreach ((string id, RecordState known) in _state.Records)
        {
            // Only a file sync saw (wrote or read) can have been deleted by the user; a version whose file was never
            // written here (recovered from the repository, or refused) is not a deletion.
            if (known.Versions.Count > 0 && !known.Winner.Deleted && !present.Contains(id) && known.FileSize >= 0)
            {
                VersionVector baseline = Baseline(known, known.FileVector ?? known.Winner.VersionVector);
                entries.Add(NewLocalEntry(id, baseline, deleted: true, "deleted", null));
                _pendingStamps[id] = (0, -1);
            }
        }

        if (entries.Count == 0)
        {
            return;
        }

        AppendOutbox(entries); // durable first: a crash from here on replays the outbox into the state
        foreach (PackEntry entry in entries)
        {
            newConflicts += ApplyVersion(entry, local: true, writeFiles: true);
        }

        _pendingStamps.Clear();
        if (save)
        {
            SaveState();
        }

        SyncLog.Committed(_logger, entries.Count);
    }

    /// <summary>
    /// The ids of the memories whose file changed since sync last saw it, as <see cref="CommitLocalChanges"/> would
    /// commit them, without committing anything: new and edited valid files (not a touch that kept the content) and
    /// deleted files. Malformed files are not counted (they are never pushed; sync reports them).
    /// </summary>
    private HashSet<string> UncommittedChanges()
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(_home.MemoriesPath))
        {
            return changed; // a missing folder is not a deletion (sync refuses to commit it)
        }

        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (FileInfo file in new DirectoryInfo(_home.MemoriesPath).EnumerateFiles("*.json"))
        {
            if (file.Name.StartsWith('.'))
            {
                continue;
            }

            string id = Path.GetFileNameWithoutExtension(file.Name);
            present.Add(id);
            _state.Records.TryGetValue(id, out RecordState? known);
            if (known is not null && known.FileTicks == file.LastWriteTimeUtc.Ticks && known.FileSize == file.Length)
            {
                continue;
            }

            LocalMemoryFile local = LocalMemoryStore.Read(file);
            if (local.Record is null)
            {
                continue;
            }

            string hash = LocalMemoryStore.ContentHash(local.Record);
            // The same tests as the commit's: the file shows a version sync knows, or is sync's own unedited output.
            bool shown = known is { Versions.Count: > 0 } && ((!known.Winner.Deleted && known.Winner.Hash == hash)
                || known.Versions.Any(v => !v.Deleted && v.Hash == hash && known.FileVector is { } fv && Vectors.Compare(fv, v.VersionVector) == Causality.Equal));
            bool syncOutput = local.Record.SyncMetadata?.SyncHash == hash && known is not { Versions.Count: > 0 };
            if (!shown && !syncOutput)
            {
                changed.Add(id);
            }
        }

        foreach ((string id, RecordState known) in _state.Records)
        {
            if (known.Versions.Count > 0 && !known.Winner.Deleted && !present.Contains(id) && known.FileSize >= 0)
            {
                changed.Add(id);
            }
        }

        return changed;
    }

    /// <summary>
    /// What a local edit follows: the version the file shows and every surviving version of the same content (made
    /// concurrently elsewhere, such as the same resolution on another device), so the edit supersedes them all and
    /// equal versions never turn into a conflict with it.
    /// </summary>
    private static VersionVector Baseline(RecordState? known, Dictionary<string, long>? fileVector)
    {
        if (fileVector is null)
        {
            return VersionVector.Empty;
        }

        VersionVector baseline = VersionVector.From(fileVector);
        VersionInfo? shown = known?.Versions.FirstOrDefault(v => Vectors.Compare(fileVector, v.VersionVector) == Causality.Equal);
        foreach (VersionInfo same in known?.Versions.Where(v => shown is not null && v.Hash == shown.Hash) ?? [])
        {
            baseline = baseline.Merge(same.Vector);
        }

        return baseline;
    }

    private readonly Dictionary<string, (long Ticks, long Size)> _pendingStamps = new(StringComparer.Ordinal);

    private PackEntry NewLocalEntry(string id, VersionVector baseline, bool deleted, string hash, MemoryRecord? record, byte[]? recordJson = null)
    {
        Hlc clock = NextClock();

        // This device's counter must never repeat for one memory: two different versions with the same vector
        // would look identical and one of them would be dropped. So it continues from the highest counter of this
        // device in any surviving version, not only in the baseline.
        // A new version of ours also follows every surviving version this device made itself (it has seen them),
        // so this device's own log never holds two concurrent versions of one memory (compaction relies on it).
        _state.Records.TryGetValue(id, out RecordState? known);
        long own = baseline[DeviceId];
        foreach (VersionInfo version in known?.Versions ?? [])
        {
            if (version.Origin == DeviceId)
            {
                baseline = baseline.Merge(version.Vector);
            }

            own = Math.Max(own, version.VersionVector.GetValueOrDefault(DeviceId));
        }

        var vector = new Dictionary<string, long>(baseline.Counters, StringComparer.Ordinal) { [DeviceId] = own + 1 };
        return new PackEntry
        {
            Id = id,
            VersionVector = vector,
            WallMs = clock.WallMs,
            Counter = clock.Counter,
            Origin = DeviceId,
            Deleted = deleted,
            Hash = hash,
            Record = record,
            RecordJson = recordJson,
        };
    }
}
