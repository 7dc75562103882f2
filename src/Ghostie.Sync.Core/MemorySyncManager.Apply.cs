using System.Text.Json;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

public sealed partial class MemorySyncManager
{
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
    private static List<VersionInfo>? Merge(List<VersionInfo> versions, VersionInfo incoming)
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
    /// <returns>1 when this made the memory newly conflicted, else 0.</returns>
    private int ApplyVersion(PackEntry entry, bool local, bool writeFiles)
    {
        if (!MemoryRecord.IsValidId(entry.Id) || (!entry.Deleted && (entry.Record is null || entry.Record.Id != entry.Id)))
        {
            Problem(GhostieErrorCode.IntegrityFailure, entry.Origin, $"A version from device '{entry.Origin}' is malformed (bad id or missing record); it was skipped.");
            return 0;
        }

        if (!_state.Records.TryGetValue(entry.Id, out RecordState? record))
        {
            record = new RecordState();
            _state.Records[entry.Id] = record;
        }

        VersionInfo info = entry.ToInfo(_strings);
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
            return 0; // already have it, or something newer
        }

        VersionInfo? oldWinner = before.Count > 0 ? before[0] : null;
        record.Versions = after;
        if (!local)
        {
            Clock = Hlc.Observe(Clock, new Hlc(entry.WallMs, entry.Counter));
        }

        bool conflictBefore = RecordState.Conflicted(before), conflictAfter = RecordState.Conflicted(after);
        if (!writeFiles)
        {
            return 0;
        }

        // Gather the content of every version still in the set: the incoming one, the ones already kept aside,
        // and the old winner (in the memory file) if it has just become one of the others.
        var contents = new Dictionary<string, MemoryRecord?>(StringComparer.Ordinal) { [entry.Hash] = entry.Record };
        ConflictDocument? oldConflict = conflictBefore ? ReadConflict(entry.Id) : null;
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

        VersionInfo winner = after[0];
        string path = _home.MemoryPath(entry.Id);
        if (oldWinner is { Deleted: false } && !contents.ContainsKey(oldWinner.Hash) && File.Exists(path))
        {
            MemoryRecord? current = LocalMemoryStore.Read(path).Record;
            if (current is not null && LocalMemoryStore.ContentHash(current) == oldWinner.Hash)
            {
                contents[oldWinner.Hash] = current with { SyncMetadata = null };
            }
        }

        if (local)
        {
            // A local version always carries the newest clock, so the file already shows the winner.
            if (_pendingStamps.TryGetValue(entry.Id, out var stamp))
            {
                (record.FileTicks, record.FileSize) = stamp;
                record.FileVector = entry.Deleted ? null : entry.VersionVector;
            }
        }
        else if (oldWinner is null || oldWinner.Hash != winner.Hash || oldWinner.Deleted != winner.Deleted || conflictBefore != conflictAfter)
        {
            WriteWinner(entry.Id, record, winner, contents.GetValueOrDefault(winner.Hash), conflictAfter);
        }

        if (conflictAfter)
        {
            var document = new ConflictDocument
            {
                Id = entry.Id,
                DetectedAt = oldConflict?.DetectedAt ?? Now,
                Winner = ToConflictVersion(winner, contents.GetValueOrDefault(winner.Hash)),
                // One entry per content: equal versions made concurrently (the same resolution on two devices) are one.
                Losers = after.Skip(1).Where(v => v.Hash != winner.Hash).DistinctBy(v => v.Hash)
                    .Select(v => ToConflictVersion(v, contents.GetValueOrDefault(v.Hash))).ToList(),
            };
            WriteLocal(_home.ConflictPath(entry.Id), JsonSerializer.SerializeToUtf8Bytes(document, IndentedJson.Readable.ConflictDocument), deferFlushTo: _barrier);
        }
        else if (conflictBefore)
        {
            File.Delete(_home.ConflictPath(entry.Id));
        }

