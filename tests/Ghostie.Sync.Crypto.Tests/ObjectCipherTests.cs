using System.Buffers.Binary;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

public class ObjectCipherTests
{
    private const string Name = "packs/abc123";

    // Chunk size 1 KiB in most tests so multi-chunk cases stay small; one test uses the 64 KiB default.
    private const int Shift = 10;
    private const int Chunk = 1 << Shift;

    // Objects are written in format v2, whose header is 48 bytes (v1: 44).
    private const int H = 48;

    public static TheoryData<int, CipherSuite> Sizes()
    {
        var data = new TheoryData<int, CipherSuite>();
        foreach (CipherSuite suite in new[] { CipherSuite.Aes256Gcm, CipherSuite.ChaCha20Poly1305 })
        {
            foreach (int size in new[] { 0, 1, 15, 16, 17, Chunk - 1, Chunk, Chunk + 1, 2 * Chunk, (3 * Chunk) + 7 })
            {
                data.Add(size, suite);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Seal_ThenOpen_ReturnsPlaintext(int size, CipherSuite suite)
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] plaintext = RandomBytes(size, size);

        byte[] sealedObject = cipher.Seal(plaintext, ObjectKind.Pack, Name, suite);

        Assert.Equal(cipher.GetSealedLength(size), sealedObject.Length);
        Assert.Equal(plaintext, cipher.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.Equal(suite, ObjectCipher.ReadInfo(sealedObject, Name).Suite);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task SealAsync_ThenOpenAsync_ReturnsPlaintext_AndMatchesSpanFormat(int size, CipherSuite suite)
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] plaintext = RandomBytes(size, size + 1);

        using var sealedStream = new MemoryStream();
        await cipher.SealAsync(new MemoryStream(plaintext), sealedStream, ObjectKind.Pack, Name, suite);
        byte[] sealedObject = sealedStream.ToArray();
        Assert.Equal(cipher.GetSealedLength(size), sealedObject.Length);

        // The streaming and in-memory paths write one format: each opens what the other sealed.
        Assert.Equal(plaintext, cipher.Open(sealedObject, ObjectKind.Pack, Name));
        using var opened = new MemoryStream();
        await cipher.OpenAsync(new MemoryStream(cipher.Seal(plaintext, ObjectKind.Pack, Name, suite)), opened, ObjectKind.Pack, Name);
        Assert.Equal(plaintext, opened.ToArray());
    }

    [Fact]
    public async Task OpenAsync_ReadsFromStreamsThatReturnOneByteAtATime()
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] plaintext = RandomBytes((2 * Chunk) + 5, 3);
        byte[] sealedObject = cipher.Seal(plaintext, ObjectKind.Pack, Name);

        using var opened = new MemoryStream();
        await cipher.OpenAsync(new TrickleStream(sealedObject), opened, ObjectKind.Pack, Name);
        using var resealed = new MemoryStream();
        await cipher.SealAsync(new TrickleStream(plaintext), resealed, ObjectKind.Pack, Name);

