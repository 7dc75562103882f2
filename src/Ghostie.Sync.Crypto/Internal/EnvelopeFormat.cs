using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>Byte layout of the object envelope, format v1 (docs/format.md, "Object envelope").</summary>
internal static class EnvelopeFormat
{
    public const byte Version = 1;
    public const int HeaderSize = 44;
    public const int SaltSize = 32;
    public const int TagSize = 16;
    public const int NonceSize = 12;
    public const int KeySize = 32;
    public const int RepositoryIdSize = 16;
    public const byte DefaultChunkShift = 16;
    public const byte MinChunkShift = 10;
    public const byte MaxChunkShift = 24;

    /// <summary>Header (44) + repository id (16) + name length (2) + name (at most 64).</summary>
    public const int MaxAssociatedDataSize = HeaderSize + RepositoryIdSize + 2 + 64;

    public static ReadOnlySpan<byte> Magic => "GHSO"u8;

    public static long GetSealedLength(long plaintextLength, int chunkShift)
    {
        long chunkSize = 1L << chunkShift;
        long chunks = plaintextLength == 0 ? 1 : (plaintextLength + chunkSize - 1) / chunkSize;
        return HeaderSize + plaintextLength + (chunks * TagSize);
    }

    public static void WriteHeader(Span<byte> header, CipherSuite suite, ObjectKind kind, int chunkShift, uint epoch, ReadOnlySpan<byte> salt)
    {
        Magic.CopyTo(header);
        header[4] = Version;
        header[5] = (byte)suite;
        header[6] = (byte)kind;
        header[7] = (byte)chunkShift;
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], epoch);
        salt.CopyTo(header[12..HeaderSize]);
    }

    /// <summary>Validates a header and returns its fields; every failure names the object.</summary>
    public static EnvelopeHeader ReadHeader(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length < HeaderSize)
        {
            throw new IntegrityException(name, $"it is {data.Length} bytes, shorter than the {HeaderSize}-byte envelope header (truncated)");
        }

        if (!data[..4].SequenceEqual(Magic))
        {
            throw new IntegrityException(name, "it does not start with the Ghostie object magic 'GHSO'");
        }

        if (data[4] == 0)
        {
            throw new IntegrityException(name, "its format version byte is 0, which no version writes");
        }

        if (data[4] > Version)
        {
            throw new UnsupportedFormatException($"Object '{name}'", data[4], Version);
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

        return new EnvelopeHeader(suite, (ObjectKind)data[6], shift, BinaryPrimitives.ReadUInt32BigEndian(data[8..]));
    }

    /// <summary>Associated data of every chunk: header || repository id || u16 BE name length || name (ASCII).</summary>
    public static int WriteAssociatedData(Span<byte> destination, ReadOnlySpan<byte> header, ReadOnlySpan<byte> repositoryId, string name)
    {
        header[..HeaderSize].CopyTo(destination);
        repositoryId.CopyTo(destination[HeaderSize..]);
        int nameLength = Encoding.ASCII.GetBytes(name, destination[(HeaderSize + RepositoryIdSize + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(HeaderSize + RepositoryIdSize)..], (ushort)nameLength);
        return HeaderSize + RepositoryIdSize + 2 + nameLength;
    }

    /// <summary>Chunk nonce: u64 BE chunk index || 0x00 0x00 0x00 || final flag (0x01 on the last chunk, else 0x00).</summary>
    public static void WriteNonce(Span<byte> nonce, ulong chunkIndex, bool final)
    {
        BinaryPrimitives.WriteUInt64BigEndian(nonce, chunkIndex);
        nonce[8] = 0;
        nonce[9] = 0;
        nonce[10] = 0;
        nonce[11] = final ? (byte)1 : (byte)0;
    }

    /// <summary>objectKey = HKDF-SHA256(ikm = purpose key, salt = object salt, info = "ghostie/v1/object", L = 32).</summary>
    public static void DeriveObjectKey(ReadOnlySpan<byte> purposeKey, ReadOnlySpan<byte> salt, Span<byte> objectKey)
    {
        HKDF.DeriveKey(HashAlgorithmName.SHA256, purposeKey, objectKey, salt, Labels.Object);
    }

    public static ReadOnlySpan<byte> PurposeLabel(CipherSuite suite) => suite switch
    {
        CipherSuite.Aes256Gcm => Labels.DataAesGcm,
        CipherSuite.ChaCha20Poly1305 => Labels.DataChaCha,
        _ => throw new ArgumentOutOfRangeException(nameof(suite)),
    };
}

internal readonly record struct EnvelopeHeader(CipherSuite Suite, ObjectKind Kind, int ChunkShift, uint Epoch);
