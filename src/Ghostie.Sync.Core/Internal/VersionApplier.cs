using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>
/// Applies versions to the state and the home: the multi-value register's merge (docs/sync-protocol.md, "Versions and causality"),
/// the winner in <c>memories/</c>, the other concurrent versions in <c>sync/conflicts/</c>, and versions that could
/// not be written over a local file in <c>sync/pending/</c>.
/// </summary>
internal sealed class VersionApplier
{
    private readonly SyncContext _sync;

    public VersionApplier(SyncContext sync) => _sync = sync;

    private GhostieHome Home => _sync.Home;

    /// <summary>
    /// The deterministic order of concurrent versions: newest clock first, then the larger origin id, then the larger
    /// content hash. Every device sorts the same set the same way, so every device shows the same winner.
    /// </summary>
    private static readonly Comparison<VersionInfo> WinnerOrder = (a, b) =>
    {
        int c = b.Clock.CompareTo(a.Clock);
        if (c == 0)
        {
            c = string.CompareOrdinal(b.Origin, a.Origin);
        }

        return c != 0 ? c : string.CompareOrdinal(b.Hash, a.Hash);
    };

    /// <summary>The multi-value register's merge: <paramref name="versions"/> with <paramref name="incoming"/> added
    /// and the versions it includes dropped (winner first), or null when a version of the set already includes it.</summary>
    public static List<VersionInfo>? Merge(List<VersionInfo> versions, VersionInfo incoming)
    {
        foreach (VersionInfo existing in versions)
        {
            if (Vectors.Includes(existing.VersionVector, incoming.VersionVector))
            {
                return null;
            }
        }

        var after = new List<VersionInfo>(versions.Count + 1);
        foreach (VersionInfo version in versions)
        {
            if (!Vectors.Includes(incoming.VersionVector, version.VersionVector))
            {
                after.Add(version);
            }
        }

        after.Add(incoming);
        after.Sort(WinnerOrder);
        return after;
    }

    /// <summary>
    /// Merges one version into the record's set of concurrent versions (a multi-value register): versions it
    /// supersedes are dropped, a version already included is ignored, and concurrent ones are kept side by side.
    /// The winner goes to <c>memories/</c>, the others to <c>sync/conflicts/</c>.
    /// </summary>
    /// <param name="entry">The version.</param>
    /// <param name="local">A version this device just committed (its file already shows it).</param>
    /// <param name="writeFiles">Whether to write the memory and conflict files.</param>
    /// <param name="unpushed">A version of another origin that this device relays (an archive's import): its files
    /// are written as a pulled version's are, but the repository does not hold it until this device pushes it.</param>
    /// <returns>1 when this made the memory newly conflicted, else 0.</returns>
    public int Apply(PackEntry entry, bool local, bool writeFiles, bool unpushed = false)
    {
        if (!MemoryRecord.IsValidId(entry.Id) || (!entry.Deleted && (entry.Record is null || entry.Record.Id != entry.Id)))
        {
            _sync.Problem(GhostieErrorCode.IntegrityFailure, entry.Origin, $"A version from device '{entry.Origin}' is malformed (bad id or missing record); it was skipped.");
            return 0;
        }

        if (MergeIntoState(entry, local || unpushed) is not (RecordState record, List<VersionInfo> before, List<VersionInfo> after))
        {
            return 0; // already have it, or something newer
        }

        if (!local)
        {
            _sync.Clock = Hlc.Observe(_sync.Clock, new Hlc(entry.WallMs, entry.Counter));
        }

        bool conflictBefore = RecordState.Conflicted(before), conflictAfter = RecordState.Conflicted(after);
        if (!writeFiles)
        {
            return 0;
        }

        VersionInfo? oldWinner = before.Count > 0 ? before[0] : null;
        ConflictDocument? oldConflict = conflictBefore ? ReadConflict(entry.Id) : null;
        Dictionary<string, MemoryRecord?> contents = GatherContents(entry, after, oldWinner, oldConflict);
        VersionInfo winner = after[0];
        if (local)
        {
            // A local version always carries the newest clock, so the file already shows the winner.
            if (_sync.PendingStamps.TryGetValue(entry.Id, out var stamp))
            {
                if (stamp.Stat.Exists)
                {
                    record.Stamp(stamp.Stat, stamp.SeenAt);
                }
                else
                {
                    record.StampMissing();
                }

                record.FileVector = entry.Deleted ? null : entry.VersionVector;
            }
        }
        else if (oldWinner is null || oldWinner.Hash != winner.Hash || oldWinner.Deleted != winner.Deleted || conflictBefore != conflictAfter)
        {
            WriteWinner(entry.Id, record, winner, contents.GetValueOrDefault(winner.Hash), conflictAfter, before);
        }

        WriteConflictFile(entry.Id, after, contents, oldConflict, conflictBefore, conflictAfter);
        if (!conflictBefore && conflictAfter)
        {
            SyncLog.Conflict(_sync.Logger, entry.Id, after.Count);
            return 1;
        }

        return 0;
    }

