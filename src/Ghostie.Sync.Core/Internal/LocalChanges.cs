namespace Ghostie.Sync.Internal;

/// <summary>
/// Commits local changes: new, edited and deleted memory files become new versions of this device, appended to the
/// outbox (durably) before the state records them (docs/sync-protocol.md, "On the device"). Unchanged files
/// (the same stamp as when sync last read or wrote them) are never read again.
/// </summary>
internal sealed class LocalChanges
{
    private readonly SyncContext _sync;
    private readonly VersionApplier _applier;

    public LocalChanges(SyncContext sync, VersionApplier applier) => (_sync, _applier) = (sync, applier);

    private GhostieHome Home => _sync.Home;

    private SyncStateDocument State => _sync.State;

    /// <summary>Commits every local change; <paramref name="save"/> saves the state after (the outbox is durable either way).</summary>
    /// <returns>How many memories this made newly conflicted.</returns>
    public int Commit(IProgress<SyncProgress>? progress, bool save = true)
    {
        if (!Directory.Exists(Home.MemoriesPath) && State.Records.Values.Any(r => r.Versions.Count > 0 && !r.Winner.Deleted && r.FileSize >= 0))
        {
            // Never read a missing folder as "every memory was deleted".
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"The memories folder {Home.MemoriesPath} is missing although this device holds memories. Restore it (is the disk mounted?) and sync again; nothing was changed.");
        }

        SyncProfile.Phase scanning = SyncProfile.Time("commit-scan");
        (HashSet<string> present, List<(string Path, FileStat Stat)> changed, DateTime seenAt) = ScanMemoryFolder(progress);
        scanning.Dispose();
        var entries = new List<PackEntry>();
        SyncProfile.Phase reading = SyncProfile.Time("commit-read-parse-hash");
        var read = ReadChanged(changed);
        reading.Dispose();
        for (int i = 0; i < read.Length; i++)
        {
            (LocalMemoryFile local, string? contentHash, byte[]? canonical) = read[i];
            if (EntryForFile(local, changed[i].Stat, seenAt, contentHash, canonical) is { } entry)
            {
                entries.Add(entry);
            }
        }

        entries.AddRange(DeletionEntries(present));
        if (entries.Count == 0)
        {
            return 0;
        }

        SyncProfile.Phase appending = SyncProfile.Time("commit-outbox-append");
        _sync.AppendToOutbox(entries); // durable first: a crash from here on replays the outbox into the state
        appending.Dispose();
        int newConflicts = 0;
        SyncProfile.Phase applying = SyncProfile.Time("commit-apply");
        foreach (PackEntry entry in entries)
        {
            newConflicts += _applier.Apply(entry, local: true, writeFiles: true);
        }

        applying.Dispose();

        _sync.PendingStamps.Clear();
        if (save)
        {
            _sync.SaveState();
        }

