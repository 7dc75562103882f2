using System.Security.Cryptography;
using System.Text.Json;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync;

/// <summary>
/// The memories of a Ghostie home: one JSON file per memory (<c>memories/&lt;id&gt;.json</c>), each written atomically.
/// Files that are not valid memories are reported by name and skipped, never overwritten or deleted.
/// </summary>
public sealed class LocalMemoryStore
{
    private readonly GhostieHome _home;

    /// <summary>Creates the store of <paramref name="home"/>.</summary>
    /// <param name="home">The Ghostie home.</param>
    public LocalMemoryStore(GhostieHome home)
    {
        _home = home ?? throw new ArgumentNullException(nameof(home));
    }

    /// <summary>Reads one memory.</summary>
    /// <param name="id">The memory id.</param>
    /// <returns>The memory, or null if there is no such file.</returns>
    /// <exception cref="GhostieSyncException">The file is not a valid memory (<see cref="GhostieErrorCode.MalformedLocalFile"/>).</exception>
    public MemoryRecord? Get(string id)
    {
        ValidateId(id);
        string path = _home.MemoryPath(id);
        if (!File.Exists(path))
        {
            return null;
        }

        LocalMemoryFile file = Read(path);
        return file.Record ?? throw new GhostieSyncException(GhostieErrorCode.MalformedLocalFile, $"{path} is not a valid memory: {file.Problem}");
    }

    /// <summary>Writes a memory (atomically). Its <see cref="MemoryRecord.SyncMetadata"/> is kept as given; sync replaces it.</summary>
    /// <param name="record">The memory.</param>
    public void Save(MemoryRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        ValidateId(record.Id);
        AtomicFile.Write(_home.MemoryPath(record.Id), JsonSerializer.SerializeToUtf8Bytes(record, IndentedJson.Readable.MemoryRecord));
    }

    /// <summary>Deletes a memory's file. The next push turns the deletion into a tombstone.</summary>
    /// <param name="id">The memory id.</param>
    /// <returns>Whether a file was deleted.</returns>
    public bool Delete(string id)
    {
        ValidateId(id);
        string path = _home.MemoryPath(id);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    /// <summary>Lists every memory file with its parsed record, or the reason it could not be parsed.</summary>
    public IEnumerable<LocalMemoryFile> Scan()
    {
        if (!Directory.Exists(_home.MemoriesPath))
        {
            yield break;
        }

        foreach (string path in Directory.EnumerateFiles(_home.MemoriesPath, "*.json"))
        {
            if (Path.GetFileName(path).StartsWith('.'))
            {
                continue; // a temporary file of an atomic write
            }

            yield return Read(path);
        }
    }

    /// <summary>Reads and validates one file.</summary>
    internal static LocalMemoryFile Read(string path) => Read(new FileInfo(path));

    /// <summary>Reads and validates one file whose metadata was just enumerated.</summary>
    internal static LocalMemoryFile Read(FileInfo info) => Read(info.FullName, info.LastWriteTimeUtc.Ticks, info.Length);

    /// <summary>Reads and validates one file whose stamp (<paramref name="ticks"/>, <paramref name="size"/>) was just taken.</summary>
    internal static LocalMemoryFile Read(string path, long ticks, long size)
    {
        string stem = Path.GetFileNameWithoutExtension(path);
        if (!MemoryRecord.IsValidId(stem))
        {
            return new LocalMemoryFile(path, stem, null, "its file name is not a valid memory id (letters, digits, '-' and '_')", ticks, size);
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException ex)
        {
            return new LocalMemoryFile(path, stem, null, "it cannot be read: " + ex.Message, ticks, size);
        }

        (MemoryRecord? record, string? problem) = Parse(bytes, stem);
        return new LocalMemoryFile(path, stem, record, problem, ticks, size);
    }

    internal static (MemoryRecord? Record, string? Problem) Parse(ReadOnlyMemory<byte> bytes, string id)
    {
        // Fast path: a well-formed memory deserializes in one pass. Anything else takes the careful path below,
        // which says precisely what is wrong (or supplies the id a seed-format file lacks).
        try
        {
            MemoryRecord? direct = JsonSerializer.Deserialize(bytes.Span, CoreJson.Default.MemoryRecord);
            if (direct is { Content: not null, Category: not null } && direct.Id == id)
            {
                return (direct, null);
            }
        }
        catch (JsonException)
        {
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, $"it holds a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not a memory object");
            }

            if (!root.TryGetProperty("content", out JsonElement content) || content.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("category", out JsonElement category) || category.ValueKind != JsonValueKind.String)
            {
                return (null, "it lacks the string fields 'content' and 'category' of a memory");
            }

            if (root.TryGetProperty("id", out JsonElement idElement) && (idElement.ValueKind != JsonValueKind.String || idElement.GetString() != id))
            {
                return (null, $"its 'id' does not match its file name '{id}.json'");
            }

            MemoryRecord? record = root.TryGetProperty("id", out _)
                ? JsonSerializer.Deserialize(root, CoreJson.Default.MemoryRecord)
                : JsonSerializer.Deserialize(WithId(root, id), CoreJson.Default.MemoryRecord);
            return record is null ? (null, "it is JSON null") : (record, null);
        }
        catch (JsonException ex)
        {
            return (null, $"it is not valid JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})");
        }
    }

    /// <summary><c>sha256:</c> + hex SHA-256 of the record's content fields, in the canonical compact serialization.</summary>
    internal static string ContentHash(MemoryRecord record) => Canonical(record).Hash;

    /// <summary>The canonical JSON of the record's content fields and its hash; the JSON is reused as the pack's copy.</summary>
    internal static (string Hash, byte[] Json) Canonical(MemoryRecord record)
    {
        byte[] canonical = JsonSerializer.SerializeToUtf8Bytes(record with { SyncMetadata = null }, CoreJson.Default.MemoryRecord);
        return ("sha256:" + Convert.ToHexStringLower(SHA256.HashData(canonical)), canonical);
    }

    private static byte[] WithId(JsonElement root, string id)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                property.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void ValidateId(string id)
    {
        if (!MemoryRecord.IsValidId(id))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"'{id}' is not a valid memory id: use 1 to 128 letters, digits, '-' and '_'.");
        }
    }
}

/// <summary>One file under <c>memories/</c>: its record, or why it is not one.</summary>
/// <param name="Path">The file's path.</param>
/// <param name="Id">The id from its file name.</param>
/// <param name="Record">The parsed memory, or null when the file is malformed.</param>
/// <param name="Problem">Why the file is not a valid memory, or null.</param>
/// <param name="LastWriteTicks">Its last write time (UTC ticks) when read.</param>
/// <param name="Size">Its size in bytes when read.</param>
public sealed record LocalMemoryFile(string Path, string Id, MemoryRecord? Record, string? Problem, long LastWriteTicks, long Size);
