using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>
/// Byte layout of a key file (docs/format.md, "Key file"): the master key wrapped under a key derived from a
/// passphrase, plus the key file's label sealed under the master key. Format v1 holds PBKDF2-HMAC-SHA256 (one
/// parameter, the iteration count); v2 holds Argon2id (memory, passes, parallelism). Both stay readable, and
/// writers still write PBKDF2 key files as v1, so older readers open them.
/// </summary>
internal static class KeyFileFormat
{
    public const byte Version = 2;
    public const byte VersionPbkdf2 = 1;
    public const byte VersionArgon2id = 2;
    public const byte KdfPbkdf2Sha256 = 1;
    public const byte KdfArgon2id = 2;
    public const int MinSaltLength = 16;
    public const int MaxSaltLength = 64;
    public const int CheckSize = 16;
    public const int MinIterationsToOpen = 1_000;
    public const int MaxIterationsToOpen = 100_000_000;

    /// <summary>libsodium's Argon2id takes exactly a 16-byte salt (crypto_pwhash_argon2id_SALTBYTES).</summary>
    public const int Argon2SaltLength = 16;

    /// <summary>libsodium's floor (crypto_pwhash_argon2id_MEMLIMIT_MIN, 8,192 bytes).</summary>
    public const int MinArgon2MemoryKiBToOpen = 8;

    /// <summary>1 GiB: the most a key file can make a device allocate.</summary>
    public const int MaxArgon2MemoryKiBToOpen = 1_048_576;

    public const int MinArgon2PassesToOpen = 1;
    public const int MaxArgon2PassesToOpen = 64;

    /// <summary>Memory times passes, in KiB: at most 4 GiB of memory filled (some seconds on a laptop), so the time is bounded too.</summary>
    public const long MaxArgon2WorkToOpen = 4L * 1_048_576;

    /// <summary>libsodium computes one lane only; a key file asking for more lanes cannot be derived here.</summary>
    public const int Argon2Parallelism = 1;

    public static ReadOnlySpan<byte> Magic => "GHSK"u8;

    /// <summary>Builds a v1 (PBKDF2-HMAC-SHA256) key file. <paramref name="salt"/> and <paramref name="nonce"/> are random except in known-answer tests.</summary>
    public static byte[] Create(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> repositoryId, string passphrase, int iterations,
        ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sealedMetadata) =>
        Create(masterKey, repositoryId, passphrase, KdfParameters.Pbkdf2(iterations), salt, nonce, sealedMetadata);

