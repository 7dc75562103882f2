using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>
/// Byte layout of the object envelope (docs/format.md, "Object envelope"). Version 3 is written; versions 1, 2 and 3
/// are read. A v2 or v3 header is the v1 header (with the session salt where v1 has the object salt) followed by the
/// u32 object counter. v3 is v2 with a padded content: payload || zeros || u64 BE payload length.
/// </summary>
internal static class EnvelopeFormat
{
    /// <summary>The newest envelope version: the one written and the highest one read (padded content).</summary>
    public const byte Version = 3;
    public const byte Version2 = 2;
    public const byte Version1 = 1;

    /// <summary>The smallest v3 content: every payload of up to 1,016 bytes seals to the same size.</summary>
    public const int MinContentLength = 1024;

    /// <summary>The u64 payload length at the end of a v3 content.</summary>
    public const int LengthFieldSize = 8;
    public const int HeaderSizeV1 = 44;
    public const int HeaderSizeV2 = 48;

    /// <summary>The size of the header this version writes.</summary>
    public const int HeaderSize = HeaderSizeV2;
    public const int SaltOffset = 12;
    public const int CounterOffset = 44;
    public const int SaltSize = 32;
    public const int TagSize = 16;
    public const int NonceSize = 12;
    public const int KeySize = 32;
    public const int RepositoryIdSize = 16;
    public const byte DefaultChunkShift = 16;
    public const byte MinChunkShift = 10;
    public const byte MaxChunkShift = 24;

    /// <summary>v2 nonces hold the chunk index in 7 bytes.</summary>
    public const ulong MaxChunkIndexV2 = (1UL << 56) - 1;

    /// <summary>Header (at most 48) + repository id (16) + name length (2) + name (at most 64).</summary>
    public const int MaxAssociatedDataSize = HeaderSizeV2 + RepositoryIdSize + 2 + 64;

    public static ReadOnlySpan<byte> Magic => "GHSO"u8;

    public static int HeaderSizeOf(byte version) => version == Version1 ? HeaderSizeV1 : HeaderSizeV2;

