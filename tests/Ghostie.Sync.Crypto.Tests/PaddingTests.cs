using System.Buffers.Binary;
using Ghostie.Sync.Crypto.Internal;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>Envelope v3: payloads padded to size buckets, the length inside the encryption (docs/format.md, "Padding (envelope v3)").</summary>
public class PaddingTests
{
    private const string Name = "p/padded";

    [Theory]
    [InlineData(0, 1024)]
    [InlineData(30, 1024)]
    [InlineData(1016, 1024)]
    [InlineData(1017, 1088)]
    [InlineData(2500, 2560)]
    [InlineData(65536, 67584)]
    public void Bucket_MatchesThePublishedExamples(long payload, long content)
    {
        Assert.Equal(content, EnvelopeFormat.PaddedContentLength(payload));
    }

    [Fact]
    public void Bucket_WastesUnderSixPointTwoFivePercent_AboveTheMinimum_AndNeverShrinks()
    {
        var random = new Random(17);
        for (int i = 0; i < 20_000; i++)
        {
            long payload = 1017 + random.NextInt64(0, 1L << 30);
            long content = EnvelopeFormat.PaddedContentLength(payload);
            Assert.True(content >= payload + 8);
            Assert.True(content - (payload + 8) < (payload + 8) / 16.0, $"payload {payload}: content {content}");
        }
    }

    [Fact]
    public void Seal_WritesVersion3_AndTheSizeShowsOnlyTheBucket()
    {
        ObjectCipher cipher = FixedCipher();
        byte[] tenCharacters = cipher.Seal(new byte[10], ObjectKind.Pack, Name);
        byte[] aThousand = cipher.Seal(RandomBytes(1000, 1), ObjectKind.Pack, Name);

        Assert.Equal(3, tenCharacters[4]);
        Assert.Equal(48 + 1024 + 16, tenCharacters.Length);
        Assert.Equal(tenCharacters.Length, aThousand.Length);
        Assert.Equal(tenCharacters.Length, cipher.GetSealedLength(10));
    }

    public static TheoryData<int, int> Sizes => new()
    {
        { 0, 16 }, { 1, 16 }, { 1016, 16 }, { 1017, 16 }, { 65528, 16 }, { 65536, 16 }, { 65537, 16 }, { 200_000, 16 },
        { 1000, 10 }, { 1017, 10 }, { 5000, 10 }, { 40_000, 10 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task RoundTrip_OnEveryPath_EvenWhenThePayloadEndsInZeros(int size, int chunkShift)
    {
        ObjectCipher cipher = FixedCipher(chunkShift: chunkShift);
        foreach (byte[] payload in new[] { RandomBytes(size, size), WithZeroTail(RandomBytes(size, size + 1)) })
        {
            byte[] sealedSpan = cipher.Seal(payload, ObjectKind.Pack, Name);
            using var sealedStream = new MemoryStream();
            await cipher.SealAsync(new NonSeekable(payload), sealedStream, ObjectKind.Pack, Name);
            Assert.Equal(sealedSpan.Length, sealedStream.Length);

            foreach (byte[] sealedObject in new[] { sealedSpan, sealedStream.ToArray() })
            {
                Assert.Equal(payload, cipher.Open(sealedObject, ObjectKind.Pack, Name));
                var destination = new byte[ObjectCipher.GetPlaintextLength(sealedObject, Name)];
                Assert.Equal(payload.Length, cipher.Open(sealedObject, destination, ObjectKind.Pack, Name));
                Assert.Equal(payload, destination.AsSpan(0, payload.Length).ToArray());
                Assert.All(destination.AsSpan(payload.Length).ToArray(), b => Assert.Equal(0, b)); // no trailer left behind
                using var opened = new MemoryStream();
                await cipher.OpenAsync(new MemoryStream(sealedObject), opened, ObjectKind.Pack, Name);
                Assert.Equal(payload, opened.ToArray());
            }
        }
    }

    private static byte[] WithZeroTail(byte[] payload)
    {
        payload.AsSpan(payload.Length / 2).Clear(); // a long run of zeros that is payload, not padding
        return payload;
    }

    /// <summary>Seals <paramref name="content"/> as it stands (no padding added) under a v3 header.</summary>
    private static byte[] SealContent(ObjectCipher cipher, byte[] content)
    {
        var output = new byte[cipher.GetSealedLengthOfContent(content.Length)];
        cipher.SealCoreV3Content(content, output, ObjectKind.Pack, Name, CipherSuite.Aes256Gcm, 1, Filled(32, 0x44), counter: 9);
        return output;
    }

    private static byte[] Content(int payload, int padding, ulong lengthField, byte paddingByte = 0)
    {
        var content = new byte[payload + padding + 8];
        RandomBytes(payload, 3).CopyTo(content, 0);
        content.AsSpan(payload, padding).Fill(paddingByte);
        BinaryPrimitives.WriteUInt64BigEndian(content.AsSpan(payload + padding), lengthField);
        return content;
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "shorter than", new byte[7] },
        { "length", Content(100, 900, 2000) },
        { "length", Content(100, 900, ulong.MaxValue) },
        { "padding", Content(100, 900, 100, paddingByte: 1) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Open_MalformedContent_IsAnIntegrityErrorNamingTheObject_OnBothPaths(string reason, byte[] content)
    {
        ObjectCipher cipher = FixedCipher();
        byte[] sealedObject = SealContent(cipher, content);

        IntegrityException ex = Assert.Throws<IntegrityException>(() => cipher.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.Equal(Name, ex.ObjectName);
        Assert.Contains(reason, ex.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<IntegrityException>(() => cipher.OpenAsync(new MemoryStream(sealedObject), new MemoryStream(), ObjectKind.Pack, Name));
    }

    [Fact]
    public void Open_ContentPaddedToAnyBucket_IsAccepted()
    {
        // Readers do not check the bucket rule: a later writer may choose other sizes.
        ObjectCipher cipher = FixedCipher();
        byte[] content = Content(100, 17, 100);

        Assert.Equal(content.AsSpan(0, 100).ToArray(), cipher.Open(SealContent(cipher, content), ObjectKind.Pack, Name));
    }

    [Fact]
    public async Task KeyFileSize_DoesNotShowTheLabelLength()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "a", FastOptions());
        KeyFileInfo longer = await keys.AddPassphraseAsync("another passphrase", new string('x', 900));

        // v2 (Argon2id, 16-byte salt): 133 bytes before the 1,088-byte metadata envelope (docs/format.md, "Key file").
        string first = RepositoryKeys.KeyFilePrefix + keys.CurrentKeyFileId;
        Assert.Equal(1221, backend.GetRaw(first)!.Length);
        Assert.Equal(1221, backend.GetRaw(longer.ObjectName)!.Length);
        Assert.Equal(new string('x', 900), (await keys.ListKeyFilesAsync()).Single(k => k.Id == longer.Id).Label);
    }

    [Fact]
    public async Task EpochObjects_AreVersion3()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);

        byte[] epoch = backend.GetRaw((await backend.ListAsync(RepositoryKeys.EpochPrefix).ToListAsync()).Single())!;
        Assert.Equal(3, epoch[4]);
        Assert.Equal(48 + 1024 + 16, epoch.Length);
    }

    private sealed class NonSeekable(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 777), data.Length - _position); // short reads on purpose
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
