using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Ghostie.Sync.Backends.GitHubGist.Internal;

/// <summary>What a gist file of the repository is, decoded from its name alone (no content read).</summary>
internal enum GistFileKind
{
    /// <summary>Not ours (the marker, or a file someone added by hand): ignored.</summary>
    Foreign,

    /// <summary>An object record: <c>o.NAME.GEN</c> (inline) or <c>o.NAME.GEN.WRITEID</c> (chunked).</summary>
    Object,

    /// <summary>A chunk of a large object: <c>c.WRITEID.INDEX</c>.</summary>
    Chunk,
}

/// <summary>A parsed gist file name.</summary>
internal readonly record struct ParsedFileName(GistFileKind Kind, string ObjectName, long Generation, string? WriteId, int ChunkIndex);

/// <summary>
/// The mapping between object names and gist files, and the text encodings of the files. Object names use
/// <c>[a-z0-9/]</c>; gist file names cannot contain '/', so '/' becomes '_' (absent from the alphabet, so the mapping is
/// reversible) and '.' separates the fields. Contents are base64url without padding: the alphabet needs no escaping in
/// JSON (plain base64's '+' and '/' are escaped by common encoders), and a file is never blank.
/// </summary>
internal static class GistFormat
{
    public const string MarkerFileName = "ghostie-sync.txt";
    public const string MarkerContent = "Ghostie.Sync encrypted repository storage (gist format 1). Do not edit: files here are ciphertext managed by Ghostie.Sync.\n";
    public const string DescriptionPrefix = "ghostie-sync:";
    public const string InlineHeader = "ghostie-gist/1 inline\n";
    public const string ChunkedHeader = "ghostie-gist/1 chunked\n";

    /// <summary>Room kept for a record's header and the JSON framing when budgeting a gist's bytes.</summary>
    public const int HeaderAllowance = 64;

    public static string Description(string tag) => DescriptionPrefix + tag;

    public static long EncodedLength(long rawLength) => (rawLength / 3 * 4) + (rawLength % 3) switch { 0 => 0, 1 => 2, _ => 3 };

    public static string ObjectFileName(string name, long generation, string? writeId) =>
        "o." + name.Replace('/', '_') + "." + generation.ToString(CultureInfo.InvariantCulture) + (writeId is null ? "" : "." + writeId);

    public static string ChunkFileName(string writeId, int index) => "c." + writeId + "." + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>A new write id: the creation time (unix seconds, 8 hex digits) and 48 random bits. The time lets cleanup
    /// spare chunks of uploads that may still be in progress; the random part keeps concurrent uploads apart.</summary>
    public static string NewWriteId(DateTimeOffset now)
    {
        Span<byte> random = stackalloc byte[6];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        return ((uint)Math.Clamp(now.ToUnixTimeSeconds(), 0, uint.MaxValue)).ToString("x8", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(random);
    }

    public static DateTimeOffset? WriteIdTime(string writeId) =>
        writeId.Length == 20 && uint.TryParse(writeId.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private static bool IsWriteId(string s) => s.Length == 20 && s.All(char.IsAsciiHexDigitLower);

    private static bool IsNumber(string s, out long value)
    {
        value = 0;
        return s.Length is > 0 and <= 18 && s.All(char.IsAsciiDigit) && (s.Length == 1 || s[0] != '0')
            && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public static ParsedFileName Parse(string fileName)
    {
        var foreign = new ParsedFileName(GistFileKind.Foreign, "", 0, null, 0);
        string[] parts = fileName.Split('.');
        if (parts[0] == "o" && parts.Length is 3 or 4 && parts[1].Length > 0 && !parts[1].Contains('/', StringComparison.Ordinal))
        {
            string name = parts[1].Replace('_', '/');
            if (!ObjectName.IsValid(name) || !IsNumber(parts[2], out long generation) || generation < 1 || (parts.Length == 4 && !IsWriteId(parts[3])))
            {
                return foreign;
            }

            return new ParsedFileName(GistFileKind.Object, name, generation, parts.Length == 4 ? parts[3] : null, 0);
        }

        if (parts[0] == "c" && parts.Length == 3 && IsWriteId(parts[1]) && IsNumber(parts[2], out long index) && index < 100_000)
        {
            return new ParsedFileName(GistFileKind.Chunk, "", 0, parts[1], (int)index);
        }

        return foreign;
    }

    /// <summary>Writes base64url (no padding) of <paramref name="data"/> to <paramref name="stream"/> in slices.</summary>
    public static async Task WriteBase64UrlAsync(Stream stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        const int Slice = 48 * 1024;
        byte[] encoded = ArrayPool<byte>.Shared.Rent(Slice / 3 * 4 + 4);
        try
        {
            for (int offset = 0; offset < data.Length; offset += Slice)
            {
                int count = Math.Min(Slice, data.Length - offset);
                Base64Url.EncodeToUtf8(data.Span.Slice(offset, count), encoded, out _, out int written, isFinalBlock: true);
                await stream.WriteAsync(encoded.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(encoded);
        }
    }

    /// <summary>Decodes base64url text from <paramref name="source"/> into <paramref name="target"/>; returns the decoded
    /// length, or -1 when the text is not base64url or does not fit.</summary>
    public static async Task<int> ReadBase64UrlAsync(Stream source, Memory<byte> target, CancellationToken cancellationToken)
    {
        byte[] text = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int pending = 0;
            int decoded = 0;
            while (true)
            {
                int read = await source.ReadAsync(text.AsMemory(pending, text.Length - pending), cancellationToken).ConfigureAwait(false);
                bool final = read == 0;
                int available = pending + read;
                OperationStatus status = Base64Url.DecodeFromUtf8(text.AsSpan(0, available), target.Span[decoded..], out int consumed, out int written, isFinalBlock: final);
                decoded += written;
                if (status == OperationStatus.InvalidData || status == OperationStatus.DestinationTooSmall || (final && status != OperationStatus.Done))
                {
                    return -1;
                }

                pending = available - consumed;
                text.AsSpan(consumed, pending).CopyTo(text);
                if (final)
                {
                    return decoded;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(text);
        }
    }

    /// <summary>Reads and checks an ASCII header line of known text.</summary>
    public static async Task<string?> ReadHeaderAsync(Stream source, CancellationToken cancellationToken)
    {
        byte[] one = new byte[1];
        var line = new StringBuilder();
        while (line.Length < 64)
        {
            if (await source.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }

            line.Append((char)one[0]);
            if (one[0] == '\n')
            {
                return line.ToString();
            }
        }

        return null;
    }
}

/// <summary>The commit record of a chunked object: the chunks in order, each with its gist, file, length and SHA-256.</summary>
internal sealed class ChunkedRecord
{
    [JsonPropertyName("length")]
    public long Length { get; set; }

    [JsonPropertyName("chunks")]
    public List<ChunkRef> Chunks { get; set; } = [];
}

/// <summary>One chunk of a chunked object.</summary>
internal sealed class ChunkRef
{
    [JsonPropertyName("gist")]
    public string Gist { get; set; } = "";

    [JsonPropertyName("file")]
    public string File { get; set; } = "";

    [JsonPropertyName("length")]
    public int Length { get; set; }

    [JsonPropertyName("sha256")]
    public string Sha256 { get; set; } = "";
}
