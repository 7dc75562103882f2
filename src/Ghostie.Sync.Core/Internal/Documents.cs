using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ghostie.Sync.Internal;

/// <summary>One version of one memory as it travels in packs: full state (or a tombstone), its version vector and clock.</summary>
internal sealed class PackEntry
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("vv")] public required Dictionary<string, long> VersionVector { get; init; }
    [JsonPropertyName("t")] public long WallMs { get; init; }
    [JsonPropertyName("c")] public int Counter { get; init; }
    [JsonPropertyName("o")] public required string Origin { get; init; }
    [JsonPropertyName("d")] public bool Deleted { get; init; }
    [JsonPropertyName("h")] public required string Hash { get; init; }
    [JsonPropertyName("r")] public MemoryRecord? Record { get; init; }

    /// <summary>The canonical JSON of <see cref="Record"/> when it was just computed (for its hash); spares a second serialization.</summary>
    [JsonIgnore] public byte[]? RecordJson { get; init; }

    /// <summary>This entry's JSON: the same as serializing it, with the record's canonical JSON inserted verbatim when known.</summary>
    public byte[] ToJson()
    {
        if (RecordJson is null)
        {
            return JsonSerializer.SerializeToUtf8Bytes(this, CoreJson.Default.PackEntry);
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(RecordJson.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", Id);
            writer.WriteStartObject("vv");
            foreach ((string device, long n) in VersionVector)
            {
                writer.WriteNumber(device, n);
            }

            writer.WriteEndObject();
            writer.WriteNumber("t", WallMs);
            writer.WriteNumber("c", Counter);
            writer.WriteString("o", Origin);
            writer.WriteBoolean("d", Deleted);
            writer.WriteString("h", Hash);
            writer.WritePropertyName("r");
            writer.WriteRawValue(RecordJson, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The state's copy of this version; device ids are shared through <paramref name="strings"/> (100,000 memories
    /// from one device should not hold 100,000 copies of its id).</summary>
    public VersionInfo ToInfo(StringPool strings)
    {
        return new() { VersionVector = strings.Vector(VersionVector), WallMs = WallMs, Counter = Counter, Origin = strings.Get(Origin), Deleted = Deleted, Hash = Hash };
    }
}

/// <summary>Shares equal strings (device ids) between the many objects of the state.</summary>
internal sealed class StringPool
{
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

    public string Get(string value)
    {
        if (_strings.TryGetValue(value, out string? shared))
        {
            return shared;
        }

        _strings[value] = value;
        return value;
    }

    /// <summary>A copy of a version vector whose device ids are the shared strings.</summary>
    public Dictionary<string, long> Vector(Dictionary<string, long> source)
    {
        var vector = new Dictionary<string, long>(source.Count, StringComparer.Ordinal);
        foreach ((string device, long n) in source)
        {
            vector[Get(device)] = n;
        }

        return vector;
    }

    public void Intern(SyncStateDocument state)
    {
        foreach (RecordState record in state.Records.Values)
        {
            Intern(record.Versions);
            if (record.Confirmed is not null)
            {
                Intern(record.Confirmed);
            }
        }
    }

    private void Intern(List<VersionInfo> versions)
    {
        for (int i = 0; i < versions.Count; i++)
        {
            VersionInfo v = versions[i];
            versions[i] = new VersionInfo { VersionVector = Vector(v.VersionVector), WallMs = v.WallMs, Counter = v.Counter, Origin = Get(v.Origin), Deleted = v.Deleted, Hash = v.Hash };
        }
    }
}

/// <summary>What the local state remembers of one version (no content).</summary>
internal sealed class VersionInfo
{
    [JsonPropertyName("vv")] public required Dictionary<string, long> VersionVector { get; init; }
    [JsonPropertyName("t")] public long WallMs { get; init; }
    [JsonPropertyName("c")] public int Counter { get; init; }
    [JsonPropertyName("o")] public required string Origin { get; init; }
    [JsonPropertyName("d")] public bool Deleted { get; init; }
    [JsonPropertyName("h")] public required string Hash { get; init; }

    [JsonIgnore] public VersionVector Vector => Internal.VersionVector.From(VersionVector);
    [JsonIgnore] public Hlc Clock => new(WallMs, Counter);
}

/// <summary>Per memory: the versions not superseded by another (winner first), and the file stamp last seen.</summary>
/// <remarks>Every setter that changes a value marks the record <see cref="Dirty"/>: the next save of the state appends
/// only dirty records to the state journal (see <see cref="SyncStateStore"/>). Lists and vectors are replaced, never
/// changed in place, once they belong to a record.</remarks>
internal sealed class RecordState
{
    private List<VersionInfo> _versions = [];
    private long _fileTicks, _fileSize = -1, _fileChangeTicks, _fileInode;
    private bool _fileRacy;
    private Dictionary<string, long>? _fileVector;
    private List<VersionInfo>? _confirmed;

    [JsonPropertyName("v")] public List<VersionInfo> Versions { get => _versions; set => Set(ref _versions, value); }
    [JsonPropertyName("m")] public long FileTicks { get => _fileTicks; set => Set(ref _fileTicks, value); }
    [JsonPropertyName("s")] public long FileSize { get => _fileSize; set => Set(ref _fileSize, value); }

    /// <summary>The file's status-change time (UTC ticks) when its stamp was taken; 0 when unknown (not Linux, or a
    /// state written before it was recorded). Any write, rename onto it or <c>touch</c> changes it, even when the
    /// modification time is put back.</summary>
    [JsonPropertyName("ct")] public long FileChangeTicks { get => _fileChangeTicks; set => Set(ref _fileChangeTicks, value); }

    /// <summary>The file's inode number when its stamp was taken; 0 when unknown. A file replaced by a rename has
    /// another one.</summary>
    [JsonPropertyName("ino")] public long FileInode { get => _fileInode; set => Set(ref _fileInode, value); }

    /// <summary>The stamp was taken while the file's times were too recent to prove a later change would move them
    /// (racy: an edit in the same clock tick, of the same size, keeps every field): the next scan reads the file
    /// once more instead of trusting the stamp.</summary>
    [JsonPropertyName("rc")] public bool FileRacy { get => _fileRacy; set => Set(ref _fileRacy, value); }

    /// <summary>The version vector of the version the memory file shows (set when sync writes or reads the file);
    /// null when there is no file or it shows nothing sync knows. Local edits follow this version.</summary>
    [JsonPropertyName("fv")] public Dictionary<string, long>? FileVector { get => _fileVector; set => Set(ref _fileVector, value); }

    /// <summary>The versions the repository is known to hold (winner first), kept only while they differ from
    /// <see cref="Versions"/>: from the first local version committed after the last push until the push that
    /// uploads it. Null when every version in <see cref="Versions"/> is in the repository; empty for a memory
    /// the repository does not hold yet. Status counts the repository's memories from it.</summary>
    [JsonPropertyName("cf")] public List<VersionInfo>? Confirmed { get => _confirmed; set => Set(ref _confirmed, value); }

    /// <summary>Changed since the state was last saved (a new record is).</summary>
    [JsonIgnore] public bool Dirty { get; set; } = true;

    /// <summary>Records the stamp of the file as just seen (see <see cref="FileStat"/>).</summary>
    public void Stamp(FileStat stat, DateTime seenAt)
    {
        (FileTicks, FileSize, FileChangeTicks, FileInode) = (stat.WriteTicks, stat.Size, stat.ChangeTicks, stat.Inode);
        FileRacy = stat.IsRacy(seenAt);
    }

    /// <summary>No file (deleted, or never written).</summary>
    public void StampMissing() => (FileTicks, FileSize, FileChangeTicks, FileInode, FileRacy) = (0, -1, 0, 0, false);

    /// <summary>Whether the file has the stamp recorded, and that stamp can be trusted (see <see cref="FileStat.Matches"/>).</summary>
    public bool Unchanged(FileStat stat) => !FileRacy && stat.Matches(FileTicks, FileSize, FileChangeTicks, FileInode);

    /// <summary>Whether the file is the one sync last wrote or read (racy or not): the same stamp.</summary>
    public bool SameFile(FileStat stat) => stat.Matches(FileTicks, FileSize, FileChangeTicks, FileInode);

    private void Set<T>(ref T field, T value)
    {
        if (!EqualityComparer<T>.Default.Equals(field, value))
        {
            field = value;
            Dirty = true;
        }
    }

    [JsonIgnore] public VersionInfo Winner => Versions[0];

    /// <summary>Whether the versions show more than one content (or a content and a deletion): versions of equal
    /// content made concurrently (two devices making the same resolution) are one choice, not a conflict.</summary>
    [JsonIgnore] public bool IsConflicted => Conflicted(Versions);

    /// <summary>Whether <paramref name="versions"/> hold more than one content (a deletion's hash is "deleted").</summary>
    public static bool Conflicted(List<VersionInfo> versions) => versions.Count > 1 && versions.Skip(1).Any(v => v.Hash != versions[0].Hash);

    /// <summary>Whether the repository is known to hold this memory, not deleted (as of the last sync).</summary>
    [JsonIgnore] public bool InRepository => (Confirmed ?? Versions) is { Count: > 0 } confirmed && !confirmed[0].Deleted;
}

internal sealed class PackRef
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("entries")] public int Entries { get; init; }
    [JsonPropertyName("bytes")] public long Bytes { get; init; }
    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }
}

