using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Benchmarks.Crypto;

/// <summary>
/// The fixed cost of sealing and opening one object, whatever its size. The baseline is sealing an empty payload in
/// format v2 (the writer session's cached AEAD, its counter, header, associated data and one AEAD call); beside it,
/// opening that object (the reader's session cache), and the format v1 path (a random salt, an HKDF object key and
/// a new AEAD per object), then the BCL calls the v1 cost is made of.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives its runner from this class.</remarks>
[MemoryDiagnoser]
public class ObjectSetupBenchmarks
{
    private readonly byte[] _purposeKey = new byte[32];
    private readonly byte[] _salt = new byte[32];
    private readonly byte[] _objectKey = new byte[32];
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _tag = new byte[16];
    private readonly byte[] _associatedData = new byte[74];
    private readonly byte[] _destination = new byte[64];
    private readonly byte[] _destinationV1 = new byte[60];
    private readonly byte[] _sealedV1 = new byte[60];
    private readonly byte[] _sealedV2 = new byte[64];
    private KeyRing _ring = null!;
    private ObjectCipher _cipher = null!;
    private AesGcm _aes = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ring = new KeyRing(new byte[16], new byte[32]);
        _ring.AddEpoch(1, 0, new byte[32]);
        _cipher = new ObjectCipher(_ring);
        _aes = new AesGcm(_purposeKey, 16);
        _cipher.Seal(ReadOnlySpan<byte>.Empty, _sealedV2, ObjectKind.Pack, "bench/object", CipherSuite.Aes256Gcm);
        _cipher.SealCore(ReadOnlySpan<byte>.Empty, _sealedV1, ObjectKind.Pack, "bench/object", CipherSuite.Aes256Gcm, 1, _salt);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _aes.Dispose();
        _ring.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int SealEmptyObject() => _cipher.Seal(ReadOnlySpan<byte>.Empty, _destination, ObjectKind.Pack, "bench/object", CipherSuite.Aes256Gcm);

    [Benchmark]
    public int OpenEmptyObject() => _cipher.Open(_sealedV2, Span<byte>.Empty, ObjectKind.Pack, "bench/object");

    [Benchmark]
    public int SealEmptyObjectV1()
    {
        Span<byte> salt = stackalloc byte[32];
        RandomNumberGenerator.Fill(salt);
        return _cipher.SealCore(ReadOnlySpan<byte>.Empty, _destinationV1, ObjectKind.Pack, "bench/object", CipherSuite.Aes256Gcm, 1, salt);
    }

    [Benchmark]
    public int OpenEmptyObjectV1() => _cipher.Open(_sealedV1, Span<byte>.Empty, ObjectKind.Pack, "bench/object");

    [Benchmark]
    public byte[] RandomSalt()
    {
        RandomNumberGenerator.Fill(_salt);
        return _salt;
    }

    [Benchmark]
    public byte[] HkdfObjectKey()
    {
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _purposeKey, _objectKey, _salt, "ghostie/v1/object"u8);
        return _objectKey;
    }

    [Benchmark]
    public void KeyAesGcm()
    {
        using var aes = new AesGcm(_objectKey, 16);
    }

    [Benchmark]
    public void KeyChaCha20Poly1305()
    {
        using var chacha = new ChaCha20Poly1305(_objectKey);
    }

    [Benchmark]
    public byte[] AesGcmCallEmpty()
    {
        _aes.Encrypt(_nonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, _tag, _associatedData);
        return _tag;
    }
}