    /// <summary>The version merged into its record in the state: the record, and its versions before and after;
    /// null when a version of the record already includes it.</summary>
    private (RecordState Record, List<VersionInfo> Before, List<VersionInfo> After)? MergeIntoState(PackEntry entry, bool local)
    {
        if (!_sync.State.Records.TryGetValue(entry.Id, out RecordState? record))
        {
            record = new RecordState();
            _sync.State.Records[entry.Id] = record;
        }

        VersionInfo info = entry.ToInfo(_sync.Strings);
        if (local)
        {
            record.Confirmed ??= [.. record.Versions]; // the repository holds what the state held before this version
        }
        else if (record.Confirmed is not null && Merge(record.Confirmed, info) is { } confirmed)
        {
            record.Confirmed = confirmed; // a version read from the repository is in it
        }

        List<VersionInfo> before = record.Versions;
        if (Merge(before, info) is not { } after)
        {
            return null;
        }

        record.Versions = after;
        return (record, before, after);
    }

    /// <summary>
    /// The content of every version still in the set, by hash: the incoming one, the ones already kept aside, the one
    /// kept pending, and the old winner (in the memory file) if it has just become one of the others.
    /// </summary>
    private Dictionary<string, MemoryRecord?> GatherContents(PackEntry entry, List<VersionInfo> after, VersionInfo? oldWinner, ConflictDocument? oldConflict)
    {
        var contents = new Dictionary<string, MemoryRecord?>(StringComparer.Ordinal) { [entry.Hash] = entry.Record };
        foreach (ConflictVersion other in oldConflict?.Losers ?? [])
        {
            contents.TryAdd(other.Hash, other.Record);
        }

        if (oldConflict is not null)
        {
            contents.TryAdd(oldConflict.Winner.Hash, oldConflict.Winner.Record);
        }

        // A version sync could not write over a malformed or edited file is kept aside, so its content stays known.
        if (ReadPending(entry.Id) is { } pending)
        {
            string pendingHash = LocalMemoryStore.ContentHash(pending);
            contents.TryAdd(pendingHash, pending);
            if (!after.Any(v => v.Hash == pendingHash))
            {
                File.Delete(PendingPath(entry.Id)); // superseded
            }
        }

        string path = Home.MemoryPath(entry.Id);
        if (oldWinner is { Deleted: false } && !contents.ContainsKey(oldWinner.Hash) && File.Exists(path))
        {
            MemoryRecord? current = LocalMemoryStore.Read(path).Record;
            if (current is not null && LocalMemoryStore.ContentHash(current) == oldWinner.Hash)
            {
                contents[oldWinner.Hash] = current with { SyncMetadata = null };
            }
        }

        return contents;
    }

    private void WriteConflictFile(string id, List<VersionInfo> after, Dictionary<string, MemoryRecord?> contents, ConflictDocument? oldConflict, bool conflictBefore, bool conflictAfter)
    {
        if (conflictAfter)
        {
            VersionInfo winner = after[0];
            var document = new ConflictDocument
            {
                Id = id,
                DetectedAt = oldConflict?.DetectedAt ?? _sync.Now,
                Winner = ToConflictVersion(winner, contents.GetValueOrDefault(winner.Hash)),
                // One entry per content: equal versions made concurrently (the same resolution on two devices) are one.
                Losers = after.Skip(1).Where(v => v.Hash != winner.Hash).DistinctBy(v => v.Hash)
                    .Select(v => ToConflictVersion(v, contents.GetValueOrDefault(v.Hash))).ToList(),
            };
            _sync.WriteLocal(Home.ConflictPath(id), JsonSerializer.SerializeToUtf8Bytes(document, IndentedJson.Readable.ConflictDocument), deferFlushTo: _sync.Barrier);
        }
        else if (conflictBefore)
        {
            File.Delete(Home.ConflictPath(id));
        }
    }

    private void WriteWinner(string id, RecordState record, VersionInfo winner, MemoryRecord? content, bool conflicted, List<VersionInfo> before)
    {
        string path = Home.MemoryPath(id);
        var file = new FileInfo(path);
        DateTime seenAt = DateTime.UtcNow;
        FileStat stat = FileStat.Of(path);
        bool unknownFile = stat.Exists && (!record.SameFile(stat) || (record.FileRacy && !ShowsVersionOf(path, record, before)));
        if (unknownFile && !winner.Deleted && LocalMemoryStore.Read(path).Record is { } existing && LocalMemoryStore.ContentHash(existing) == winner.Hash)
        {
            _sync.Journal.Note(id, winner, before: null);
            record.Stamp(stat, seenAt);
            record.FileVector = winner.VersionVector;
            return; // the file already shows this version
        }

        if (unknownFile && !WrittenBySyncUnedited(path))
        {
            KeepAside(id, path, winner, content);
            return;
        }

        if (!file.Exists && record.FileSize >= 0 && !winner.Deleted)
        {
            // The file sync wrote is gone, but this run's commit saw it: the user deleted it while the sync ran. Not
            // recreated: the next sync commits the deletion, which then conflicts with this newer version.
            return;
        }

        if (winner.Deleted)
        {
            if (file.Exists)
            {
                _sync.Journal.Note(id, winner, file);
                File.Delete(path);
                _sync.Barrier.Written(path);
            }

            record.StampMissing();
            record.FileVector = null;
            return;
        }

        if (content is null)
        {
            _sync.Problem(GhostieErrorCode.IntegrityFailure, id, $"The content of memory '{id}' from device '{winner.Origin}' is not available locally; pull again.");
            return;
        }

        WriteMemoryFile(id, path, file, record, winner, content, conflicted);
    }

