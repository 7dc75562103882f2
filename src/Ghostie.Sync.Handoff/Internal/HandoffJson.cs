using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ghostie.Sync.Handoff.Internal;

/// <summary>The package's JSON, source-generated: snake_case, unknown properties ignored, no type names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(HandoffPackage))]
[JsonSerializable(typeof(PackageManifest))]
[JsonSerializable(typeof(ResumeClaim))]
[JsonSerializable(typeof(OfflinePackage))]
[JsonSerializable(typeof(List<OfflineWorkItem>))]
internal sealed partial class HandoffJson : JsonSerializerContext
{
    /// <summary>
    /// The context used to write and read: as generated, but with minimal escaping. The JSON is never embedded in HTML,
    /// and the default encoder would write every '+' of a base64 vector as "\u002B" (a sixth more bytes, and slower).
    /// </summary>
    public static HandoffJson Stored { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.Strict,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>
/// The small, separately readable head of a stored package (see docs/format.md, "Handoff packages"): what
/// <c>list</c> shows without decompressing the package. Sealed with the package, in its first chunk.
/// </summary>
internal sealed record PackageManifest
{
    public int Format { get; init; } = 1;

    public required string PackageId { get; init; }

    public int SchemaVersion { get; init; }

    public required string ConversationId { get; init; }

    public string Title { get; init; } = "";

    public required string SourceDeviceId { get; init; }

    public string SourceDeviceName { get; init; } = "";

    public string? TargetDeviceId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public int MessageCount { get; init; }

    public long TokenCount { get; init; }

    public int Agents { get; init; }

    public int Embeddings { get; init; }

    public int SecretsRemoved { get; init; }

    /// <summary>Bytes of the package JSON (the Brotli stream must decompress to exactly this many).</summary>
    public long JsonBytes { get; init; }
}

/// <summary>A float32 vector as the base64 of its little-endian bytes: exact, and far smaller and faster than a JSON number array.</summary>
internal sealed class Float32Base64Converter : JsonConverter<float[]>
{
    public override float[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A vector must be a base64 string of little-endian float32 values.");
        }

        byte[] bytes = reader.GetBytesFromBase64();
        if (bytes.Length % sizeof(float) != 0)
        {
            throw new JsonException($"A vector's base64 holds {bytes.Length} bytes, not a multiple of 4.");
        }

        var vector = new float[bytes.Length / sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(vector.AsSpan()));
        }
        else
        {
            for (int i = 0; i < vector.Length; i++)
            {
                vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
            }
        }

        return vector;
    }

    public override void Write(Utf8JsonWriter writer, float[] value, JsonSerializerOptions options)
    {
        if (BitConverter.IsLittleEndian)
        {
            writer.WriteBase64StringValue(MemoryMarshal.AsBytes(value.AsSpan()));
            return;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(value.Length * 4);
        try
        {
            for (int i = 0; i < value.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(rented.AsSpan(i * 4), value[i]);
            }

            writer.WriteBase64StringValue(rented.AsSpan(0, value.Length * 4));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>The content of a resume claim (<c>xc/&lt;package id&gt;</c>), sealed like a package: who claimed it and when.</summary>
internal sealed record ResumeClaim
{
    public required string PackageId { get; init; }

    public required string DeviceId { get; init; }

    public DateTimeOffset ClaimedAt { get; init; }
}
