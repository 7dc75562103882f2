using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Ghostie.Cli.Output;
using Ghostie.Sync;

namespace Ghostie.Cli.Mcp;

// The structured results of 'ghostie mcp' that are not already a --json document of the CLI; snake_case like those.
// docs/mcp.md describes each.

/// <summary>The structured content of a tool error: the library's error code and the message.</summary>
internal sealed record McpErrorDocument(McpErrorDetail Error);

internal sealed record McpErrorDetail(string Code, string Message);

/// <summary>list_memories: the newest <c>limit</c> memories (oldest first), how many there are, how many were left out.</summary>
internal sealed record MemoryPageDocument(int Total, int Omitted, IReadOnlyList<MemoryRecord> Memories, IReadOnlyList<MalformedFileDocument> Problems);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(McpErrorDocument))]
[JsonSerializable(typeof(MemoryPageDocument))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class McpJson : JsonSerializerContext
{
    /// <summary>As generated, with relaxed escaping (memory content reads as written), as <see cref="CliJson.Output"/>.</summary>
    public static McpJson Output { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