        Assert.Equal(plaintext, opened.ToArray());
        Assert.Equal(plaintext, cipher.Open(resealed.ToArray(), ObjectKind.Pack, Name));
    }

    [Fact]
    public void Seal_DefaultChunkSize_Is64KiB_AndLargePayloadRoundTrips()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] plaintext = RandomBytes((5 * 65536) + 100, 9);

        byte[] sealedObject = cipher.Seal(plaintext, ObjectKind.Pack, Name);

        Assert.Equal(65536, cipher.ChunkSize);
        Assert.Equal(65536, ObjectCipher.ReadInfo(sealedObject, Name).ChunkSize);
        Assert.Equal(H + plaintext.Length + (6 * 16), sealedObject.Length);
        Assert.Equal(plaintext, cipher.Open(sealedObject, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Seal_SamePlaintextTwice_GivesDifferentObjects()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] plaintext = RandomBytes(100, 1);

        Assert.NotEqual(cipher.Seal(plaintext, ObjectKind.Pack, Name), cipher.Seal(plaintext, ObjectKind.Pack, Name));
    }

    [Fact]
    public void DefaultSuite_IsChaChaForVectors_AndAesGcmOtherwise()
    {
        ObjectCipher cipher = FixedCipher();
        Assert.Equal(CipherSuite.ChaCha20Poly1305, ObjectCipher.ReadInfo(cipher.Seal([1], ObjectKind.VectorData, Name), Name).Suite);
        Assert.Equal(CipherSuite.Aes256Gcm, ObjectCipher.ReadInfo(cipher.Seal([1], ObjectKind.Pack, Name), Name).Suite);
        Assert.Equal(CipherSuite.Aes256Gcm, ObjectCipher.ReadInfo(cipher.Seal([1], ObjectKind.Handoff, Name), Name).Suite);
        Assert.Equal(CipherSuite.Aes256Gcm, ObjectCipher.ReadInfo(cipher.Seal([1], ObjectKind.Head, Name), Name).Suite);
    }

    public static TheoryData<string, int> HeaderBytes() => new()
    {
        { "magic", 0 }, { "cipher", 5 }, { "kind", 6 }, { "chunk shift", 7 }, { "epoch", 11 }, { "salt first", 12 }, { "salt last", 43 }, { "counter first", 44 }, { "counter last", 47 },
    };

    [Theory]
    [MemberData(nameof(HeaderBytes))]
    public void Open_FlippedHeaderByte_IsRejectedNamingTheObject(string field, int offset)
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] sealedObject = cipher.Seal(RandomBytes(3000, 1), ObjectKind.Pack, Name);
        sealedObject[offset] ^= 0x01;

        var ex = Assert.ThrowsAny<GhostieSyncException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));

        Assert.Contains(Name, ex.Message);
        Assert.True(ex is IntegrityException || ex.Code is GhostieErrorCode.UnsupportedFormat or GhostieErrorCode.NotFound, $"{field}: {ex.GetType().Name} {ex.Code}");
    }

    [Fact]
    public void Open_FlippedVersionByte_SaysUnsupportedFormat()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] sealedObject = cipher.Seal([1, 2, 3], ObjectKind.Pack, Name);
        sealedObject[4] = 3;

        var ex = Assert.Throws<UnsupportedFormatException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));

        Assert.Contains("unsupported format v3; this version reads up to v2", ex.Message);
        Assert.Equal(GhostieErrorCode.UnsupportedFormat, ex.Code);
    }

    [Theory]
    [InlineData(H)]            // first ciphertext byte of chunk 0
    [InlineData(H + Chunk)]    // first tag byte of chunk 0
    [InlineData(H + Chunk + 16 + 5)] // inside chunk 1
    [InlineData(-1)]            // last tag byte of the final chunk
    public void Open_FlippedBodyOrTagByte_ThrowsIntegrityException(int offset)
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] plaintext = RandomBytes((2 * Chunk) + 10, 2);
        byte[] sealedObject = cipher.Seal(plaintext, ObjectKind.Pack, Name);
        sealedObject[offset < 0 ? sealedObject.Length + offset : offset] ^= 0x80;

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.Equal(Name, ex.ObjectName);
        Assert.Equal(GhostieErrorCode.IntegrityFailure, ex.Code);
    }

    [Fact]
    public void Open_FailedObject_ClearsTheDestination()
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] plaintext = TestSupport.Filled((2 * Chunk) + 10, 0x41);
        byte[] sealedObject = cipher.Seal(plaintext, ObjectKind.Pack, Name);
        sealedObject[^1] ^= 1; // the last chunk fails after the first two decrypted
        var destination = new byte[plaintext.Length];

        Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, destination, ObjectKind.Pack, Name));

        Assert.All(destination, b => Assert.Equal(0, b));
    }

    public static TheoryData<int> Truncations() => new() { 0, 10, 43, 44, 47, H, H + 15, H + Chunk + 16, H + Chunk + 16 + 3, H + (2 * (Chunk + 16)), -1 };

    [Theory]
    [MemberData(nameof(Truncations))]
    public async Task Open_TruncatedObject_ThrowsIntegrityException_BothPaths(int keep)
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] sealedObject = cipher.Seal(RandomBytes((3 * Chunk) + 100, 4), ObjectKind.Pack, Name);
        byte[] truncated = sealedObject[..(keep < 0 ? sealedObject.Length + keep : keep)];

        Assert.Throws<IntegrityException>(() => cipher.Open(truncated, ObjectKind.Pack, Name));
        await Assert.ThrowsAsync<IntegrityException>(() => cipher.OpenAsync(new MemoryStream(truncated), Stream.Null, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_TruncatedExactlyAtChunkBoundaryOfExactMultiple_IsDetectedByFinalFlag()
    {
        // 3 full chunks; dropping the last whole chunk leaves a well-formed 2-chunk object whose last chunk was
        // sealed as "not final". Only the final flag in the nonce catches this.
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] sealedObject = cipher.Seal(RandomBytes(3 * Chunk, 5), ObjectKind.Pack, Name);
        byte[] twoChunks = sealedObject[..(H + (2 * (Chunk + 16)))];

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(twoChunks, ObjectKind.Pack, Name));
        Assert.Contains("chunk 1", ex.Reason);
    }

    [Fact]
    public void Open_AppendedChunk_IsRejected()
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] a = cipher.Seal(RandomBytes(2 * Chunk, 6), ObjectKind.Pack, Name);
        byte[] extended = [.. a, .. a.AsSpan(H, Chunk + 16)];

        Assert.Throws<IntegrityException>(() => cipher.Open(extended, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_ReorderedChunks_ThrowsIntegrityException()
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] sealedObject = cipher.Seal(RandomBytes(3 * Chunk, 7), ObjectKind.Pack, Name);
        int c = Chunk + 16;
        byte[] reordered = [.. sealedObject.AsSpan(0, H), .. sealedObject.AsSpan(H + c, c), .. sealedObject.AsSpan(H, c), .. sealedObject.AsSpan(H + (2 * c), c)];

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(reordered, ObjectKind.Pack, Name));
        Assert.Contains("chunk 0", ex.Reason);
    }

    [Fact]
    public void Open_DroppedMiddleChunk_ThrowsIntegrityException()
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] sealedObject = cipher.Seal(RandomBytes((3 * Chunk) + 1, 8), ObjectKind.Pack, Name);
        int c = Chunk + 16;
        byte[] dropped = [.. sealedObject.AsSpan(0, H + c), .. sealedObject.AsSpan(H + (2 * c))];

        Assert.Throws<IntegrityException>(() => cipher.Open(dropped, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_ChunkSwappedInFromAnotherObject_ThrowsIntegrityException()
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        byte[] a = cipher.Seal(RandomBytes(2 * Chunk, 9), ObjectKind.Pack, Name);
        byte[] b = cipher.Seal(RandomBytes(2 * Chunk, 10), ObjectKind.Pack, Name);
        int c = Chunk + 16;
        byte[] mixed = [.. a.AsSpan(0, H + c), .. b.AsSpan(H + c, c)];

        Assert.Throws<IntegrityException>(() => cipher.Open(mixed, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_UnderAnotherName_ThrowsIntegrityException()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] sealedObject = cipher.Seal([1, 2, 3], ObjectKind.Pack, "packs/one");

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, "packs/two"));
        Assert.Equal("packs/two", ex.ObjectName);
    }

    [Fact]
    public void Open_AsAnotherKind_ThrowsIntegrityException()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] sealedObject = cipher.Seal([1, 2, 3], ObjectKind.Head, Name);

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.Contains("Head", ex.Reason);
    }

    [Fact]
    public void Open_KindByteRewrittenToMatch_StillFailsAuthentication()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] sealedObject = cipher.Seal([1, 2, 3], ObjectKind.Head, Name);
        sealedObject[6] = (byte)ObjectKind.Pack;

        Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_ObjectFromAnotherRepositoryWithSameKeys_ThrowsIntegrityException()
    {
        // Same master and epoch keys, different repository id: the id is bound into key derivation and AD.
        ObjectCipher mine = FixedCipher(repoFill: 0x11);
        ObjectCipher other = FixedCipher(repoFill: 0x12);
        byte[] sealedObject = other.Seal([1, 2, 3], ObjectKind.Pack, Name);

        Assert.Throws<IntegrityException>(() => mine.Open(sealedObject, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_UnknownEpoch_SaysToRefreshKeys()
    {
        ObjectCipher writer = FixedCipher(epoch: 7);
        ObjectCipher reader = FixedCipher(epoch: 1);
        byte[] sealedObject = writer.Seal([1], ObjectKind.Pack, Name);

        var ex = Assert.Throws<GhostieSyncException>(() => reader.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.Equal(GhostieErrorCode.NotFound, ex.Code);
        Assert.Contains("epoch 00000007", ex.Message); // hex, as docs/format.md names epochs
        Assert.Contains(Name, ex.Message);
    }

    [Fact]
    public void Open_VersionZero_IsAnIntegrityFailure_NotAnUpgradeHint()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] sealedObject = cipher.Seal([1], ObjectKind.Pack, Name);
        sealedObject[4] = 0;

        Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_DataObjectClaimingMasterKeyEpoch_IsRejected()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] forged = cipher.SealCoreRandom([1, 2, 3], ObjectKind.Pack, Name, epoch: 0);

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(forged, ObjectKind.Pack, Name));
        Assert.Contains("epoch 0", ex.Reason);
    }

    [Fact]
    public void Open_KeyMaterialUnderADataEpoch_IsRejected()
    {
        ObjectCipher cipher = FixedCipher(epoch: 5);
        byte[] misfiled = cipher.Seal([1, 2, 3], ObjectKind.KeyEpoch, "epochs/00000005");

        Assert.Throws<IntegrityException>(() => cipher.Open(misfiled, ObjectKind.KeyEpoch, "epochs/00000005"));
    }

    [Fact]
    public void Seal_InvalidName_ThrowsInvalidArgument()
    {
        ObjectCipher cipher = FixedCipher();
        var ex = Assert.Throws<GhostieSyncException>(() => cipher.Seal([1], ObjectKind.Pack, "Packs/UPPER"));
        Assert.Equal(GhostieErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public void Seal_DestinationTooSmall_Throws_AndGetSealedLengthIsExact()
    {
        ObjectCipher cipher = FixedCipher(chunkShift: Shift);
        Assert.Equal(H + 16, cipher.GetSealedLength(0));
        Assert.Equal(H + Chunk + 16, cipher.GetSealedLength(Chunk));
        Assert.Equal(H + Chunk + 1 + 32, cipher.GetSealedLength(Chunk + 1));
        Assert.Throws<ArgumentException>(() => cipher.Seal(new byte[10], new byte[10], ObjectKind.Pack, Name));
    }

    [Fact]
    public void IntegrityMessages_NeverContainPlaintext()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] plaintext = "SECRET-MEMORY-CONTENT-4711"u8.ToArray();
        byte[] sealedObject = cipher.Seal(plaintext, ObjectKind.Pack, Name);
        sealedObject[50] ^= 1;

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.DoesNotContain("SECRET", ex.ToString());
    }

    [Fact]
    public void ReadInfo_ReportsEpochKindSuiteAndChunkSize()
    {
        ObjectCipher cipher = FixedCipher(epoch: 0xDEADBEEF, chunkShift: 12);
        byte[] sealedObject = cipher.Seal([1], ObjectKind.Snapshot, Name);

        SealedObjectInfo info = ObjectCipher.ReadInfo(sealedObject, Name);

        Assert.Equal(new SealedObjectInfo(ObjectKind.Snapshot, CipherSuite.Aes256Gcm, 0xDEADBEEF, 4096), info);
        Assert.Equal(0xDEADBEEFu, BinaryPrimitives.ReadUInt32BigEndian(sealedObject.AsSpan(8)));
    }

    /// <summary>A stream that hands out one byte per read, like a slow network.</summary>
    private sealed class TrickleStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= data.Length || count == 0)
            {
                return 0;
            }

            buffer[offset] = data[_position++];
            return 1;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
