using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>
/// <c>sync/written.jsonl</c>: which version the memory files written since the last saved state show. The state that
/// records a file written by a pull is saved only at the next checkpoint (after each device's packs); a process
/// killed before then leaves files the saved state knows nothing of, and without this journal an edit of such a file
/// would follow nothing (or an older version) and conflict with the very version the user was editing.
/// </summary>
internal sealed class WrittenJournal
{
    private readonly GhostieHome _home;
    private FileStream? _stream;

    public WrittenJournal(GhostieHome home) => _home = home;

    private string FilePath => Path.Combine(_home.SyncPath, "written.jsonl");

    /// <summary>
    /// Records, before a memory file is written or deleted for <paramref name="version"/>, which version it is about to
    /// show, and the file's stamp before (<paramref name="before"/>; null when the file already shows the version and
    /// only the state changes). Each line reaches the operating system before the file is touched (a write, not an
    /// fsync: it survives a killed process; after a power loss the files written since the last checkpoint may be lost
    /// as well, and the older rules apply).
    /// </summary>
    public void Note(string id, VersionInfo version, FileInfo? before)
    {
        if (_stream is null)
        {
            _stream = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read, 4096);
            if (_stream.Length > 0)
            {
                // A line torn by a crash mid-write must not swallow the next one: start on a fresh line.
                _stream.WriteByte((byte)'\n');
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
        JsonSerializer.Serialize(_stream, line, CoreJson.Default.WrittenLine);
        _stream.WriteByte((byte)'\n');
        _stream.Flush();
    }

    /// <summary>Closes the journal, and deletes it when the state just saved covers every line.</summary>
    public void Close(bool stateSaved)
    {
        _stream?.Dispose();
        _stream = null;
        if (stateSaved)
        {
            File.Delete(FilePath);
        }
    }

    /// <summary>
    /// After a crash: for every line (in order, so the last write of a memory wins), the memory file is looked at.
    /// Still with the stamp it had before, it was never written: the line changes nothing. Otherwise the write
    /// happened, and the file shows that version, or an edit of it the user made since (with or without the
    /// sync_metadata sync wrote): the state records that version as the one the file shows, with the file's stamp only
    /// if its content is still that version's, so the commit that follows sees the edit as a successor of that
    /// version. A deletion is recorded if the file is gone. Nothing here writes a memory file.
    /// </summary>
    public void Replay(SyncStateDocument state, StringPool strings)
    {
        if (!File.Exists(FilePath))
        {
            return;
        }

        foreach (string text in File.ReadLines(FilePath))
        {
            if (ParseLine(text) is { } line)
            {
                ReplayLine(state, strings, line);
            }
        }
    }

    private static WrittenLine? ParseLine(string text)
    {
        try
        {
            WrittenLine? line = text.Length == 0 ? null : JsonSerializer.Deserialize(text, CoreJson.Default.WrittenLine);
            return line is not null && MemoryRecord.IsValidId(line.Id) ? line : null;
        }
        catch (JsonException)
        {
            return null; // torn by the crash: its file was not touched yet
        }
    }

    private void ReplayLine(SyncStateDocument state, StringPool strings, WrittenLine line)
    {
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
            return;
        }

        if (line.Deleted)
        {
            if (record is not null && !file.Exists)
            {
                record.StampMissing();
                record.FileVector = null;
            }

            return;
        }

        if (record is null)
        {
            if (!file.Exists)
            {
                return;
            }

            // A memory the saved state does not know yet: its versions come with the pull that follows.
            record = new RecordState();
            state.Records[line.Id] = record;
        }

        record.FileVector = strings.Vector(line.VersionVector);
        if (shows)
        {
            record.Stamp(FileStat.Of(path), DateTime.UtcNow);
        }
    }
}