internal sealed class RetiredPack
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("seq")] public long RetiredAtSeq { get; init; }
}

/// <summary>A device's head: the small object it writes last, naming its live packs and what it has seen of others.</summary>
internal sealed class HeadDocument
{
    [JsonPropertyName("format")] public int Format { get; init; } = 1;
    [JsonPropertyName("device_id")] public required string DeviceId { get; init; }
    [JsonPropertyName("device_name")] public required string DeviceName { get; init; }
    [JsonPropertyName("seq")] public long Seq { get; init; }
    [JsonPropertyName("packs")] public List<PackRef> Packs { get; init; } = [];
    [JsonPropertyName("retired")] public List<RetiredPack> Retired { get; init; } = [];
    [JsonPropertyName("acks")] public Dictionary<string, long> Acks { get; init; } = [];
    [JsonPropertyName("outbox_through")] public long OutboxThrough { get; init; }
    [JsonPropertyName("installation")] public string Installation { get; init; } = "";
    [JsonPropertyName("hlc_t")] public long HlcWallMs { get; init; }
    [JsonPropertyName("hlc_c")] public int HlcCounter { get; init; }
    [JsonPropertyName("written_at")] public DateTimeOffset WrittenAt { get; init; }

    /// <summary>The devices the writer knows were removed from the repository (grow-only: every device repeats them).
    /// Older readers ignore the property.</summary>
    [JsonPropertyName("removed")] public List<RemovedDevice> Removed { get; init; } = [];
}

