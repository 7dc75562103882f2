using System.Text.Json.Serialization;

namespace Ghostie.Sync.Backends.GitHubGist.Internal;

/// <summary>A gist as the REST API returns it (list, get, create, update). File contents are deliberately not mapped:
/// the backend reads files through raw_url, so multi-megabyte contents are skipped by the reader, never materialised.</summary>
internal sealed class GistResource
{
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    [JsonPropertyName("description")]
    public string? Description { get; set; }

    [JsonPropertyName("public")]
    public bool Public { get; set; }

    [JsonPropertyName("created_at")]
    public DateTimeOffset CreatedAt { get; set; }

    [JsonPropertyName("updated_at")]
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>True when the API returned only the first 300 files.</summary>
    [JsonPropertyName("truncated")]
    public bool Truncated { get; set; }

    [JsonPropertyName("files")]
    public Dictionary<string, GistFileResource?> Files { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One file of a gist.</summary>
internal sealed class GistFileResource
{
    [JsonPropertyName("filename")]
    public string? FileName { get; set; }

    [JsonPropertyName("size")]
    public long Size { get; set; }

    [JsonPropertyName("raw_url")]
    public string? RawUrl { get; set; }

    /// <summary>True when <c>content</c> was cut at one megabyte (get/create/update responses only).</summary>
    [JsonPropertyName("truncated")]
    public bool Truncated { get; set; }
}

/// <summary>GitHub's error body.</summary>
internal sealed class GitHubError
{
    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("documentation_url")]
    public string? DocumentationUrl { get; set; }
}

[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(GistResource))]
[JsonSerializable(typeof(List<GistResource>))]
[JsonSerializable(typeof(GitHubError))]
[JsonSerializable(typeof(ChunkedRecord))]
internal sealed partial class GistJsonContext : JsonSerializerContext;
