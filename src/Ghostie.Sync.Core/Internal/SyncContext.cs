using System.Text;
using Ghostie.Sync.Crypto;
using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Internal;

/// <summary>
/// What one <see cref="MemorySyncManager"/> and the internal types doing its work share: the repository and its keys,
/// the home with its state, outbox and written-files journal, this device's identity, the hybrid logical clock, and
/// the problems and request counts of the operation under way. One per manager; used under the manager's gate only.
/// </summary>
internal sealed class SyncContext
{
    public SyncContext(IStorageBackend backend, RepositoryKeys keys, GhostieSyncOptions options, string deviceId, string deviceName, ILogger logger)
    {
        Backend = backend;
        Keys = keys;
        Options = options;
        Logger = logger;
        Home = new GhostieHome(options.Home);
        Outbox = new Outbox(Home.OutboxPath);
        StateFile = new SyncStateStore(Home);
        Journal = new WrittenJournal(Home);
        DeviceId = deviceId;
        DeviceName = deviceName;
        Prefix = PrefixOf(keys, deviceId);
    }

    public IStorageBackend Backend { get; }

    public RepositoryKeys Keys { get; }

    public GhostieSyncOptions Options { get; }

    public ILogger Logger { get; }

    public GhostieHome Home { get; }

    /// <summary><c>sync/outbox.jsonl</c>: local versions not yet pushed.</summary>
    public Outbox Outbox { get; }

    /// <summary><c>sync/sync_state.json</c>.</summary>
    public SyncStateStore StateFile { get; }

    /// <summary><c>sync/written.jsonl</c>: memory files written since the state was last saved.</summary>
    public WrittenJournal Journal { get; }

    public StringPool Strings { get; } = new();

    /// <summary>Memory and conflict files written without an fsync, made durable together before the state is saved.</summary>
    public WriteBarrier Barrier { get; } = new();

    /// <summary>This device's id (changed by a rename).</summary>
    public string DeviceId { get; set; }

    public string DeviceName { get; set; }

    /// <summary>This device's prefix under <c>h/</c> and <c>p/</c> (a keyed hash of its id; changes only with a rename).</summary>
    public string Prefix { get; set; }

    public string OwnHeadPrefix => RepositoryLayout.HeadPrefix + Prefix + "/";

    public string OwnPackPrefix => RepositoryLayout.PackPrefix + Prefix + "/";

    /// <summary>The state in memory; ahead of <c>sync/sync_state.json</c> until the next checkpoint.</summary>
    public SyncStateDocument State { get; set; } = new();

    /// <summary>What the operation under way reports without failing.</summary>
    public List<SyncProblem> Problems { get; private set; } = [];

    /// <summary>Repository requests of the operation under way (for <see cref="SyncResult"/> and <see cref="SyncCheck"/>).</summary>
    public int Reads { get; set; }

    public int Writes { get; set; }

    /// <summary>The file stamps of local versions committed now, applied with them (see <see cref="VersionApplier"/>).</summary>
    public Dictionary<string, (FileStat Stat, DateTime SeenAt)> PendingStamps { get; } = new(StringComparer.Ordinal);

    /// <summary>While this device's own history is applied after its state was lost: local files that differ are
    /// this device's own edits, kept and not reported.</summary>
    public bool Recovering { get; set; }

    /// <summary>Test hook: see <see cref="MemorySyncManager.LocalWriteFault"/>.</summary>
    public Func<string, Exception?>? LocalWriteFault { get; set; }

    /// <summary>Test hook: see <see cref="MemorySyncManager.LocalVersionCommitted"/>.</summary>
    public Action<PackEntry>? LocalVersionCommitted { get; set; }

    public DateTimeOffset Now => Options.TimeProvider.GetUtcNow();

    public Hlc Clock
    {
        get => new(State.HlcWallMs, State.HlcCounter);
        set => (State.HlcWallMs, State.HlcCounter) = (value.WallMs, value.Counter);
    }

    public Hlc NextClock() => Clock = Hlc.Tick(Clock, Now.ToUnixTimeMilliseconds());

    public void ResetProblems() => Problems = [];

    public void Problem(GhostieErrorCode code, string subject, string message) => Problems.Add(new SyncProblem(code, subject, message));

    /// <summary>The device prefix of a device id (cached, since vectors name the same few devices).</summary>
    public string PrefixOf(string deviceId)
    {
        if (!_prefixes.TryGetValue(deviceId, out string? prefix))
        {
            prefix = PrefixOf(Keys, deviceId);
            _prefixes[deviceId] = prefix;
        }

        return prefix;
    }

    private readonly Dictionary<string, string> _prefixes = new(StringComparer.Ordinal);

    public static string PrefixOf(RepositoryKeys keys, string deviceId) => keys.DeriveObjectName("", "device-prefix", Encoding.UTF8.GetBytes(deviceId));

    /// <summary>Writes a file of the home atomically (see <see cref="AtomicFile.Write"/>).</summary>
    public void WriteLocal(string path, ReadOnlySpan<byte> content, WriteBarrier? deferFlushTo = null)
    {
        if (LocalWriteFault?.Invoke(path) is { } fault)
        {
            throw fault;
        }

        AtomicFile.Write(path, content, deferFlushTo: deferFlushTo);
    }

    /// <summary>Saves the state, after making every memory and conflict file it describes durable.</summary>
    public void SaveState()
    {
        if (LocalWriteFault?.Invoke(Home.StatePath) is { } fault)
        {
            throw fault;
        }

        using (SyncProfile.Time("save-state-barrier"))
        {
            Barrier.Flush(Path.Combine(Home.SyncPath, ".barrier"));
        }

        using (SyncProfile.Time("save-state-write"))
        {
            StateFile.Write(State);
        }

        Journal.Close(stateSaved: true); // the state now records every file sync/written.jsonl names
        StateFile.MarkSeen();
        Outbox.MarkSeen();
    }

    /// <summary>Appends local versions to the outbox (durably) and records them as applied to the state.</summary>
    public void AppendToOutbox(List<PackEntry> entries)
    {
        State.OutboxApplied = Outbox.Append(entries, Math.Max(State.OutboxApplied, State.OutboxPushed));
        foreach (PackEntry entry in entries)
        {
            LocalVersionCommitted?.Invoke(entry);
        }
    }
}