        if (!conflictBefore && conflictAfter)
        {
            SyncLog.Conflict(_logger, entry.Id, after.Count);
            return 1;
        }

        return 0;
    }

    private void WriteWinner(string id, RecordState record, VersionInfo winner, MemoryRecord? content, bool conflicted)
    {
        string path = _home.MemoryPath(id);
        var file = new FileInfo(path);
        if (file.Exists && (file.LastWriteTimeUtc.Ticks != record.FileTicks || file.Length != record.FileSize) && !winner.Deleted
            && LocalMemoryStore.Read(path).Record is { } existing && LocalMemoryStore.ContentHash(existing) == winner.Hash)
        {
            NoteWritten(id, winner, before: null);
            (record.FileTicks, record.FileSize, record.FileVector) = (file.LastWriteTimeUtc.Ticks, file.Length, winner.VersionVector);
            return; // the file already shows this version
        }

        if (file.Exists && (file.LastWriteTimeUtc.Ticks != record.FileTicks || file.Length != record.FileSize) && !WrittenBySyncUnedited(path))
        {
            // Not the file sync last wrote or read: a malformed file, or an edit made while this sync ran. Never
            // overwrite it; a valid edit is committed by the next sync as a newer version.
            if (_recovering)
            {
                return; // this device's own edit made while its state was lost: the commit that follows keeps it
            }

            Problem(GhostieErrorCode.MalformedLocalFile, path,
                $"{path} was not updated to the newer version from device '{winner.Origin}' because it is malformed or was changed during sync; it was left untouched.");
            if (content is not null)
            {
                WriteLocal(PendingPath(id), JsonSerializer.SerializeToUtf8Bytes(content, IndentedJson.Readable.MemoryRecord), deferFlushTo: _barrier);
            }

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
                NoteWritten(id, winner, file);
                File.Delete(path);
                _barrier.Written(path);
            }

            (record.FileTicks, record.FileSize, record.FileVector) = (0, -1, null);
            return;
        }

        if (content is null)
        {
            Problem(GhostieErrorCode.IntegrityFailure, id, $"The content of memory '{id}' from device '{winner.Origin}' is not available locally; pull again.");
            return;
        }

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
        NoteWritten(id, winner, file);
        WriteLocal(path, JsonSerializer.SerializeToUtf8Bytes(rendered, IndentedJson.Readable.MemoryRecord), deferFlushTo: _barrier);
        if (File.Exists(PendingPath(id)))
        {
            File.Delete(PendingPath(id)); // the file shows it now
        }

        file.Refresh();
        (record.FileTicks, record.FileSize, record.FileVector) = (file.LastWriteTimeUtc.Ticks, file.Length, winner.VersionVector);
    }

    // ---- sync/written.jsonl: which version the files written since the last saved state show ------------------

    /// <summary>
    /// Records, before a memory file is written or deleted for <paramref name="version"/>, which version it is about to
    /// show, and the file's stamp before (<paramref name="before"/>; null when the file already shows the version and
    /// only the state changes). The state that records it is saved only at the next checkpoint (after each device's
    /// packs); a process killed before then leaves files the saved state knows nothing of, and without this line an
    /// edit of such a file would follow nothing (or an older version) and conflict with the very version the user was
    /// editing. Each line reaches the operating system before the file is touched (a write, not an fsync: it survives
    /// a killed process; after a power loss the files written since the last checkpoint may be lost as well, and the
    /// older rules apply).
    /// </summary>
    private void NoteWritten(string id, VersionInfo version, FileInfo? before)
    {
        if (_written is null)
        {
            _written = new FileStream(WrittenPath, FileMode.Append, FileAccess.Write, FileShare.Read, 4096);
            if (_written.Length > 0)
            {
                // A line torn by a crash mid-write must not swallow the next one: start on a fresh line.
                _written.WriteByte((byte)'\n');
            }
        }

        var line = new WrittenLine
        {
            Id = id,
            Hash = version.Hash,
            VersionVector = version.VersionVector,
            Deleted = version.Deleted,
            BeforeTicks = before is { Exists: true } ? before.LastWriteTimeUtc.Ticks : 0,
            BeforeSize = before is null ? WrittenLine.NoWrite : before.Exists ? before.Length : -1,
        };
        JsonSerializer.Serialize(_written, line, CoreJson.Default.WrittenLine);
        _written.WriteByte((byte)'\n');
        _written.Flush();
    }

    private FileStream? _written;

    private string WrittenPath => Path.Combine(_home.SyncPath, "written.jsonl");

    /// <summary>Closes <c>sync/written.jsonl</c>, and deletes it when the state just saved covers every line.</summary>
    private void CloseWritten(bool stateSaved)
    {
        _written?.Dispose();
        _written = null;
        if (stateSaved)
        {
            File.Delete(WrittenPath);
        }
    }

    /// <summary>
    /// After a crash: for every line of <c>sync/written.jsonl</c> (in order, so the last write of a memory wins), the
    /// memory file is looked at. Still with the stamp it had before, it was never written: the line changes nothing.
    /// Otherwise the write happened, and the file shows that version, or an edit of it the user made since (with or
    /// without the sync_metadata sync wrote): the state records that version as the one the file shows, with the
    /// file's stamp only if its content is still that version's, so the commit that follows sees the edit as a
    /// successor of that version. A deletion is recorded if the file is gone. Nothing here writes a memory file.
    /// </summary>
    private void ReplayWritten(SyncStateDocument state)
    {
        if (!File.Exists(WrittenPath))
        {
            return;
        }

        foreach (string text in File.ReadLines(WrittenPath))
        {
            WrittenLine? line;
            try
            {
                line = text.Length == 0 ? null : JsonSerializer.Deserialize(text, CoreJson.Default.WrittenLine);
            }
            catch (JsonException)
            {
                continue; // torn by the crash: its file was not touched yet
            }

            if (line is null || !MemoryRecord.IsValidId(line.Id))
            {
                continue;
            }

            string path = _home.MemoryPath(line.Id);
            var file = new FileInfo(path);
            state.Records.TryGetValue(line.Id, out RecordState? record);
            MemoryRecord? content = file.Exists ? LocalMemoryStore.Read(path).Record : null;
            bool shows = !line.Deleted && content is not null && LocalMemoryStore.ContentHash(content) == line.Hash;
            bool written = line.BeforeSize == WrittenLine.NoWrite
                ? shows // nothing was to be written: it counts only while the file still shows the version
                : (file.Exists ? file.LastWriteTimeUtc.Ticks : 0, file.Exists ? file.Length : -1) != (line.BeforeTicks, line.BeforeSize);
            if (!written)
            {
                continue;
            }

            if (line.Deleted)
            {
                if (record is not null && !file.Exists)
                {
                    (record.FileTicks, record.FileSize, record.FileVector) = (0, -1, null);
                }

                continue;
            }

            if (record is null)
            {
                if (!file.Exists)
                {
                    continue;
                }

                // A memory the saved state does not know yet: its versions come with the pull that follows.
                record = new RecordState();
                state.Records[line.Id] = record;
            }

            record.FileVector = _strings.Vector(line.VersionVector);
            if (shows)
            {
                (record.FileTicks, record.FileSize) = (file.LastWriteTimeUtc.Ticks, file.Length);
            }
        }
    }

    private string PendingPath(string id) => Path.Combine(_home.SyncPath, "pending", _home.MemoryPath(id)[(_home.MemoriesPath.Length + 1)..]);

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

    private ConflictDocument? ReadConflict(string id)
    {
        string path = _home.ConflictPath(id);
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
            Problem(GhostieErrorCode.MalformedLocalFile, path, $"{path} is not a valid conflict record; it will be rewritten.");
            return null;
        }
    }
}
