using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ghostie.Sync;

/// <summary>
/// One memory, in the seed's memory file format (one JSON file per memory under <c>memories/</c>), plus a stable
/// <see cref="Id"/>. Hosts create and edit the content fields; <see cref="SyncMetadata"/> is maintained by sync.
/// </summary>
public sealed record MemoryRecord
{
    /// <summary>The stable id; also the file name (<c>memories/&lt;id&gt;.json</c>). 1 to 128 characters of letters, digits, '-' and '_'.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>When the memory was first recorded.</summary>
    [JsonPropertyName("timestamp")]
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The device that first recorded the memory.</summary>
    [JsonPropertyName("device_id")]
    public string DeviceId { get; init; } = "";

    /// <summary>A host-defined category (for example "network").</summary>
    [JsonPropertyName("category")]
    [JsonRequired]
    public string Category { get; init; } = "";

    /// <summary>The memory's text.</summary>
    [JsonPropertyName("content")]
    [JsonRequired]
    public string Content { get; init; } = "";

    /// <summary>Free-form JSON context the host attaches; kept verbatim.</summary>
    [JsonPropertyName("context")]
    public JsonElement? Context { get; init; }

    /// <summary>Sync bookkeeping; written by sync, ignored when computing the content hash.</summary>
    [JsonPropertyName("sync_metadata")]
    public SyncMetadata? SyncMetadata { get; init; }

    /// <summary>Creates a new memory with a fresh id (time-ordered GUID, 32 hex digits).</summary>
    /// <param name="category">The category.</param>
    /// <param name="content">The text.</param>
    /// <param name="deviceId">The recording device.</param>
    /// <param name="timestamp">When it was recorded.</param>
    /// <param name="context">Optional JSON context.</param>
    public static MemoryRecord Create(string category, string content, string deviceId, DateTimeOffset timestamp, JsonElement? context = null) => new()
    {
        Id = Guid.CreateVersion7(timestamp).ToString("N"),
        Category = category,
        Content = content,
        DeviceId = deviceId,
        Timestamp = timestamp,
        Context = context,
    };

    /// <summary>
    /// What <see cref="object.ToString"/> shows: id, timestamp, device, category and the content's length, never the
    /// content or context themselves, so a record passed to a log or an exception message does not leak the memory.
    /// </summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Id = ").Append(Id)
            .Append(", Timestamp = ").Append(Timestamp.ToString("O", System.Globalization.CultureInfo.InvariantCulture))
            .Append(", DeviceId = ").Append(DeviceId)
            .Append(", Category = ").Append(Category)
            .Append(", Content = (").Append(Content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(" characters, not shown)")
            .Append(", Context = ").Append(Context is null ? "null" : "(not shown)");
        return true;
    }

    /// <summary>Whether <paramref name="id"/> is an acceptable memory id.</summary>
    /// <param name="id">The candidate id.</param>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 128)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The seed's <c>sync_metadata</c> block.</summary>
public sealed record SyncMetadata
{
    /// <summary>When the current version was made (from its hybrid logical clock).</summary>
    [JsonPropertyName("last_modified")]
    public DateTimeOffset LastModified { get; init; }

    /// <summary><c>sha256:</c> and the hex SHA-256 of the record's content fields (everything but sync_metadata).</summary>
    [JsonPropertyName("sync_hash")]
    public string SyncHash { get; init; } = "";

    /// <summary>How many edits the record's history holds (the sum of its version vector).</summary>
    [JsonPropertyName("version")]
    public long Version { get; init; }

    /// <summary>Null, or "conflict" while concurrent versions await resolution (see sync/conflicts).</summary>
    [JsonPropertyName("conflict_state")]
    public string? ConflictState { get; init; }
}
