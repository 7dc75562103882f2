using System.Security.Cryptography;
using System.Text;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// The inputs of the known-answer vectors published in docs/format.md ("Test vectors"). Every value is a simple
/// byte pattern so an independent implementation can rebuild it from the document.
/// </summary>
internal static class KnownAnswerVectors
{
    public const string Passphrase = "correct horse battery staple";
    public const int Iterations = 600_000;
    public const uint Epoch = 0x01020304;
    public const string KatObjectName = "packs/kat";
    public const string KeyFileName = "keys/00112233aabbccdd";
    public const string EpochObjectName = "epochs/01020304";

    public static byte[] RepositoryId => Pattern(16, 0x00);          // 00 01 .. 0f
    public static byte[] MasterKey => Pattern(32, 0x40);             // 40 41 .. 5f
    public static byte[] EpochKey => Pattern(32, 0x80);              // 80 81 .. 9f
    public static byte[] ObjectSalt => Pattern(32, 0xa0);            // a0 a1 .. bf (v1 object salt)
    public static byte[] SessionSalt => Pattern(32, 0xa0);           // a0 a1 .. bf (v2 session salt)
    public const uint ShortCounter = 5;                              // v2 object counters
    public const uint EmptyCounter = 6;
    public const uint LongCounter = 0x0a0b0c0d;
    public static byte[] KeyFileSalt => Pattern(32, 0xc0);           // c0 c1 .. df
    public static byte[] KeyFileNonce => Pattern(12, 0xe0);          // e0 e1 .. eb
    public static byte[] MetadataSalt => Pattern(32, 0x10);          // 10 11 .. 2f
    public static byte[] EpochSalt => Pattern(32, 0x30);             // 30 31 .. 4f
    public static byte[] ShortPlaintext => Encoding.ASCII.GetBytes("Ghostie.Sync known-answer test");
    public static byte[] LongPlaintext => Enumerable.Range(0, 2500).Select(i => (byte)(i % 251)).ToArray(); // with chunk size 1 KiB
    public const long EpochCreatedUnixMs = 1_780_000_000_000;
    public const long KeyFileCreatedUnixMs = 1_780_000_000_000;
    public const string KeyFileLabel = "primary";

    public static byte[] Pattern(int length, byte start) => Enumerable.Range(0, length).Select(i => (byte)(start + i)).ToArray();

    public static KeyRing Ring()
    {
        var ring = new KeyRing(RepositoryId, MasterKey);
        ring.AddEpoch(Epoch, EpochCreatedUnixMs, EpochKey);
        return ring;
    }

    public static byte[] SealObject(byte[] plaintext, CipherSuite suite, ObjectKind kind, int chunkShift)
    {
        var cipher = new ObjectCipher(Ring(), chunkShift);
        var output = new byte[cipher.GetSealedLengthV1(plaintext.Length)];
        cipher.SealCore(plaintext, output, kind, KatObjectName, suite, Epoch, ObjectSalt);
        return output;
    }

    /// <summary>A format v2 object: session salt <see cref="SessionSalt"/>, the given object counter.</summary>
    public static byte[] SealObjectV2(byte[] plaintext, CipherSuite suite, ObjectKind kind, int chunkShift, uint counter)
    {
        var cipher = new ObjectCipher(Ring(), chunkShift);
        var output = new byte[cipher.GetSealedLengthV2(plaintext.Length)];
        cipher.SealCoreV2(plaintext, output, kind, KatObjectName, suite, Epoch, SessionSalt, counter);
        return output;
    }

    /// <summary>A format v3 object (padded): session salt <see cref="SessionSalt"/>, the given object counter.</summary>
    public static byte[] SealObjectV3(byte[] plaintext, CipherSuite suite, ObjectKind kind, int chunkShift, uint counter)
    {
        var cipher = new ObjectCipher(Ring(), chunkShift);
        var output = new byte[cipher.GetSealedLength(plaintext.Length)];
        cipher.SealCoreV3(plaintext, output, kind, KatObjectName, suite, Epoch, SessionSalt, counter);
        return output;
    }

    /// <summary>The epoch object in format v3: session salt 30..4f, counter 0.</summary>
    public static byte[] EpochObjectV3()
    {
        var cipher = new ObjectCipher(Ring());
        var output = new byte[cipher.GetSealedLength(45)];
        cipher.SealCoreV3(EpochRecord(), output, ObjectKind.KeyEpoch, EpochObjectName, CipherSuite.Aes256Gcm, 0, EpochSalt, 0);
        return output;
    }

    /// <summary>The key file with its metadata in format v3: session salt 10..2f, counter 0.</summary>
    public static byte[] KeyFileV3()
    {
        byte[] metadata = KeyFileFormat.EncodeMetadata(KeyFileLabel, KeyFileCreatedUnixMs);
        var cipher = new ObjectCipher(Ring());
        var sealedMetadata = new byte[cipher.GetSealedLength(metadata.Length)];
        cipher.SealCoreV3(metadata, sealedMetadata, ObjectKind.KeyFileMetadata, KeyFileName, CipherSuite.Aes256Gcm, 0, MetadataSalt, 0);
        return KeyFileFormat.Create(MasterKey, RepositoryId, Passphrase, Iterations, KeyFileSalt, KeyFileNonce, sealedMetadata);
    }

    private static byte[] EpochRecord()
    {
        var record = new byte[45];
        record[0] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(1), Epoch);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(5), EpochCreatedUnixMs);
        EpochKey.CopyTo(record, 13);
        return record;
    }

    public static byte[] EpochObject()
    {
        var record = new byte[45];
        record[0] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(1), Epoch);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(5), EpochCreatedUnixMs);
        EpochKey.CopyTo(record, 13);
        var cipher = new ObjectCipher(Ring());
        var output = new byte[cipher.GetSealedLengthV1(record.Length)];
        cipher.SealCore(record, output, ObjectKind.KeyEpoch, EpochObjectName, CipherSuite.Aes256Gcm, 0, EpochSalt);
        return output;
    }

    public static byte[] KeyFile()
    {
        byte[] metadata = KeyFileFormat.EncodeMetadata(KeyFileLabel, KeyFileCreatedUnixMs);
        var cipher = new ObjectCipher(Ring());
        var sealedMetadata = new byte[cipher.GetSealedLengthV1(metadata.Length)];
        cipher.SealCore(metadata, sealedMetadata, ObjectKind.KeyFileMetadata, KeyFileName, CipherSuite.Aes256Gcm, 0, MetadataSalt);
        return KeyFileFormat.Create(MasterKey, RepositoryId, Passphrase, Iterations, KeyFileSalt, KeyFileNonce, sealedMetadata);
    }

    public static byte[] PurposeKey(CipherSuite suite)
    {
        var key = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, EpochKey, key, RepositoryId, suite == CipherSuite.Aes256Gcm ? "ghostie/v1/data/aes-256-gcm"u8 : "ghostie/v1/data/chacha20-poly1305"u8);
        return key;
    }

    public static byte[] SessionKey(CipherSuite suite)
    {
        var key = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, PurposeKey(suite), key, SessionSalt, "ghostie/v2/session"u8);
        return key;
    }

    public static byte[] ObjectKey(CipherSuite suite)
    {
        var key = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, PurposeKey(suite), key, ObjectSalt, "ghostie/v1/object"u8);
        return key;
    }
}