    /// <summary>
    /// Builds a key file: v1 for PBKDF2, v2 for Argon2id. <paramref name="salt"/> and <paramref name="nonce"/> are
    /// random except in known-answer tests.
    /// </summary>
    public static byte[] Create(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> repositoryId, string passphrase, KdfParameters kdf,
        ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sealedMetadata)
    {
        int s = salt.Length;
        int prefix = PrefixLength(kdf.Function);
        int headerLength = prefix + s + EnvelopeFormat.RepositoryIdSize + CheckSize;
        var file = new byte[headerLength + EnvelopeFormat.NonceSize + EnvelopeFormat.KeySize + EnvelopeFormat.TagSize + 4 + sealedMetadata.Length];
        Span<byte> span = file;
        Magic.CopyTo(span);
        span[6] = 0;
        span[7] = 0;
        if (kdf.Function == KeyDerivationFunction.Argon2id)
        {
            span[4] = VersionArgon2id;
            span[5] = KdfArgon2id;
            BinaryPrimitives.WriteUInt32BigEndian(span[8..], (uint)kdf.MemoryKiB);
            BinaryPrimitives.WriteUInt32BigEndian(span[12..], (uint)kdf.Iterations);
            BinaryPrimitives.WriteUInt32BigEndian(span[16..], (uint)kdf.Parallelism);
        }
        else
        {
            span[4] = VersionPbkdf2;
            span[5] = KdfPbkdf2Sha256;
            BinaryPrimitives.WriteUInt32BigEndian(span[8..], (uint)kdf.Iterations);
        }

        span[prefix - 1] = (byte)s;
        salt.CopyTo(span[prefix..]);
        repositoryId.CopyTo(span[(prefix + s)..]);

        Span<byte> wrapKey = stackalloc byte[EnvelopeFormat.KeySize];
        try
        {
            DerivePassphraseKeys(passphrase, salt, kdf, wrapKey, span.Slice(prefix + s + EnvelopeFormat.RepositoryIdSize, CheckSize), "a new key file");
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

    /// <summary>Bytes before the salt: magic, version, KDF id, reserved, the KDF's parameters, salt length.</summary>
    private static int PrefixLength(KeyDerivationFunction function) => function == KeyDerivationFunction.Argon2id ? 21 : 13;

    /// <summary>
    /// Parses the plaintext parts of a key file; every failure names the file. KDF parameters out of bounds throw a
    /// <see cref="KeyFileParametersException"/> naming the field before anything is derived.
    /// </summary>
    public static ParsedKeyFile Parse(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length < 13 || !data[..4].SequenceEqual(Magic))
        {
            throw new IntegrityException(name, data.Length < 4 ? "it is too short to be a key file" : "it does not start with the key file magic 'GHSK'");
        }

        byte version = data[4];
        if (version == 0)
        {
            throw new IntegrityException(name, "its format version byte is 0, which no version writes");
        }

        if (version > Version)
        {
            throw new UnsupportedFormatException($"Key file '{name}'", version, Version);
        }

        byte expectedKdf = version == VersionArgon2id ? KdfArgon2id : KdfPbkdf2Sha256;
        if (data[5] != expectedKdf)
        {
            throw new UnsupportedFormatException($"Key file '{name}'", version == VersionArgon2id
                ? $"unsupported key derivation function id {data[5]} in a v2 key file; v2 holds 2 (Argon2id)"
                : $"unsupported key derivation function id {data[5]} in a v1 key file; v1 holds 1 (PBKDF2-HMAC-SHA256)");
        }

        if (data[6] != 0 || data[7] != 0)
        {
            throw new IntegrityException(name, "its reserved bytes 6-7 are not zero");
        }

        KdfParameters kdf;
        if (version == VersionArgon2id)
        {
            if (data.Length < 21)
            {
                throw new IntegrityException(name, $"it is {data.Length} bytes, shorter than the 21 bytes of a v2 key file's parameters (truncated)");
            }

            kdf = ReadArgon2Parameters(data, name);
        }
        else
        {
            uint iterations = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
            if (iterations is < MinIterationsToOpen or > MaxIterationsToOpen)
            {
                throw new IntegrityException(name, $"its iteration count {iterations} is outside the accepted {MinIterationsToOpen:N0}..{MaxIterationsToOpen:N0}");
            }

            kdf = KdfParameters.Pbkdf2((int)iterations);
        }

        int prefix = PrefixLength(kdf.Function);
        int s = data[prefix - 1];
        if (s is < MinSaltLength or > MaxSaltLength)
        {
            throw new IntegrityException(name, $"its salt length {s} is outside {MinSaltLength}..{MaxSaltLength}");
        }

        if (kdf.Function == KeyDerivationFunction.Argon2id && s != Argon2SaltLength)
        {
            throw new IntegrityException(name, $"its salt length {s} is not {Argon2SaltLength}, the only Argon2id salt length of format v2");
        }

        int headerLength = prefix + s + EnvelopeFormat.RepositoryIdSize + CheckSize;
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
            kdf,
            data.Slice(prefix, s).ToArray(),
            data.Slice(prefix + s, EnvelopeFormat.RepositoryIdSize).ToArray(),
            data.Slice(prefix + s + EnvelopeFormat.RepositoryIdSize, CheckSize).ToArray(),
            data[..headerLength].ToArray(),
            data.Slice(headerLength, EnvelopeFormat.NonceSize).ToArray(),
            data.Slice(headerLength + EnvelopeFormat.NonceSize, EnvelopeFormat.KeySize + EnvelopeFormat.TagSize).ToArray(),
            data[(metadataOffset + 4)..].ToArray());
    }