/// <summary>A device removed from the repository (docs/sync-protocol.md, "Removing a device"): it no longer holds
/// back the deletion of retired packs, is not reported when its head is gone, and heads it writes after
/// <see cref="Seq"/> are not applied.</summary>
internal sealed class RemovedDevice
{
    [JsonPropertyName("prefix")] public required string Prefix { get; init; }
    [JsonPropertyName("device_id")] public string DeviceId { get; init; } = "";
    [JsonPropertyName("device_name")] public string DeviceName { get; init; } = "";

    /// <summary>The sequence of its last head the remover had applied: its history up to there stays valid.</summary>
    [JsonPropertyName("seq")] public long Seq { get; init; }
    [JsonPropertyName("removed_at")] public DateTimeOffset RemovedAt { get; init; }
    [JsonPropertyName("removed_by")] public string RemovedBy { get; init; } = "";

    /// <summary>Removed because it was lost or stolen: the repository was re-keyed so it can read nothing new.</summary>
    [JsonPropertyName("revoked")] public bool Revoked { get; init; }
}

internal sealed class RemoteDeviceState
{
    [JsonPropertyName("device_id")] public string DeviceId { get; set; } = "";
    [JsonPropertyName("device_name")] public string DeviceName { get; set; } = "";
    [JsonPropertyName("head")] public string? Head { get; set; }
    [JsonPropertyName("seq")] public long Seq { get; set; }
    [JsonPropertyName("ingested")] public HashSet<string> Ingested { get; set; } = new(StringComparer.Ordinal);
    [JsonPropertyName("acks_of_us")] public long AcksOfUs { get; set; }
    [JsonPropertyName("awaits_ack")] public long AwaitsAckOf { get; set; }
    [JsonPropertyName("leftovers")] public HashSet<string> Leftovers { get; set; } = new(StringComparer.Ordinal);
    [JsonPropertyName("last_seen")] public DateTimeOffset? LastSeen { get; set; }

