using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>
/// Byte layout of a key file, format v1 (docs/format.md, "Key file"): the master key wrapped under a key derived
/// from a passphrase, plus the key file's label sealed under the master key.
/// </summary>
internal static class KeyFileFormat
{
    public const byte Version = 1;
    public const byte KdfPbkdf2Sha256 = 1;
    public const int MinSaltLength = 16;
    public const int MaxSaltLength = 64;
    public const int CheckSize = 16;
    public const int MinIterationsToOpen = 1_000;
    public const int MaxIterationsToOpen = 100_000_000;

    public static ReadOnlySpan<byte> Magic => "GHSK"u8;

    /// <summary>Builds a key file. <paramref name="salt"/> and <paramref name="nonce"/> are random except in known-answer tests.</summary>
    public static byte[] Create(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> repositoryId, string passphrase, int iterations,
        ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sealedMetadata)
    {
        int s = salt.Length;
        int headerLength = 13 + s + EnvelopeFormat.RepositoryIdSize + CheckSize;
        var file = new byte[headerLength + EnvelopeFormat.NonceSize + EnvelopeFormat.KeySize + EnvelopeFormat.TagSize + 4 + sealedMetadata.Length];
        Span<byte> span = file;
        Magic.CopyTo(span);
        span[4] = Version;
        span[5] = KdfPbkdf2Sha256;
        span[6] = 0;
        span[7] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], (uint)iterations);
        span[12] = (byte)s;
        salt.CopyTo(span[13..]);
        repositoryId.CopyTo(span[(13 + s)..]);

        Span<byte> wrapKey = stackalloc byte[EnvelopeFormat.KeySize];
        try
        {
            DerivePassphraseKeys(passphrase, salt, iterations, wrapKey, span.Slice(29 + s, CheckSize));
            nonce.CopyTo(span[headerLength..]);
            using var aes = new AesGcm(wrapKey, EnvelopeFormat.TagSize);
            aes.Encrypt(nonce, masterKey,
                span.Slice(headerLength + EnvelopeFormat.NonceSize, EnvelopeFormat.KeySize),
                span.Slice(headerLength + EnvelopeFormat.NonceSize + EnvelopeFormat.KeySize, EnvelopeFormat.TagSize),
                span[..headerLength]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrapKey);
        }

        int metadataOffset = headerLength + EnvelopeFormat.NonceSize + EnvelopeFormat.KeySize + EnvelopeFormat.TagSize;
        BinaryPrimitives.WriteUInt32BigEndian(span[metadataOffset..], (uint)sealedMetadata.Length);
        sealedMetadata.CopyTo(span[(metadataOffset + 4)..]);
        return file;
    }

    /// <summary>Parses the plaintext parts of a key file; every failure names the file.</summary>
    public static ParsedKeyFile Parse(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length < 13 || !data[..4].SequenceEqual(Magic))
        {
            throw new IntegrityException(name, data.Length < 4 ? "it is too short to be a key file" : "it does not start with the key file magic 'GHSK'");
        }

        if (data[4] == 0)
        {
            throw new IntegrityException(name, "its format version byte is 0, which no version writes");
        }

        if (data[4] > Version)
        {
            throw new UnsupportedFormatException($"Key file '{name}'", data[4], Version);
        }

        if (data[5] != KdfPbkdf2Sha256)
        {
            throw new UnsupportedFormatException($"Key file '{name}'", $"unsupported key derivation function id {data[5]}; this version knows 1 (PBKDF2-HMAC-SHA256)");
        }

        if (data[6] != 0 || data[7] != 0)
        {
            throw new IntegrityException(name, "its reserved bytes 6-7 are not zero");
        }

        uint iterations = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
        if (iterations is < MinIterationsToOpen or > MaxIterationsToOpen)
        {
            throw new IntegrityException(name, $"its iteration count {iterations} is outside the accepted {MinIterationsToOpen:N0}..{MaxIterationsToOpen:N0}");
        }

        int s = data[12];
        if (s is < MinSaltLength or > MaxSaltLength)
        {
            throw new IntegrityException(name, $"its salt length {s} is outside {MinSaltLength}..{MaxSaltLength}");
        }

        int headerLength = 13 + s + EnvelopeFormat.RepositoryIdSize + CheckSize;
        int metadataOffset = headerLength + EnvelopeFormat.NonceSize + EnvelopeFormat.KeySize + EnvelopeFormat.TagSize;
        if (data.Length < metadataOffset + 4)
        {
            throw new IntegrityException(name, $"it is {data.Length} bytes, shorter than its fixed part ({metadataOffset + 4} bytes; truncated)");
        }

        uint metadataLength = BinaryPrimitives.ReadUInt32BigEndian(data[metadataOffset..]);
        if (metadataLength != data.Length - metadataOffset - 4)
        {
            throw new IntegrityException(name, $"its metadata length field says {metadataLength} bytes but {data.Length - metadataOffset - 4} follow (truncated or extended)");
        }

        return new ParsedKeyFile(
            (int)iterations,
            data.Slice(13, s).ToArray(),
            data.Slice(13 + s, EnvelopeFormat.RepositoryIdSize).ToArray(),
            data.Slice(29 + s, CheckSize).ToArray(),
            data[..headerLength].ToArray(),
            data.Slice(headerLength, EnvelopeFormat.NonceSize).ToArray(),
            data.Slice(headerLength + EnvelopeFormat.NonceSize, EnvelopeFormat.KeySize + EnvelopeFormat.TagSize).ToArray(),
            data[(metadataOffset + 4)..].ToArray());
    }

    /// <summary>
    /// Unwraps the master key. Returns false when the passphrase is wrong (its check value differs); throws an
    /// <see cref="IntegrityException"/> when the check value matches but the wrapped key fails authentication,
    /// which means the key file itself was damaged or tampered with.
    /// </summary>
    public static bool TryUnwrap(ParsedKeyFile file, string passphrase, Span<byte> masterKey, string name)
    {
        Span<byte> wrapKey = stackalloc byte[EnvelopeFormat.KeySize];
        Span<byte> check = stackalloc byte[CheckSize];
        try
        {
            DerivePassphraseKeys(passphrase, file.Salt, file.Iterations, wrapKey, check);
            if (!CryptographicOperations.FixedTimeEquals(check, file.Check))
            {
                return false;
            }

            using var aes = new AesGcm(wrapKey, EnvelopeFormat.TagSize);
            try
            {
                aes.Decrypt(file.Nonce, file.WrappedKey.AsSpan(0, EnvelopeFormat.KeySize), file.WrappedKey.AsSpan(EnvelopeFormat.KeySize), masterKey, file.Header);
            }
            catch (AuthenticationTagMismatchException ex)
            {
                CryptographicOperations.ZeroMemory(masterKey);
                throw new IntegrityException(name, "the passphrase is right but the wrapped master key failed authentication", ex);
            }

            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrapKey);
        }
    }

    /// <summary>
    /// P = PBKDF2-HMAC-SHA256(UTF-8(NFC(passphrase)), salt, iterations, 32);
    /// wrapKey = HKDF-Expand(P, "ghostie/v1/keyfile/wrap", 32); check = HKDF-Expand(P, "ghostie/v1/keyfile/check", 16).
    /// </summary>
    public static void DerivePassphraseKeys(string passphrase, ReadOnlySpan<byte> salt, int iterations, Span<byte> wrapKey, Span<byte> check)
    {
        string normalized = passphrase.Normalize(NormalizationForm.FormC);
        byte[] utf8 = GC.AllocateUninitializedArray<byte>(Encoding.UTF8.GetByteCount(normalized), pinned: true);
        Span<byte> p = stackalloc byte[EnvelopeFormat.KeySize];
        try
        {
            Encoding.UTF8.GetBytes(normalized, utf8);
            Rfc2898DeriveBytes.Pbkdf2(utf8, salt, p, iterations, HashAlgorithmName.SHA256);
            HKDF.Expand(HashAlgorithmName.SHA256, p, wrapKey, Labels.KeyFileWrap);
            HKDF.Expand(HashAlgorithmName.SHA256, p, check, Labels.KeyFileCheck);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(utf8);
            CryptographicOperations.ZeroMemory(p);
        }
    }

    /// <summary>Metadata plaintext: u64 BE creation time (Unix ms) || u16 BE label length || label (UTF-8).</summary>
    public static byte[] EncodeMetadata(string label, long createdUnixMs)
    {
        byte[] labelBytes = Encoding.UTF8.GetBytes(label);
        var data = new byte[10 + labelBytes.Length];
        BinaryPrimitives.WriteInt64BigEndian(data, createdUnixMs);
        BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(8), (ushort)labelBytes.Length);
        labelBytes.CopyTo(data, 10);
        return data;
    }

    public static (string Label, long CreatedUnixMs) DecodeMetadata(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length < 10 || BinaryPrimitives.ReadUInt16BigEndian(data[8..]) != data.Length - 10)
        {
            throw new IntegrityException(name, "its metadata record is malformed");
        }

        return (Encoding.UTF8.GetString(data[10..]), BinaryPrimitives.ReadInt64BigEndian(data));
    }
}

internal sealed record ParsedKeyFile(int Iterations, byte[] Salt, byte[] RepositoryId, byte[] Check, byte[] Header, byte[] Nonce, byte[] WrappedKey, byte[] SealedMetadata);
