using System.Security.Cryptography;
using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>
/// <c>sync/sync_state.json</c> and its journal <c>sync/state.jsonl</c>: what this device knows of the repository and
/// of its own memory files (docs/sync-protocol.md, "On the device"). A save appends one line to the journal (the
/// top-level fields and only the records changed since the save before, fsynced), so that it costs what changed, not
/// what the device holds; when the journal has grown past a quarter of the base file (and at least 256 KiB), or when
/// there is no base yet, the save writes the whole state atomically instead (a compaction) under a new random journal
/// name and then deletes the journal. Reading takes the base and applies, in order, the journal lines carrying the
/// base's journal name; a line torn by a crash (the last one, without its newline) is ignored: that save never
/// happened, and the outbox and the written-files journal cover it as they cover any crash before a save. A journal
/// left behind by a compaction that crashed before deleting it carries the old name and is ignored.
/// </summary>
internal sealed class SyncStateStore
{
    /// <summary>Format 2: the base file names a journal (format 1 had none; it is still read, and saved as format 2).</summary>
    public const int CurrentFormat = 2;

    /// <summary>The journal is compacted into the base file once it is larger than this share of the base ...</summary>
    private const long CompactShare = 4;

    /// <summary>... and larger than this (settable by tests, to reach a compaction with a few saves).</summary>
    internal static long CompactMinimumBytes { get; set; } = 256 * 1024;

    private readonly GhostieHome _home;
    private FileStamp _stamp, _journalStamp;
    private long _baseBytes, _journalBytes;

    public SyncStateStore(GhostieHome home) => _home = home;

    /// <summary>The journal of saves since the base file was last written whole.</summary>
    public string JournalPath => Path.Combine(_home.SyncPath, "state.jsonl");

    /// <summary>Test hook: after each save, read the state back from disk and compare it with the one saved (set by
    /// the test suite; also by <c>GHOSTIE_SYNC_VERIFY_STATE=1</c>).</summary>
    internal static bool VerifySaves { get; set; } = Environment.GetEnvironmentVariable("GHOSTIE_SYNC_VERIFY_STATE") == "1";

    /// <summary>Whether another process wrote the state since this one last read or wrote it.</summary>
    public bool ChangedOnDisk => FileStamp.Of(_home.StatePath) != _stamp || FileStamp.Of(JournalPath) != _journalStamp;

    public void MarkSeen() => (_stamp, _journalStamp) = (FileStamp.Of(_home.StatePath), FileStamp.Of(JournalPath));

    /// <summary>Makes the next <see cref="ChangedOnDisk"/> true, so the state is read again.</summary>
    public void Invalidate() => _stamp = FileStamp.Unknown;

    /// <summary>The saved state (a new one when there is none), checked to belong to <paramref name="repositoryId"/>,
    /// with an installation id. Every record is clean (<see cref="RecordState.Dirty"/> false) after it.</summary>
    /// <exception cref="UnsupportedFormatException">Written by a newer Ghostie.Sync.</exception>
    /// <exception cref="GhostieSyncException">Unreadable (<see cref="GhostieErrorCode.NotConfigured"/>) or of another
    /// repository (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public SyncStateDocument Read(string repositoryId)
    {
        SyncStateDocument state = File.Exists(_home.StatePath) ? ReadFile(repositoryId) : new SyncStateDocument();
        if (state.Installation.Length == 0)
        {
            state.Installation = NewInstallationId();
        }

        foreach (RecordState record in state.Records.Values)
        {
            record.Dirty = false;
        }

        return state;
    }

    /// <summary>Saves <paramref name="state"/>: a journal line of its dirty records, or the whole file (see the class).
    /// The records are clean after it.</summary>
    public void Write(SyncStateDocument state)
    {
        bool compact = state.Journal.Length == 0 || !File.Exists(_home.StatePath)
            || (_journalBytes > CompactMinimumBytes && _journalBytes * CompactShare > _baseBytes);
        if (compact)
        {
            state.Format = CurrentFormat;
            state.Journal = NewInstallationId();
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(state, CoreJson.Default.SyncStateDocument);
            AtomicFile.Write(_home.StatePath, json);
            File.Delete(JournalPath); // its lines name the old journal: ignored from now on even if this is not reached
            (_baseBytes, _journalBytes) = (json.Length, 0);
        }
        else
        {
            var changed = new Dictionary<string, RecordState>(StringComparer.Ordinal);
            foreach ((string id, RecordState record) in state.Records)
            {
                if (record.Dirty)
                {
                    changed[id] = record;
                }
            }

            var line = new StateJournalLine { Journal = state.Journal, State = state.WithRecords(changed) };
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(line, CoreJson.Default.StateJournalLine);
            using (var stream = new FileStream(JournalPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16))
            {
                long end = CompleteLinesLength(stream);
                stream.SetLength(end); // a line torn by a crash is dropped before the next one is appended
                stream.Position = end;
                stream.Write(json);
                stream.WriteByte((byte)'\n');
                stream.Flush(flushToDisk: true);
                _journalBytes = stream.Length;
            }
        }

        foreach (RecordState record in state.Records.Values)
        {
            record.Dirty = false;
        }

        if (VerifySaves)
        {
            Verify(state);
        }
    }