    /// <summary>The acknowledgements of its last head applied (device prefix to sequence): which devices it has seen,
    /// so a device whose head is missing is noticed even by a device that never saw that head itself.</summary>
    [JsonPropertyName("acks")] public Dictionary<string, long> Acks { get; set; } = new(StringComparer.Ordinal);
}

internal sealed class SyncStateDocument
{
    [JsonPropertyName("format")] public int Format { get; set; } = SyncStateStore.CurrentFormat;

    /// <summary>Names the state journal lines that belong to this file (see <see cref="SyncStateStore"/>): random, new
    /// with each compaction. Empty in a format 1 file, which has no journal.</summary>
    [JsonPropertyName("journal")] public string Journal { get; set; } = "";
    [JsonPropertyName("repository_id")] public string RepositoryId { get; set; } = "";
    [JsonPropertyName("device_id")] public string DeviceId { get; set; } = "";
    [JsonPropertyName("device_prefix")] public string DevicePrefix { get; set; } = "";
    /// <summary>Random, made with the state: tells this installation's heads from those of another one using the same device id.</summary>
    [JsonPropertyName("installation")] public string Installation { get; set; } = "";
    [JsonPropertyName("own_log_checked")] public bool OwnLogChecked { get; set; }
    [JsonPropertyName("own_seq")] public long OwnSeq { get; set; }
    [JsonPropertyName("own_head")] public string? OwnHead { get; set; }
    [JsonPropertyName("own_packs")] public List<PackRef> OwnPacks { get; set; } = [];
    [JsonPropertyName("retired")] public List<RetiredPack> Retired { get; set; } = [];
    [JsonPropertyName("pushed_acks")] public Dictionary<string, long> PushedAcks { get; set; } = new(StringComparer.Ordinal);
    [JsonPropertyName("outbox_applied")] public long OutboxApplied { get; set; }
    [JsonPropertyName("outbox_pushed")] public long OutboxPushed { get; set; }
    [JsonPropertyName("hlc_t")] public long HlcWallMs { get; set; }
    [JsonPropertyName("hlc_c")] public int HlcCounter { get; set; }
    [JsonPropertyName("last_sync")] public DateTimeOffset? LastSync { get; set; }
    [JsonPropertyName("last_push")] public DateTimeOffset? LastPush { get; set; }
    [JsonPropertyName("last_pull")] public DateTimeOffset? LastPull { get; set; }
    [JsonPropertyName("devices")] public Dictionary<string, RemoteDeviceState> Devices { get; set; } = new(StringComparer.Ordinal);
    [JsonPropertyName("records")] public Dictionary<string, RecordState> Records { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Devices removed from the repository, by device prefix (from this device's removals and every head applied).</summary>
    [JsonPropertyName("removed")] public Dictionary<string, RemovedDevice> Removed { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The removals this device's last head carried (by prefix): a removal not in it yet makes the next push write a head.</summary>
    [JsonPropertyName("pushed_removed")] public HashSet<string> PushedRemoved { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The re-key epoch (<see cref="Crypto.RepositoryKeys.RekeyEpoch"/>) this device's own packs were last rewritten
    /// under: while it differs from the repository's, the next push rewrites them (docs/security.md, "Revoking a device").</summary>
    [JsonPropertyName("repacked_for")] public uint RepackedFor { get; set; }

    /// <summary>Devices this device revoked, by prefix, with the re-key epoch made for it: a revocation run again after
    /// a crash goes on after the re-key instead of re-keying twice.</summary>
    [JsonPropertyName("revocations")] public Dictionary<string, uint> Revocations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A copy of everything but the records, holding <paramref name="records"/> instead.</summary>
    public SyncStateDocument WithRecords(Dictionary<string, RecordState> records)
    {
        var copy = (SyncStateDocument)MemberwiseClone();
        copy.Records = records;
        return copy;
    }
}

/// <summary>One line of <c>sync/state.jsonl</c>: the state's fields as saved (the records changed since the save
/// before only), for the base state whose <see cref="SyncStateDocument.Journal"/> is <see cref="Journal"/>.</summary>
internal sealed class StateJournalLine
{
    [JsonPropertyName("g")] public required string Journal { get; init; }
    [JsonPropertyName("state")] public required SyncStateDocument State { get; init; }
}

internal sealed class OutboxLine
{
    [JsonPropertyName("n")] public long Seq { get; init; }
    [JsonPropertyName("e")] public required PackEntry Entry { get; init; }

    /// <summary>The entry's JSON as written to the outbox, reused verbatim in the pack (null after a reload).</summary>
    [JsonIgnore] public byte[]? EntryJson { get; init; }
}

/// <summary>
/// One line of <c>sync/written.jsonl</c>: a memory file sync is about to write (or delete) for a version applied from
/// the repository, so that if the process dies before the state recording it is saved, the next start still knows
/// which version the file shows (and local edits of it follow that version instead of looking concurrent).
/// </summary>
internal sealed class WrittenLine
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("h")] public required string Hash { get; init; }
    [JsonPropertyName("vv")] public required Dictionary<string, long> VersionVector { get; init; }
    [JsonPropertyName("d")] public bool Deleted { get; init; }

    /// <summary>The file's modification time (UTC ticks) before the write; 0 when there was no file.</summary>
    [JsonPropertyName("m")] public long BeforeTicks { get; init; }

    /// <summary>The file's size before the write; -1 when there was no file; <see cref="NoWrite"/> when the file already
    /// showed the version and nothing was written.</summary>
    [JsonPropertyName("s")] public long BeforeSize { get; init; }

    public const long NoWrite = -2;
}

internal sealed class ConflictDocument
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("detected_at")] public DateTimeOffset DetectedAt { get; init; }
    [JsonPropertyName("winner")] public required ConflictVersion Winner { get; init; }
    [JsonPropertyName("losers")] public List<ConflictVersion> Losers { get; init; } = [];
}

