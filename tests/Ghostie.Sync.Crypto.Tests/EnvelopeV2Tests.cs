using System.Buffers.Binary;
using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// Format v2: writer sessions (session salt, object counter, cached AEAD), nonce uniqueness, the reader's session
/// cache, v2-specific tampering, and v1 objects still opening beside v2 ones.
/// </summary>
public class EnvelopeV2Tests
{
    private const string Name = "packs/v2test";
    private const int Shift = 10;
    private const int Chunk = 1 << Shift;
    private const int H = 48;

    private static (KeyRing Ring, ObjectCipher Cipher) NewCipher(int chunkShift = Shift, uint epoch = 1)
    {
        var ring = new KeyRing(Filled(16, 0x11), Filled(32, 0x22));
        ring.AddEpoch(epoch, 0, Filled(32, 0x33));
        return (ring, new ObjectCipher(ring, chunkShift));
    }

    private static byte[] SaltOf(byte[] sealedObject) => sealedObject.AsSpan(12, 32).ToArray();

    private static uint CounterOf(byte[] sealedObject) => BinaryPrimitives.ReadUInt32BigEndian(sealedObject.AsSpan(44));

    [Fact]
    public void Seal_WritesVersion3Header_WithSessionSaltAndCounter()
    {
        (_, ObjectCipher cipher) = NewCipher();
        byte[] a = cipher.Seal([1, 2, 3], ObjectKind.Pack, Name);
        byte[] b = cipher.Seal([4, 5, 6], ObjectKind.Pack, Name);

        Assert.Equal(3, a[4]); // v3: the v2 header and session, with a padded content
        Assert.Equal(H + 1024 + 16, a.Length);
        Assert.Equal(SaltOf(a), SaltOf(b));                 // one session on one thread
        Assert.Equal(CounterOf(a) + 1, CounterOf(b));        // consecutive object counters
        Assert.NotEqual(new byte[32], SaltOf(a));
    }

    [Fact]
    public async Task ObjectsSealedInOneSession_NeverShareANonce()
    {
        // Every chunk of every object is decrypted here with a nonce built independently from the document's rule
        // (u32 counter || 7-byte chunk index || final flag) under the session key derived independently; the set of
        // (session salt, nonce) pairs used must have no duplicate. A counter that failed to advance, or an index or
        // flag left out of the nonce, shows up as a duplicate or as a failed decryption.
        (KeyRing ring, ObjectCipher cipher) = NewCipher();
        var objects = new List<byte[]>();
        for (int i = 0; i < 60; i++)
        {
            byte[] plaintext = RandomBytes(i % 4 * Chunk + (i * 37 % Chunk), i);
            if (i % 3 == 0)
            {
                using var sealedStream = new MemoryStream();
                await cipher.SealAsync(new MemoryStream(plaintext), sealedStream, ObjectKind.Pack, Name);
                objects.Add(sealedStream.ToArray());
            }
            else
            {
                objects.Add(cipher.Seal(plaintext, ObjectKind.Pack, Name));
            }
        }

        var used = new HashSet<string>();
        int chunks = 0;
        foreach (byte[] sealedObject in objects)
        {
            byte[] salt = SaltOf(sealedObject);
            var sessionKey = new byte[32];
            HKDF.DeriveKey(HashAlgorithmName.SHA256, ring.GetPurposeKey(1, CipherSuite.Aes256Gcm), sessionKey, salt, "ghostie/v2/session"u8);
            using var aes = new AesGcm(sessionKey, 16);
            byte[] ad = [.. sealedObject.AsSpan(0, H), .. Filled(16, 0x11), 0, (byte)Name.Length, .. System.Text.Encoding.ASCII.GetBytes(Name)];
            int body = sealedObject.Length - H;
            int count = Math.Max(1, (body + Chunk + 15) / (Chunk + 16));
            for (int index = 0; index < count; index++)
            {
                int start = H + (index * (Chunk + 16));
                int sealedLength = Math.Min(Chunk + 16, sealedObject.Length - start);
                var nonce = new byte[12];
                sealedObject.AsSpan(44, 4).CopyTo(nonce);
                nonce[10] = (byte)index;
                nonce[11] = index == count - 1 ? (byte)1 : (byte)0;
                Assert.True(used.Add(Convert.ToHexString(salt) + Convert.ToHexString(nonce)), $"nonce reused: object counter {CounterOf(sealedObject)}, chunk {index}");
                var plain = new byte[sealedLength - 16];
                aes.Decrypt(nonce, sealedObject.AsSpan(start, sealedLength - 16), sealedObject.AsSpan(start + sealedLength - 16, 16), plain, ad);
                chunks++;
            }
        }

        Assert.Single(objects.Select(o => Convert.ToHexString(SaltOf(o))).Distinct());
        Assert.Equal(objects.Count, objects.Select(CounterOf).Distinct().Count());
        Assert.True(chunks > objects.Count);
    }