    /// <summary>Random, made with the state: tells this installation's heads from those of another one using the same device id.</summary>
    public static string NewInstallationId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>The installation id of the home's state, when the state is for <paramref name="prefix"/>; else null
    /// (also when it is unreadable, which proves nothing).</summary>
    public static string? InstallationOf(GhostieHome home, string prefix)
    {
        try
        {
            if (!File.Exists(home.StatePath))
            {
                return null;
            }

            SyncStateDocument? state = JsonSerializer.Deserialize(File.ReadAllBytes(home.StatePath), CoreJson.Default.SyncStateDocument);
            if (state is not null)
            {
                state = new SyncStateStore(home).ApplyJournal(state);
            }

            return state is { Installation.Length: > 0 } && state.DevicePrefix == prefix ? state.Installation : null;
        }
        catch (Exception ex) when (ex is JsonException or GhostieSyncException)
        {
            return null; // an unreadable state proves nothing: treat the home as new
        }
    }

    private SyncStateDocument ReadFile(string repositoryId)
    {
        byte[] json = File.ReadAllBytes(_home.StatePath);
        if (FormatPeek.Read(json) is long format && format > CurrentFormat)
        {
            // Written by a newer Ghostie.Sync: reading it with this version's meaning, then saving it back as
            // this format, would lose what the newer version recorded.
            throw new UnsupportedFormatException($"Sync state file '{_home.StatePath}'", (int)Math.Min(format, int.MaxValue), CurrentFormat);
        }

        SyncStateDocument state;
        try
        {
            state = JsonSerializer.Deserialize(json, CoreJson.Default.SyncStateDocument) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"{_home.StatePath} is unreadable ({ex.Message}). Move it aside and pull again to rebuild it from the repository.", innerException: ex);
        }

        _baseBytes = json.Length;
        state = ApplyJournal(state);
        if (state.RepositoryId.Length > 0 && state.RepositoryId != repositoryId)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"{_home.Root} syncs with repository {state.RepositoryId}, not {repositoryId}. Use another Ghostie home for this repository.");
        }

        return state;
    }

    /// <summary>The base state with the journal's lines of its journal name applied in order.</summary>
    private SyncStateDocument ApplyJournal(SyncStateDocument state)
    {
        _journalBytes = 0;
        if (state.Journal.Length == 0 || !File.Exists(JournalPath))
        {
            return state;
        }

        byte[] journal = File.ReadAllBytes(JournalPath);
        _journalBytes = journal.Length;
        ReadOnlySpan<byte> rest = journal;
        int lineNumber = 0;
        while (rest.IndexOf((byte)'\n') is int end and >= 0)
        {
            ReadOnlySpan<byte> text = rest[..end];
            rest = rest[(end + 1)..];
            lineNumber++;
            if (text.IsEmpty)
            {
                continue;
            }

            StateJournalLine line;
            try
            {
                line = JsonSerializer.Deserialize(text, CoreJson.Default.StateJournalLine) ?? throw new JsonException("null");
            }
            catch (JsonException ex)
            {
                // A complete line (it has its newline) that does not parse is damage, not a crash mid-write.
                throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                    $"{JournalPath} is unreadable at line {lineNumber} ({ex.Message}). Move {_home.StatePath} and it aside and pull again to rebuild the state from the repository.", innerException: ex);
            }

            if (line.Journal != state.Journal)
            {
                continue; // left by a compaction that crashed before deleting the journal
            }

            foreach ((string id, RecordState record) in line.State.Records)
            {
                state.Records[id] = record;
            }

            SyncStateDocument next = line.State.WithRecords(state.Records);
            next.Format = state.Format;
            state = next;
        }

        return state; // what follows the last newline is a line torn by a crash: that save never happened
    }

    private static long CompleteLinesLength(FileStream stream)
    {
        long length = stream.Length;
        if (length == 0)
        {
            return 0;
        }

        // Read back from the end to the last newline (a journal line is small: the scan is short).
        var buffer = new byte[4096];
        long position = length;
        while (position > 0)
        {
            int count = (int)Math.Min(buffer.Length, position);
            position -= count;
            stream.Position = position;
            stream.ReadExactly(buffer, 0, count);
            int newline = Array.LastIndexOf(buffer, (byte)'\n', count - 1);
            if (newline >= 0)
            {
                return position + newline + 1;
            }
        }

        return 0;
    }

    private void Verify(SyncStateDocument saved)
    {
        SyncStateDocument read = ReadFile(saved.RepositoryId);
        byte[] expected = JsonSerializer.SerializeToUtf8Bytes(saved.WithRecords(new(saved.Records.OrderBy(r => r.Key, StringComparer.Ordinal), StringComparer.Ordinal)), CoreJson.Default.SyncStateDocument);
        byte[] actual = JsonSerializer.SerializeToUtf8Bytes(read.WithRecords(new(read.Records.OrderBy(r => r.Key, StringComparer.Ordinal), StringComparer.Ordinal)), CoreJson.Default.SyncStateDocument);
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            throw new InvalidOperationException($"The state read back from {_home.StatePath} and its journal differs from the state saved: a change of a record was not marked dirty.");
        }
    }
}