    /// <summary>
    /// Not the file sync last wrote or read: a malformed file, or an edit made while this sync ran. Never overwritten;
    /// a valid edit is committed by the next sync as a newer version, and the version that could not be written is
    /// kept in <c>sync/pending/</c>.
    /// </summary>
    private void KeepAside(string id, string path, VersionInfo winner, MemoryRecord? content)
    {
        if (_sync.Recovering)
        {
            return; // this device's own edit made while its state was lost: the commit that follows keeps it
        }

        _sync.Problem(GhostieErrorCode.MalformedLocalFile, path,
            $"{path} was not updated to the newer version from device '{winner.Origin}' because it is malformed or was changed during sync; it was left untouched.");
        if (content is not null)
        {
            _sync.WriteLocal(PendingPath(id), JsonSerializer.SerializeToUtf8Bytes(content, IndentedJson.Readable.MemoryRecord), deferFlushTo: _sync.Barrier);
        }
    }

    private void WriteMemoryFile(string id, string path, FileInfo file, RecordState record, VersionInfo winner, MemoryRecord content, bool conflicted)
    {
        MemoryRecord rendered = content with
        {
            SyncMetadata = new SyncMetadata
            {
                LastModified = winner.Clock.ToDateTimeOffset(),
                SyncHash = winner.Hash,
                Version = Vectors.Sum(winner.VersionVector),
                ConflictState = conflicted ? "conflict" : null,
            },
        };
        _sync.Journal.Note(id, winner, file);
        _sync.WriteLocal(path, JsonSerializer.SerializeToUtf8Bytes(rendered, IndentedJson.Readable.MemoryRecord), deferFlushTo: _sync.Barrier);
        if (File.Exists(PendingPath(id)))
        {
            File.Delete(PendingPath(id)); // the file shows it now
        }

        record.Stamp(FileStat.Of(path), DateTime.UtcNow); // just written: racy, so the next scan reads it once more
        record.FileVector = winner.VersionVector;
    }

    /// <summary>For a racy stamp (the file may have been edited in the tick its stamp was taken): whether the file still
    /// shows the version the state says it shows.
    /// <paramref name="before"/>: the record's versions before the one being applied (which may have superseded the
    /// version the file shows).</summary>
    private static bool ShowsVersionOf(string path, RecordState record, List<VersionInfo> before)
    {
        if (LocalMemoryStore.Read(path).Record is not { } current || record.FileVector is not { } shown)
        {
            return false;
        }

        string hash = LocalMemoryStore.ContentHash(current);
        return before.Concat(record.Versions).Any(v => !v.Deleted && v.Hash == hash && Vectors.Compare(v.VersionVector, shown) == Causality.Equal);
    }

    private string PendingPath(string id) => Path.Combine(Home.SyncPath, "pending", Home.MemoryPath(id)[(Home.MemoriesPath.Length + 1)..]);

    private MemoryRecord? ReadPending(string id)
    {
        string path = PendingPath(id);
        return File.Exists(path) ? LocalMemoryStore.Read(path).Record : null;
    }

    /// <summary>Whether a file is sync's own output, unedited: its content still hashes to the sync_hash sync wrote
    /// into it (a pull that was interrupted before saving its state leaves such files behind).</summary>
    private static bool WrittenBySyncUnedited(string path)
    {
        MemoryRecord? current = LocalMemoryStore.Read(path).Record;
        return current?.SyncMetadata?.SyncHash is { } written && LocalMemoryStore.ContentHash(current) == written;
    }

    private static ConflictVersion ToConflictVersion(VersionInfo version, MemoryRecord? content) => new()
    {
        DeviceId = version.Origin,
        LastModified = version.Clock.ToDateTimeOffset(),
        Version = Vectors.Sum(version.VersionVector),
        Deleted = version.Deleted,
        Hash = version.Hash,
        VersionVector = version.VersionVector,
        Record = content,
    };

    /// <summary>The conflict file of a memory; null when there is none or it is unreadable (reported; rewritten by the
    /// next change of the memory).</summary>
    public ConflictDocument? ReadConflict(string id)
    {
        string path = Home.ConflictPath(id);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), CoreJson.Default.ConflictDocument);
        }
        catch (JsonException)
        {
            _sync.Problem(GhostieErrorCode.MalformedLocalFile, path, $"{path} is not a valid conflict record; it will be rewritten.");
            return null;
        }
    }
}
