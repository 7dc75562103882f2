using System.Buffers.Binary;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Crypto.Internal;

namespace Ghostie.Sync.Benchmarks.Crypto;

/// <summary>
/// Sealing and opening one object with <see cref="ObjectCipher"/>, through the span and the stream API, against the
/// lower bound our framing is measured by: the raw BCL AEAD over the same bytes in 64 KiB calls, with no header, no
/// key derivation and no associated data. Ratios are per category (Seal, Open) and per payload size and cipher.
/// </summary>
/// <remarks>
/// Objects are sealed in format v2, so every Seal here is a new object of the same writer session (its AEAD is
/// cached), and every Open opens an object of a session the reader has cached: the steady state of writing or
/// pulling many objects. The first object of a session also pays the session key (HKDF) and keying the AEAD.
/// Allocated bytes per operation must not grow with <see cref="PayloadSize"/>: nothing is allocated per chunk.
/// Not sealed: BenchmarkDotNet derives its runner from this class.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[ThroughputColumn(nameof(PayloadSize))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class EnvelopeBenchmarks
{
    private const int ChunkSize = 64 * 1024;
    private const int TagSize = 16;
    private const string Name = "bench/object";

    private KeyRing _ring = null!;
    private ObjectCipher _cipher = null!;
    private AesGcm? _aes;
    private ChaCha20Poly1305? _chacha;

    private byte[] _plaintext = null!;
    private byte[] _sealDestination = null!;
    private byte[] _sealed = null!;
    private byte[] _opened = null!;
    private byte[] _rawDestination = null!;
    private byte[] _rawSealed = null!;
    private MemoryStream _plaintextStream = null!;
    private MemoryStream _sealDestinationStream = null!;
    private MemoryStream _sealedStream = null!;
    private MemoryStream _openedStream = null!;

    /// <summary>Plaintext size: one small object, exactly one chunk, and a large object of 256 chunks.</summary>
    [Params(1024, 64 * 1024, 16 * 1024 * 1024)]
    public int PayloadSize { get; set; }

    /// <summary>The AEAD; each is used with the object kind it is the default for.</summary>
    [Params(CipherSuite.Aes256Gcm, CipherSuite.ChaCha20Poly1305)]
    public CipherSuite Cipher { get; set; }

    private ObjectKind Kind => Cipher == CipherSuite.ChaCha20Poly1305 ? ObjectKind.VectorData : ObjectKind.Pack;

    [GlobalSetup]
    public void Setup()
    {
        byte[] repositoryId = new byte[16];
        byte[] master = new byte[32];
        byte[] epochKey = new byte[32];
        byte[] rawKey = new byte[32];
        var random = new Random(42);
        random.NextBytes(repositoryId);
        random.NextBytes(master);
        random.NextBytes(epochKey);
        random.NextBytes(rawKey);

        _ring = new KeyRing(repositoryId, master);
        _ring.AddEpoch(1, 0, epochKey);
        _cipher = new ObjectCipher(_ring);
        if (Cipher == CipherSuite.Aes256Gcm)
        {
            _aes = new AesGcm(rawKey, TagSize);
        }
        else
        {
            _chacha = new ChaCha20Poly1305(rawKey);
        }

        _plaintext = new byte[PayloadSize];
        random.NextBytes(_plaintext);
        int sealedLength = checked((int)_cipher.GetSealedLength(PayloadSize));
        _sealDestination = new byte[sealedLength];
        _sealed = new byte[sealedLength];
        _opened = new byte[PayloadSize];
        int rawLength = PayloadSize + (TagSize * Math.Max(1, (PayloadSize + ChunkSize - 1) / ChunkSize));
        _rawDestination = new byte[rawLength];
        _rawSealed = new byte[rawLength];

        _cipher.Seal(_plaintext, _sealed, Kind, Name, Cipher);
        BclEncrypt();
        _rawDestination.CopyTo(_rawSealed, 0);

        _plaintextStream = new MemoryStream(_plaintext, writable: false);
        _sealDestinationStream = new MemoryStream(_sealDestination, writable: true);
        _sealedStream = new MemoryStream(_sealed, writable: false);
        _openedStream = new MemoryStream(_opened, writable: true);

        // A benchmark of code that does the wrong thing is worthless: check every path round-trips once.
        Check(Open() == PayloadSize && _opened.AsSpan().SequenceEqual(_plaintext), "Open");
        Array.Clear(_opened);
        OpenStream().GetAwaiter().GetResult();
        Check(_openedStream.Position == PayloadSize && _opened.AsSpan().SequenceEqual(_plaintext), "OpenAsync");
        SealStream().GetAwaiter().GetResult();
        Check(_sealDestinationStream.Position == sealedLength && _cipher.Open(_sealDestination, Kind, Name).AsSpan().SequenceEqual(_plaintext), "SealAsync");
        Check(BclDecrypt() == PayloadSize && _opened.AsSpan().SequenceEqual(_plaintext), "BCL decrypt");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _aes?.Dispose();
        _chacha?.Dispose();
        _ring.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Seal")]
    public int BclEncrypt()
    {
        // The same key and nonces on every call: fine for timing, and never done outside this benchmark.
        Span<byte> nonce = stackalloc byte[12];
        nonce.Clear();
        ReadOnlySpan<byte> plaintext = _plaintext;
        Span<byte> destination = _rawDestination;
        int input = 0;
        int output = 0;
        ulong index = 0;
        do
        {
            int length = Math.Min(ChunkSize, plaintext.Length - input);
            BinaryPrimitives.WriteUInt64BigEndian(nonce, index++);
            if (_aes is not null)
            {
                _aes.Encrypt(nonce, plaintext.Slice(input, length), destination.Slice(output, length), destination.Slice(output + length, TagSize));
            }
            else
            {
                _chacha!.Encrypt(nonce, plaintext.Slice(input, length), destination.Slice(output, length), destination.Slice(output + length, TagSize));
            }

            input += length;
            output += length + TagSize;
        }
        while (input < plaintext.Length);
        return output;
    }

    [Benchmark]
    [BenchmarkCategory("Seal")]
    public int Seal() => _cipher.Seal(_plaintext, _sealDestination, Kind, Name, Cipher);

    [Benchmark]
    [BenchmarkCategory("Seal")]
    public Task SealStream()
    {
        _plaintextStream.Position = 0;
        _sealDestinationStream.Position = 0;
        return _cipher.SealAsync(_plaintextStream, _sealDestinationStream, Kind, Name, Cipher);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Open")]
    public int BclDecrypt()
    {
        Span<byte> nonce = stackalloc byte[12];
        nonce.Clear();
        ReadOnlySpan<byte> source = _rawSealed;
        Span<byte> plaintext = _opened;
        int input = 0;
        int output = 0;
        ulong index = 0;
        do
        {
            int length = Math.Min(ChunkSize, plaintext.Length - output);
            BinaryPrimitives.WriteUInt64BigEndian(nonce, index++);
            if (_aes is not null)
            {
                _aes.Decrypt(nonce, source.Slice(input, length), source.Slice(input + length, TagSize), plaintext.Slice(output, length));
            }
            else
            {
                _chacha!.Decrypt(nonce, source.Slice(input, length), source.Slice(input + length, TagSize), plaintext.Slice(output, length));
            }

            input += length + TagSize;
            output += length;
        }
        while (output < plaintext.Length);
        return output;
    }

    [Benchmark]
    [BenchmarkCategory("Open")]
    public int Open() => _cipher.Open(_sealed, _opened, Kind, Name);

    [Benchmark]
    [BenchmarkCategory("Open")]
    public Task OpenStream()
    {
        _sealedStream.Position = 0;
        _openedStream.Position = 0;
        return _cipher.OpenAsync(_sealedStream, _openedStream, Kind, Name);
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"{what} did not round-trip the payload; the benchmark would measure broken code.");
        }
    }
}