        SyncLog.Committed(_sync.Logger, entries.Count);
        return newConflicts;
    }

    /// <summary>
    /// The ids of the memories whose file changed since sync last saw it, as <see cref="Commit"/> would commit them,
    /// without committing anything: new and edited valid files (not a touch that kept the content) and deleted files.
    /// Malformed files are not counted (they are never pushed; sync reports them).
    /// </summary>
    public HashSet<string> Uncommitted()
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        PresentCount = 0;
        if (!Directory.Exists(Home.MemoriesPath))
        {
            return changed; // a missing folder is not a deletion (sync refuses to commit it)
        }

        (HashSet<string> present, List<(string Path, FileStat Stat)> files, _) = ScanMemoryFolder(progress: null);
        PresentCount = present.Count;
        foreach ((string path, FileStat stat) in files)
        {
            string id = Path.GetFileNameWithoutExtension(path);
            LocalMemoryFile local = LocalMemoryStore.Read(path, stat.WriteTicks, stat.Size);
            if (local.Record is null)
            {
                continue;
            }

            State.Records.TryGetValue(id, out RecordState? known);
            string hash = LocalMemoryStore.ContentHash(local.Record);
            // The same tests as the commit's: the file shows a version sync knows, or is sync's own unedited output.
            bool syncOutput = SyncOutputOfAnUnknownVersion(local.Record, hash, known);
            if (ShownVersion(known, hash) is null && !syncOutput)
            {
                changed.Add(id);
            }
        }

        changed.UnionWith(DeletedIds(present));
        return changed;
    }

    /// <summary>How many memory files the last <see cref="Uncommitted"/> saw (status counts them from the same listing).</summary>
    public int PresentCount { get; private set; }

    /// <summary>A new version of this device of memory <paramref name="id"/>, following <paramref name="baseline"/>.</summary>
    public PackEntry NewLocalEntry(string id, VersionVector baseline, bool deleted, string hash, MemoryRecord? record, byte[]? recordJson = null)
    {
        Hlc clock = _sync.NextClock();
        string deviceId = _sync.DeviceId;

        // This device's counter must never repeat for one memory: two different versions with the same vector
        // would look identical and one of them would be dropped. So it continues from the highest counter of this
        // device in any surviving version, not only in the baseline.
        // A new version of ours also follows every surviving version this device made itself (it has seen them),
        // so this device's own log never holds two concurrent versions of one memory (compaction relies on it).
        State.Records.TryGetValue(id, out RecordState? known);
        long own = baseline[deviceId];
        foreach (VersionInfo version in known?.Versions ?? [])
        {
            if (version.Origin == deviceId)
            {
                baseline = baseline.Merge(version.Vector);
            }

            own = Math.Max(own, version.VersionVector.GetValueOrDefault(deviceId));
        }

        var vector = new Dictionary<string, long>(baseline.Counters, StringComparer.Ordinal) { [deviceId] = own + 1 };
        return new PackEntry
        {
            Id = id,
            VersionVector = vector,
            WallMs = clock.WallMs,
            Counter = clock.Counter,
            Origin = deviceId,
            Deleted = deleted,
            Hash = hash,
            Record = record,
            RecordJson = recordJson,
        };
    }

    /// <summary>The ids of the memory files present, and the files changed since sync last read or wrote them (with
    /// the stamp taken before they are read), and when the scan began (for <see cref="FileStat.IsRacy"/>). One
    /// <c>statx</c> per file; no file is opened.</summary>
    private (HashSet<string> Present, List<(string Path, FileStat Stat)> Changed, DateTime SeenAt) ScanMemoryFolder(IProgress<SyncProgress>? progress)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        var changed = new List<(string, FileStat)>();
        DateTime seenAt = DateTime.UtcNow; // before any stat: a stamp is never judged against a later moment than its own
        long scanned = 0;
        if (!Directory.Exists(Home.MemoriesPath))
        {
            return (present, changed, seenAt);
        }

        foreach (string path in Directory.EnumerateFiles(Home.MemoriesPath, "*.json"))
        {
            string name = Path.GetFileName(path);
            if (name.StartsWith('.'))
            {
                continue;
            }

            string id = Path.GetFileNameWithoutExtension(name);
            present.Add(id);
            if (++scanned % 1000 == 0)
            {
                progress?.Report(new SyncProgress("scan", scanned, -1));
            }

            FileStat stat = FileStat.Of(path);
            if (!stat.Exists)
            {
                present.Remove(id); // deleted between the listing and the stat
                continue;
            }

            if (State.Records.TryGetValue(id, out RecordState? known) && known.Unchanged(stat))
            {
                continue; // unchanged since we last read or wrote it (and the stamp is not racy): never re-read
            }

            changed.Add((path, stat));
        }

        return (present, changed, seenAt);
    }

    /// <summary>Reading, parsing and hashing the changed files is the costly part of a first push: spread over the cores.</summary>
    private static (LocalMemoryFile File, string? Hash, byte[]? Json)[] ReadChanged(List<(string Path, FileStat Stat)> changed)
    {
        changed.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var read = new (LocalMemoryFile File, string? Hash, byte[]? Json)[changed.Count];
        Parallel.For(0, changed.Count, i =>
        {
            LocalMemoryFile file = LocalMemoryStore.Read(changed[i].Path, changed[i].Stat.WriteTicks, changed[i].Stat.Size);
            (string? hash, byte[]? json) = file.Record is null ? (null, null) : LocalMemoryStore.Canonical(file.Record);
            read[i] = (file, hash, json);
        });
        return read;
    }

    /// <summary>The version a changed file makes, or null when it makes none (malformed: reported; showing a version
    /// sync knows; sync's own unedited output).</summary>
    private PackEntry? EntryForFile(LocalMemoryFile local, FileStat stat, DateTime seenAt, string? contentHash, byte[]? canonical)
    {
        string id = local.Id;
        State.Records.TryGetValue(id, out RecordState? known);
        if (local.Record is null)
        {
            _sync.Problem(GhostieErrorCode.MalformedLocalFile, local.Path, $"{local.Path} is not a valid memory ({local.Problem}); it was skipped and left untouched. Fix or remove it.");
            return null;
        }

        string hash = contentHash!;
        if (ShownVersion(known, hash) is { } shown)
        {
            // Touched or rewritten with the same content as the current version (or as the version the file showed).
            known!.Stamp(stat, seenAt);
            known.FileVector = shown.VersionVector;
            return null;
        }

        if (SyncOutputOfAnUnknownVersion(local.Record, hash, known))
        {
            // Written by sync and not edited since, but of a version this state does not know: a pull that was
            // interrupted before it saved the state. Not a local edit; the next pull records or replaces it.
            return null;
        }

        // A local edit: it follows the version the file was showing (not necessarily the current winner, if
        // sync could not update the file), so a remote version the user never saw is never superseded.
        VersionVector baseline = Baseline(known, known?.FileVector);
        _sync.PendingStamps[id] = (stat, seenAt);
        return NewLocalEntry(id, baseline, deleted: false, hash, local.Record with { SyncMetadata = null }, canonical);
    }

    /// <summary>
    /// Whether the file is sync's own output, unedited (its content still hashes to the sync_hash written into it), of
    /// a version the state does not hold: a memory the state does not know, or a file the written-files journal says
    /// shows a version the state has not recorded yet (a pull killed before its checkpoint). Such a file is not a local
    /// edit; the next pull records or replaces its version. (Before the stat cache re-read racy stamps, such a file
    /// was only skipped because the replay had stamped it.)
    /// </summary>
    private static bool SyncOutputOfAnUnknownVersion(MemoryRecord record, string hash, RecordState? known) =>
        record.SyncMetadata?.SyncHash == hash
        && (known is not { Versions.Count: > 0 }
            || (known.FileVector is { } shown && !known.Versions.Any(v => Vectors.Compare(shown, v.VersionVector) == Causality.Equal)));

    /// <summary>The version of <paramref name="known"/> a file with content <paramref name="hash"/> shows: the current
    /// winner, or the version the file was last seen showing; null when the content is none of them (an edit).</summary>
    private static VersionInfo? ShownVersion(RecordState? known, string hash) =>
        known is { Versions.Count: > 0 } && !known.Winner.Deleted && known.Winner.Hash == hash
            ? known.Winner
            : known?.Versions.FirstOrDefault(v => !v.Deleted && v.Hash == hash && known.FileVector is { } fv && Vectors.Compare(fv, v.VersionVector) == Causality.Equal);

    private List<PackEntry> DeletionEntries(HashSet<string> present)
    {
        var entries = new List<PackEntry>();
        foreach (string id in DeletedIds(present))
        {
            RecordState known = State.Records[id];
            VersionVector baseline = Baseline(known, known.FileVector ?? known.Winner.VersionVector);
            entries.Add(NewLocalEntry(id, baseline, deleted: true, "deleted", null));
            _sync.PendingStamps[id] = (FileStat.Missing, default);
        }

        return entries;
    }

    /// <summary>Only a file sync saw (wrote or read) can have been deleted by the user; a version whose file was never
    /// written here (recovered from the repository, or refused) is not a deletion.</summary>
    private List<string> DeletedIds(HashSet<string> present) =>
        State.Records.Where(r => r.Value.Versions.Count > 0 && !r.Value.Winner.Deleted && !present.Contains(r.Key) && r.Value.FileSize >= 0)
            .Select(r => r.Key).ToList();

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
        foreach (VersionInfo same in known?.Versions ?? [])
        {
            if (shown is not null && same.Hash == shown.Hash)
            {
                baseline = baseline.Merge(same.Vector);
            }
        }

        return baseline;
    }
}