    /// <summary>
    /// The v3 content length of a payload: bucket(payload + 8) with bucket(n) = max(1024, padme(n)), where Padmé
    /// rounds n up to a multiple of 2^(E - S), E = floor(log2 n), S = floor(log2 E) + 1 (docs/format.md, "Padding").
    /// </summary>
    public static long PaddedContentLength(long payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        long n = checked(payloadLength + LengthFieldSize);
        if (n <= MinContentLength)
        {
            return MinContentLength;
        }

        int e = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)n);
        int s = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)e);
        long mask = (1L << (e - s)) - 1;
        return checked(n + mask) & ~mask;
    }

    /// <summary>The sealed size of a v3 object of <paramref name="payloadLength"/> bytes (what writers produce).</summary>
    public static long GetSealedLength(long payloadLength, int chunkShift) => GetSealedLengthOfContent(PaddedContentLength(payloadLength), chunkShift, HeaderSizeV2);

    /// <summary>The sealed size of an object whose chunks hold <paramref name="contentLength"/> bytes.</summary>
    public static long GetSealedLengthOfContent(long contentLength, int chunkShift, int headerSize)
    {
        long chunkSize = 1L << chunkShift;
        long chunks = contentLength == 0 ? 1 : (contentLength + chunkSize - 1) / chunkSize;
        return headerSize + contentLength + (chunks * TagSize);
    }

    /// <summary>
    /// Writes the bytes [<paramref name="offset"/>, offset + piece.Length) of the v3 content of <paramref name="payload"/>
    /// (payload || zeros || u64 BE payload length, <paramref name="contentLength"/> bytes in all) into <paramref name="piece"/>.
    /// </summary>
    public static void WriteContent(ReadOnlySpan<byte> payload, long contentLength, long offset, Span<byte> piece)
    {
        int fromPayload = (int)Math.Clamp(payload.Length - offset, 0, piece.Length);
        payload.Slice((int)Math.Min(offset, payload.Length), fromPayload).CopyTo(piece);
        piece[fromPayload..].Clear();
        Span<byte> field = stackalloc byte[LengthFieldSize];
        BinaryPrimitives.WriteUInt64BigEndian(field, (ulong)payload.Length);
        WriteLengthField(field, contentLength, offset, piece);
    }

    /// <summary>Copies the part of the length field (the last 8 content bytes) that falls in <paramref name="piece"/>.</summary>
    public static void WriteLengthField(ReadOnlySpan<byte> field, long contentLength, long offset, Span<byte> piece)
    {
        long fieldStart = contentLength - LengthFieldSize;
        long from = Math.Max(fieldStart, offset);
        long to = Math.Min(contentLength, offset + piece.Length);
        if (from < to)
        {
            field.Slice((int)(from - fieldStart), (int)(to - from)).CopyTo(piece[(int)(from - offset)..]);
        }
    }

    /// <summary>
    /// Checks a whole decrypted v3 content and returns the payload length: the content holds at least the length field,
    /// the length fits, and every byte between the payload and the length field is zero. Failures name the object.
    /// </summary>
    public static int ReadContentLength(ReadOnlySpan<byte> content, string name)
    {
        if (content.Length < LengthFieldSize)
        {
            throw new IntegrityException(name, $"its content is {content.Length} bytes, shorter than the {LengthFieldSize}-byte payload length field of format v3");
        }

        ulong length = BinaryPrimitives.ReadUInt64BigEndian(content[^LengthFieldSize..]);
        if (length > (ulong)(content.Length - LengthFieldSize))
        {
            throw new IntegrityException(name, $"its payload length field says {length} bytes, more than the {content.Length - LengthFieldSize} its content holds");
        }

        if (content[(int)length..^LengthFieldSize].ContainsAnyExcept((byte)0))
        {
            throw new IntegrityException(name, "its padding is not all zero bytes");
        }

        return (int)length;
    }

    /// <summary>Writes a v1 header (44 bytes). Only known-answer tests write v1 now.</summary>
    public static void WriteHeaderV1(Span<byte> header, CipherSuite suite, ObjectKind kind, int chunkShift, uint epoch, ReadOnlySpan<byte> salt)
    {
        WriteCommon(header, Version1, suite, kind, chunkShift, epoch, salt);
    }

    /// <summary>Writes a v2 or v3 header (48 bytes): the common fields, the session salt, then the object counter.</summary>
    public static void WriteHeaderSession(Span<byte> header, byte version, CipherSuite suite, ObjectKind kind, int chunkShift, uint epoch, ReadOnlySpan<byte> sessionSalt, uint counter)
    {
        WriteCommon(header, version, suite, kind, chunkShift, epoch, sessionSalt);
        BinaryPrimitives.WriteUInt32BigEndian(header[CounterOffset..], counter);
    }

    private static void WriteCommon(Span<byte> header, byte version, CipherSuite suite, ObjectKind kind, int chunkShift, uint epoch, ReadOnlySpan<byte> salt)
    {
        Magic.CopyTo(header);
        header[4] = version;
        header[5] = (byte)suite;
        header[6] = (byte)kind;
        header[7] = (byte)chunkShift;
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], epoch);
        salt[..SaltSize].CopyTo(header[SaltOffset..]);
    }

    /// <summary>Validates a header (v1 or v2) and returns its fields; every failure names the object.</summary>
    public static EnvelopeHeader ReadHeader(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length < HeaderSizeV1)
        {
            throw new IntegrityException(name, $"it is {data.Length} bytes, shorter than the {HeaderSizeV1}-byte envelope header (truncated)");
        }

        if (!data[..4].SequenceEqual(Magic))
        {
            throw new IntegrityException(name, "it does not start with the Ghostie object magic 'GHSO'");
        }

        byte version = data[4];
        if (version == 0)
        {
            throw new IntegrityException(name, "its format version byte is 0, which no version writes");
        }

        if (version > Version)
        {
            throw new UnsupportedFormatException($"Object '{name}'", version, Version);
        }

        if (version >= Version2 && data.Length < HeaderSizeV2)
        {
            throw new IntegrityException(name, $"it is {data.Length} bytes, shorter than the {HeaderSizeV2}-byte v{version} envelope header (truncated)");
        }

        var suite = (CipherSuite)data[5];
        if (suite is not (CipherSuite.Aes256Gcm or CipherSuite.ChaCha20Poly1305))
        {
            throw new UnsupportedFormatException($"Object '{name}'", $"unknown cipher suite id {data[5]}; this version knows 1 (AES-256-GCM) and 2 (ChaCha20-Poly1305)");
        }

        byte shift = data[7];
        if (shift is < MinChunkShift or > MaxChunkShift)
        {
            throw new IntegrityException(name, $"its chunk size exponent {shift} is outside {MinChunkShift}..{MaxChunkShift}");
        }

        uint counter = version >= Version2 ? BinaryPrimitives.ReadUInt32BigEndian(data[CounterOffset..]) : 0;
        return new EnvelopeHeader(version, suite, (ObjectKind)data[6], shift, BinaryPrimitives.ReadUInt32BigEndian(data[8..]), counter);
    }

    /// <summary>Associated data of every chunk: header (44 or 48 bytes) || repository id || u16 BE name length || name (ASCII).</summary>
    public static int WriteAssociatedData(Span<byte> destination, ReadOnlySpan<byte> header, ReadOnlySpan<byte> repositoryId, string name)
    {
        header.CopyTo(destination);
        int at = header.Length;
        repositoryId.CopyTo(destination[at..]);
        at += RepositoryIdSize;
        int nameLength = Encoding.ASCII.GetBytes(name, destination[(at + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)nameLength);
        return at + 2 + nameLength;
    }

    /// <summary>
    /// Chunk nonce. v1: u64 BE chunk index || 0x00 0x00 0x00 || final flag. v2: u32 BE object counter ||
    /// chunk index as 7 bytes BE || final flag. The final flag is 0x01 on the last chunk, else 0x00.
    /// </summary>
    public static void WriteNonce(Span<byte> nonce, in EnvelopeHeader header, ulong chunkIndex, bool final)
    {
        if (header.Version == Version1)
        {
            WriteNonceV1(nonce, chunkIndex, final);
        }
        else
        {
            WriteNonceV2(nonce, header.Counter, chunkIndex, final);
        }
    }

    public static void WriteNonceV1(Span<byte> nonce, ulong chunkIndex, bool final)
    {
        BinaryPrimitives.WriteUInt64BigEndian(nonce, chunkIndex);
        nonce[8] = 0;
        nonce[9] = 0;
        nonce[10] = 0;
        nonce[11] = final ? (byte)1 : (byte)0;
    }

    public static void WriteNonceV2(Span<byte> nonce, uint counter, ulong chunkIndex, bool final)
    {
        if (chunkIndex > MaxChunkIndexV2)
        {
            throw new ArgumentOutOfRangeException(nameof(chunkIndex), "An object holds at most 2^56 chunks.");
        }

        BinaryPrimitives.WriteUInt32BigEndian(nonce, counter);
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], (chunkIndex << 8) | (final ? 1UL : 0UL));
    }

    /// <summary>v1 objectKey = HKDF-SHA256(ikm = purpose key, salt = object salt, info = "ghostie/v1/object", L = 32).</summary>
    public static void DeriveObjectKey(ReadOnlySpan<byte> purposeKey, ReadOnlySpan<byte> salt, Span<byte> objectKey)
    {
        HKDF.DeriveKey(HashAlgorithmName.SHA256, purposeKey, objectKey, salt, Labels.Object);
    }

    /// <summary>v2 sessionKey = HKDF-SHA256(ikm = purpose key, salt = session salt, info = "ghostie/v2/session", L = 32).</summary>
    public static void DeriveSessionKey(ReadOnlySpan<byte> purposeKey, ReadOnlySpan<byte> sessionSalt, Span<byte> sessionKey)
    {
        HKDF.DeriveKey(HashAlgorithmName.SHA256, purposeKey, sessionKey, sessionSalt, Labels.Session);
    }

    /// <summary>Derives the AEAD key of an object from its header: the object key (v1) or the session key (v2).</summary>
    public static void DeriveKey(byte version, ReadOnlySpan<byte> purposeKey, ReadOnlySpan<byte> salt, Span<byte> key)
    {
        if (version == Version1)
        {
            DeriveObjectKey(purposeKey, salt, key);
        }
        else
        {
            DeriveSessionKey(purposeKey, salt, key);
        }
    }

    public static ReadOnlySpan<byte> PurposeLabel(CipherSuite suite) => suite switch
    {
        CipherSuite.Aes256Gcm => Labels.DataAesGcm,
        CipherSuite.ChaCha20Poly1305 => Labels.DataChaCha,
        _ => throw new ArgumentOutOfRangeException(nameof(suite)),
    };
}

/// <summary>The fields of an envelope header. <see cref="Counter"/> is 0 for v1 (which has none).</summary>
internal readonly record struct EnvelopeHeader(byte Version, CipherSuite Suite, ObjectKind Kind, int ChunkShift, uint Epoch, uint Counter)
{
    public int Length => EnvelopeFormat.HeaderSizeOf(Version);
}