internal sealed class ConflictVersion
{
    [JsonPropertyName("device_id")] public required string DeviceId { get; init; }
    [JsonPropertyName("last_modified")] public DateTimeOffset LastModified { get; init; }
    [JsonPropertyName("version")] public long Version { get; init; }
    [JsonPropertyName("deleted")] public bool Deleted { get; init; }
    [JsonPropertyName("hash")] public required string Hash { get; init; }
    [JsonPropertyName("vv")] public required Dictionary<string, long> VersionVector { get; init; }
    [JsonPropertyName("record")] public MemoryRecord? Record { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never, PropertyNameCaseInsensitive = false,
    AllowTrailingCommas = false, ReadCommentHandling = JsonCommentHandling.Disallow, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(MemoryRecord))]
[JsonSerializable(typeof(PackEntry))]
[JsonSerializable(typeof(HeadDocument))]
[JsonSerializable(typeof(SyncStateDocument))]
[JsonSerializable(typeof(StateJournalLine))]
[JsonSerializable(typeof(OutboxLine))]
[JsonSerializable(typeof(WrittenLine))]
[JsonSerializable(typeof(ConflictDocument))]
[JsonSerializable(typeof(SyncConfiguration))]
internal sealed partial class CoreJson : JsonSerializerContext
{
}

/// <summary>For the files people open in an editor: indented, and non-ASCII text written as itself (not \u00E9).
/// Content hashes use <see cref="CoreJson"/>, so this changes no hash.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(MemoryRecord))]
[JsonSerializable(typeof(ConflictDocument))]
[JsonSerializable(typeof(SyncConfiguration))]
internal sealed partial class IndentedJson : JsonSerializerContext
{
    /// <summary>The context with relaxed escaping.</summary>
    public static IndentedJson Readable { get; } = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
