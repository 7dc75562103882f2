using System.Text.Json.Serialization;

namespace Ghostie.Sync.Backends.GoogleDrive.Internal;

/// <summary>The fields of a Drive file resource the backend asks for (https://developers.google.com/drive/api/reference/rest/v3/files).
/// int64 fields (size, version) travel as JSON strings.</summary>
internal sealed class DriveFile
{
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("mimeType")]
    public string? MimeType { get; set; }

    [JsonPropertyName("createdTime")]
    public DateTimeOffset CreatedTime { get; set; }

    [JsonPropertyName("size")]
    public string? Size { get; set; }

    [JsonPropertyName("version")]
    public string? Version { get; set; }

    [JsonPropertyName("trashed")]
    public bool Trashed { get; set; }

    [JsonPropertyName("appProperties")]
    public Dictionary<string, string>? AppProperties { get; set; }
}

/// <summary>A page of files.list.</summary>
internal sealed class DriveFileList
{
    [JsonPropertyName("nextPageToken")]
    public string? NextPageToken { get; set; }

    [JsonPropertyName("files")]
    public List<DriveFile> Files { get; set; } = [];
}

/// <summary>The metadata sent with an upload: name and parent only on create (an update must not name parents).</summary>
internal sealed class DriveMetadata
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("parents")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Parents { get; set; }

    [JsonPropertyName("mimeType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MimeType { get; set; }

    [JsonPropertyName("appProperties")]
    public Dictionary<string, string>? AppProperties { get; set; }
}

/// <summary>Google's error body (https://developers.google.com/drive/api/guides/handle-errors).</summary>
internal sealed class DriveErrorBody
{
    [JsonPropertyName("error")]
    public DriveError? Error { get; set; }
}

internal sealed class DriveError
{
    [JsonPropertyName("code")]
    public int Code { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("errors")]
    public List<DriveErrorItem>? Errors { get; set; }
}

internal sealed class DriveErrorItem
{
    [JsonPropertyName("domain")]
    public string? Domain { get; set; }

    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    [JsonPropertyName("location")]
    public string? Location { get; set; }
}

[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(DriveFile))]
[JsonSerializable(typeof(DriveFileList))]
[JsonSerializable(typeof(DriveMetadata))]
[JsonSerializable(typeof(DriveErrorBody))]
internal sealed partial class DriveJsonContext : JsonSerializerContext;