    [Fact]
    public async Task SessionsArePerThread_SoConcurrentWritersUseDifferentSalts()
    {
        (_, ObjectCipher cipher) = NewCipher();
        byte[] here = cipher.Seal([1], ObjectKind.Pack, Name);
        byte[] there = await Task.Factory.StartNew(() => cipher.Seal([1], ObjectKind.Pack, Name), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Assert.NotEqual(SaltOf(here), SaltOf(there));
    }

    [Fact]
    public void Session_StartsAgain_BeforeTheCounterWrapsAround()
    {
        (KeyRing ring, ObjectCipher cipher) = NewCipher();
        ring.Writers.FirstCounter = uint.MaxValue - 1;

        byte[] a = cipher.Seal([1], ObjectKind.Pack, Name);
        byte[] b = cipher.Seal([2], ObjectKind.Pack, Name);
        byte[] c = cipher.Seal([3], ObjectKind.Pack, Name);

        Assert.Equal(uint.MaxValue - 1, CounterOf(a));
        Assert.Equal(uint.MaxValue, CounterOf(b));
        Assert.Equal(SaltOf(a), SaltOf(b));
        Assert.NotEqual(SaltOf(b), SaltOf(c)); // a new session, so a new key: counter values may start again
        Assert.Equal(uint.MaxValue - 1, CounterOf(c));
        Assert.Equal([3], cipher.Open(c, ObjectKind.Pack, Name));
        Assert.Equal([2], cipher.Open(b, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Rotation_StartsANewSession_UnderTheNewEpoch()
    {
        (KeyRing ring, ObjectCipher cipher) = NewCipher();
        byte[] before = cipher.Seal([1], ObjectKind.Pack, Name);
        ring.AddEpoch(2, 10, Filled(32, 0x44));
        byte[] after = cipher.Seal([2], ObjectKind.Pack, Name);

        Assert.Equal(2u, ObjectCipher.ReadInfo(after, Name).Epoch);
        Assert.NotEqual(SaltOf(before), SaltOf(after));
        Assert.Equal([1], cipher.Open(before, ObjectKind.Pack, Name));
        Assert.Equal([2], cipher.Open(after, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_ObjectsOfOneSession_DeriveTheSessionKeyOnce()
    {
        (_, ObjectCipher writer) = NewCipher();
        byte[][] objects = [.. Enumerable.Range(0, 10).Select(i => writer.Seal(RandomBytes(100, i), ObjectKind.Pack, Name))];
        (KeyRing readerRing, ObjectCipher reader) = NewCipher();

        foreach (byte[] sealedObject in objects)
        {
            reader.Open(sealedObject, ObjectKind.Pack, Name);
        }

        Assert.Equal(9, readerRing.Readers.Hits);   // the first object derives; the nine others reuse it
        Assert.Equal(1, readerRing.Readers.Count);
    }

    [Fact]
    public async Task Open_ForgedObject_IsNotCached()
    {
        (_, ObjectCipher writer) = NewCipher();
        byte[] sealedObject = writer.Seal([1, 2, 3], ObjectKind.Pack, Name);
        sealedObject[20] ^= 1; // another session salt: its key is derived, but the object does not authenticate
        (KeyRing readerRing, ObjectCipher reader) = NewCipher();

        Assert.Throws<IntegrityException>(() => reader.Open(sealedObject, ObjectKind.Pack, Name));
        await Assert.ThrowsAsync<IntegrityException>(() => reader.OpenAsync(new MemoryStream(sealedObject), Stream.Null, ObjectKind.Pack, Name));

        Assert.Equal(0, readerRing.Readers.Count);
    }

    [Fact]
    public void SessionCache_IsBounded_EvictingTheLeastRecentlyUsed()
    {
        (KeyRing readerRing, ObjectCipher reader) = NewCipher();
        var first = new List<byte[]>();
        for (int i = 0; i < SessionCache.DefaultCapacity + 5; i++)
        {
            (_, ObjectCipher writer) = NewCipher(); // a new ring: a new writer session each time
            byte[] sealedObject = writer.Seal([(byte)i], ObjectKind.Pack, Name);
            first.Add(sealedObject);
            Assert.Equal([(byte)i], reader.Open(sealedObject, ObjectKind.Pack, Name));
        }

        Assert.Equal(SessionCache.DefaultCapacity, readerRing.Readers.Count);
        long hits = readerRing.Readers.Hits;
        reader.Open(first[^1], ObjectKind.Pack, Name);   // recent: still cached
        Assert.Equal(hits + 1, readerRing.Readers.Hits);
        reader.Open(first[0], ObjectKind.Pack, Name);    // the oldest was evicted: derived again
        Assert.Equal(hits + 1, readerRing.Readers.Hits);
    }

    [Fact]
    public void Open_CounterChanged_ThrowsIntegrityException()
    {
        (_, ObjectCipher cipher) = NewCipher();
        byte[] sealedObject = cipher.Seal(RandomBytes(3000, 1), ObjectKind.Pack, Name);
        BinaryPrimitives.WriteUInt32BigEndian(sealedObject.AsSpan(44), CounterOf(sealedObject) + 1);

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.Equal(Name, ex.ObjectName);
    }

    [Fact]
    public async Task Open_SessionSaltChanged_ThrowsIntegrityException_BothPaths()
    {
        (_, ObjectCipher cipher) = NewCipher();
        byte[] sealedObject = cipher.Seal(RandomBytes(3000, 2), ObjectKind.Pack, Name);
        sealedObject[30] ^= 0x40;

        Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
        await Assert.ThrowsAsync<IntegrityException>(() => cipher.OpenAsync(new MemoryStream(sealedObject), Stream.Null, ObjectKind.Pack, Name));
    }

    [Fact]
    public async Task Open_VersionFlippedTo1_ThrowsIntegrityException_BothPaths()
    {
        // Read as v1, the header is 44 bytes, the counter becomes body, and the key is derived as a v1 object key.
        (_, ObjectCipher cipher) = NewCipher();
        byte[] sealedObject = cipher.Seal(RandomBytes(3000, 3), ObjectKind.Pack, Name);
        sealedObject[4] = 1;

        Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
        await Assert.ThrowsAsync<IntegrityException>(() => cipher.OpenAsync(new MemoryStream(sealedObject), Stream.Null, ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_V1ObjectWithVersionFlippedTo2_ThrowsIntegrityException()
    {
        (KeyRing ring, ObjectCipher cipher) = NewCipher();
        byte[] v1 = SealV1(cipher, RandomBytes(3000, 4), 7);
        v1[4] = 2;

        Assert.Throws<IntegrityException>(() => cipher.Open(v1, ObjectKind.Pack, Name));
        Assert.Equal(0, ring.Readers.Count);
    }

    [Fact]
    public void Open_ChunkSwappedBetweenTwoObjectsOfOneSession_ThrowsIntegrityException()
    {
        (_, ObjectCipher cipher) = NewCipher();
        byte[] a = cipher.Seal(RandomBytes(3 * Chunk, 5), ObjectKind.Pack, Name);
        byte[] b = cipher.Seal(RandomBytes(3 * Chunk, 6), ObjectKind.Pack, Name);
        Assert.Equal(SaltOf(a), SaltOf(b)); // same session key: only the counter (nonce) and header (AD) tell them apart
        int c = Chunk + 16;

        byte[] chunkOfB = [.. a.AsSpan(0, H + c), .. b.AsSpan(H + c, c), .. a.AsSpan(H + (2 * c))];
        byte[] headerOfB = [.. b.AsSpan(0, H), .. a.AsSpan(H)];
        byte[] counterOfB = [.. a];
        BinaryPrimitives.WriteUInt32BigEndian(counterOfB.AsSpan(44), CounterOf(b));

        var ex = Assert.Throws<IntegrityException>(() => cipher.Open(chunkOfB, ObjectKind.Pack, Name));
        Assert.Contains("chunk 1", ex.Reason);
        Assert.Throws<IntegrityException>(() => cipher.Open(headerOfB, ObjectKind.Pack, Name));
        Assert.Throws<IntegrityException>(() => cipher.Open(counterOfB, ObjectKind.Pack, Name));
    }

    public static TheoryData<int, CipherSuite> BoundarySizes()
    {
        var data = new TheoryData<int, CipherSuite>();
        foreach (CipherSuite suite in new[] { CipherSuite.Aes256Gcm, CipherSuite.ChaCha20Poly1305 })
        {
            foreach (int size in new[] { 0, Chunk - 17, Chunk - 16, Chunk - 15, Chunk - 1, (2 * Chunk) - 16, (2 * Chunk) - 8, 2 * Chunk })
            {
                data.Add(size, suite);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BoundarySizes))]
    public async Task V1Objects_StillOpen_OnBothPaths(int size, CipherSuite suite)
    {
        (_, ObjectCipher cipher) = NewCipher();
        byte[] plaintext = RandomBytes(size, size + 11);
        byte[] v1 = SealV1(cipher, plaintext, size, suite);

        Assert.Equal(1, v1[4]);
        Assert.Equal(plaintext, cipher.Open(v1, ObjectKind.Pack, Name));
        using var opened = new MemoryStream();
        await cipher.OpenAsync(new MemoryStream(v1), opened, ObjectKind.Pack, Name);
        Assert.Equal(plaintext, opened.ToArray());
        Assert.Equal(size, ObjectCipher.GetPlaintextLength(v1, Name));
    }

    [Theory]
    [MemberData(nameof(BoundarySizes))]
    public async Task OpenAsync_TagsSplitAcrossTheChunkBuffer_RoundTrip(int size, CipherSuite suite)
    {
        // Sizes whose last sealed chunk is exactly, or a little more than, a chunk: the tag lands wholly or partly
        // past the chunk buffer.
        (_, ObjectCipher cipher) = NewCipher();
        byte[] plaintext = RandomBytes(size, size + 12);
        using var sealedStream = new MemoryStream();
        await cipher.SealAsync(new MemoryStream(plaintext), sealedStream, ObjectKind.Pack, Name, suite);
        byte[] sealedObject = sealedStream.ToArray();

        using var opened = new MemoryStream();
        await cipher.OpenAsync(new MemoryStream(sealedObject), opened, ObjectKind.Pack, Name);
        Assert.Equal(plaintext, opened.ToArray());

        // Cutting a few bytes off the end (inside the last tag) is always caught.
        await Assert.ThrowsAsync<IntegrityException>(() => cipher.OpenAsync(new MemoryStream(sealedObject[..^5]), Stream.Null, ObjectKind.Pack, Name));
    }

    [Fact]
    public async Task V1Object_Tampered_IsStillRejected()
    {
        (_, ObjectCipher cipher) = NewCipher();
        byte[] v1 = SealV1(cipher, RandomBytes(3000, 8), 9);
        v1[44 + 5] ^= 1;

        Assert.Throws<IntegrityException>(() => cipher.Open(v1, ObjectKind.Pack, Name));
        await Assert.ThrowsAsync<IntegrityException>(() => cipher.OpenAsync(new MemoryStream(v1), Stream.Null, ObjectKind.Pack, Name));
    }

    [Fact]
    public async Task ManyThreads_SealingAndOpeningWithOneCipher_AllRoundTrip()
    {
        (_, ObjectCipher cipher) = NewCipher();
        (_, ObjectCipher reader) = NewCipher();
        var counters = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 8), async (worker, cancellationToken) =>
        {
            for (int i = 0; i < 40; i++)
            {
                byte[] plaintext = RandomBytes((i * 301) % (3 * Chunk), (worker * 1000) + i);
                byte[] sealedObject;
                if (i % 2 == 0)
                {
                    sealedObject = cipher.Seal(plaintext, ObjectKind.Pack, Name);
                }
                else
                {
                    using var sealedStream = new MemoryStream();
                    await cipher.SealAsync(new YieldingStream(plaintext), sealedStream, ObjectKind.Pack, Name, cancellationToken: cancellationToken);
                    sealedObject = sealedStream.ToArray();
                }

                counters.Add(Convert.ToHexString(SaltOf(sealedObject)) + CounterOf(sealedObject));
                Assert.Equal(plaintext, reader.Open(sealedObject, ObjectKind.Pack, Name));
                using var opened = new MemoryStream();
                await reader.OpenAsync(new YieldingStream(sealedObject), opened, ObjectKind.Pack, Name, cancellationToken);
                Assert.Equal(plaintext, opened.ToArray());
            }
        });

        Assert.Equal(320, counters.Distinct().Count()); // no (session, counter) pair was handed out twice
    }

    [Fact]
    public async Task SealAsync_FailingSource_StillLeavesTheSessionUsable()
    {
        (_, ObjectCipher cipher) = NewCipher();
        await Assert.ThrowsAsync<IOException>(() => cipher.SealAsync(new FailingStream(), Stream.Null, ObjectKind.Pack, Name));

        byte[] sealedObject = cipher.Seal([9], ObjectKind.Pack, Name);
        Assert.Equal([9], cipher.Open(sealedObject, ObjectKind.Pack, Name));
    }

    private static byte[] SealV1(ObjectCipher cipher, byte[] plaintext, int seed, CipherSuite suite = CipherSuite.Aes256Gcm)
    {
        var output = new byte[cipher.GetSealedLengthV1(plaintext.Length)];
        cipher.SealCore(plaintext, output, ObjectKind.Pack, Name, suite, 1, RandomBytes(32, seed));
        return output;
    }

    /// <summary>A stream whose reads complete asynchronously, so continuations may run on other threads.</summary>
    private sealed class YieldingStream(byte[] data) : MemoryStream(data, writable: false)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, 700)], cancellationToken);
        }
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("disk gone");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
