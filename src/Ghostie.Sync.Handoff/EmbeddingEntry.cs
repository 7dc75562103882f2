using System.Text.Json.Serialization;
using Ghostie.Sync.Handoff.Internal;

namespace Ghostie.Sync.Handoff;

/// <summary>One embedding.</summary>
public sealed record EmbeddingEntry
{
    /// <summary>Its id.</summary>
    public required string Id { get; init; }

    /// <summary>What it embeds ("turn:12", "decision:3", "file:src/app.ts", a memory id, ...).</summary>
    public string Source { get; init; } = "";

    /// <summary>The embedded text, if the host kept it.</summary>
    public string? Text { get; init; }

    /// <summary>Its cosine similarity to the reference.</summary>
    public double Similarity { get; init; }

    /// <summary>The vector; in JSON the base64 of its little-endian IEEE 754 float32 values, exact.</summary>
    [JsonConverter(typeof(Float32Base64Converter))]
    public required float[] Vector { get; init; }
}