    /// <summary>The Argon2id parameters of a v2 key file, each checked against its bound before any memory is touched.</summary>
    private static KdfParameters ReadArgon2Parameters(ReadOnlySpan<byte> data, string name)
    {
        uint memory = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
        uint passes = BinaryPrimitives.ReadUInt32BigEndian(data[12..]);
        uint parallelism = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
        if (memory is < MinArgon2MemoryKiBToOpen or > MaxArgon2MemoryKiBToOpen)
        {
            throw new KeyFileParametersException(name, "Argon2id memory m (KiB, bytes 8-11)", memory, MinArgon2MemoryKiBToOpen, MaxArgon2MemoryKiBToOpen);
        }

        if (passes is < MinArgon2PassesToOpen or > MaxArgon2PassesToOpen)
        {
            throw new KeyFileParametersException(name, "Argon2id passes t (bytes 12-15)", passes, MinArgon2PassesToOpen, MaxArgon2PassesToOpen);
        }

        if ((long)memory * passes > MaxArgon2WorkToOpen)
        {
            throw new KeyFileParametersException(name, "Argon2id work m * t (KiB, bytes 8-15)", (long)memory * passes, MinArgon2MemoryKiBToOpen, MaxArgon2WorkToOpen);
        }

        if (parallelism != Argon2Parallelism)
        {
            throw new KeyFileParametersException(name, "Argon2id parallelism p (bytes 16-19)", parallelism, Argon2Parallelism, Argon2Parallelism);
        }

        return KdfParameters.Argon2id((int)memory, (int)passes);
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
            DerivePassphraseKeys(passphrase, file.Salt, file.Kdf, wrapKey, check, name);
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

    /// <summary>PBKDF2 with <paramref name="iterations"/>: see the overload with <see cref="KdfParameters"/>.</summary>
    public static void DerivePassphraseKeys(string passphrase, ReadOnlySpan<byte> salt, int iterations, Span<byte> wrapKey, Span<byte> check) =>
        DerivePassphraseKeys(passphrase, salt, KdfParameters.Pbkdf2(iterations), wrapKey, check, "a key file");

    /// <summary>
    /// D = PBKDF2-HMAC-SHA256(UTF-8(NFC(passphrase)), salt, iterations, 32), or Argon2id(UTF-8(NFC(passphrase)), salt,
    /// t, m, p = 1, 32); wrapKey = HKDF-Expand(D, "ghostie/v1/keyfile/wrap", 32); check = HKDF-Expand(D, "ghostie/v1/keyfile/check", 16).
    /// </summary>
    public static void DerivePassphraseKeys(string passphrase, ReadOnlySpan<byte> salt, KdfParameters kdf, Span<byte> wrapKey, Span<byte> check, string what)
    {
        string normalized = passphrase.Normalize(NormalizationForm.FormC);
        byte[] utf8 = GC.AllocateUninitializedArray<byte>(Encoding.UTF8.GetByteCount(normalized), pinned: true);
        Span<byte> d = stackalloc byte[EnvelopeFormat.KeySize];
        try
        {
            Encoding.UTF8.GetBytes(normalized, utf8);
            if (kdf.Function == KeyDerivationFunction.Argon2id)
            {
                Argon2id(utf8, salt, kdf, d, what);
            }
            else
            {
                Rfc2898DeriveBytes.Pbkdf2(utf8, salt, d, kdf.Iterations, HashAlgorithmName.SHA256);
            }

            HKDF.Expand(HashAlgorithmName.SHA256, d, wrapKey, Labels.KeyFileWrap);
            HKDF.Expand(HashAlgorithmName.SHA256, d, check, Labels.KeyFileCheck);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(utf8);
            CryptographicOperations.ZeroMemory(d);
        }
    }

    /// <summary>Argon2id v0x13 through libsodium (NSec), 32 bytes out, no secret and no associated data.</summary>
    internal static void Argon2id(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, KdfParameters kdf, Span<byte> output, string what)
    {
        var algorithm = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
        {
            DegreeOfParallelism = kdf.Parallelism,
            MemorySize = kdf.MemoryKiB,
            NumberOfPasses = kdf.Iterations,
        });
        try
        {
            algorithm.DeriveBytes(password, salt, output);
        }
        catch (NotImplementedException ex)
        {
            // NSec reports a failed crypto_pwhash (in practice: the memory could not be allocated) this way.
            throw new GhostieSyncException(GhostieErrorCode.Unknown,
                $"Argon2id for {what} failed: {kdf.MemoryKiB:N0} KiB of memory could not be allocated on this device. Free memory and try again, or use a key file with less memory (the argon2id-phone profile).",
                isTransient: true, innerException: ex);
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

/// <summary>Key derivation parameters of one key file. <see cref="Iterations"/> is PBKDF2's iteration count or Argon2id's passes t.</summary>
internal readonly record struct KdfParameters(KeyDerivationFunction Function, int Iterations, int MemoryKiB, int Parallelism)
{
    public static KdfParameters Pbkdf2(int iterations) => new(KeyDerivationFunction.Pbkdf2HmacSha256, iterations, 0, 0);

    public static KdfParameters Argon2id(int memoryKiB, int passes) => new(KeyDerivationFunction.Argon2id, passes, memoryKiB, KeyFileFormat.Argon2Parallelism);
}

internal sealed record ParsedKeyFile(KdfParameters Kdf, byte[] Salt, byte[] RepositoryId, byte[] Check, byte[] Header, byte[] Nonce, byte[] WrappedKey, byte[] SealedMetadata);
