using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>Issue 13 (Azure): block sizing within the service's 50,000-block limit, and a concurrent put that
/// discards our uncommitted blocks (InvalidBlockList), against Azurite. The block limit is lowered through the internal
/// <see cref="AzureBlobBackendOptions.MaxBlockCount"/> so no gigabytes are needed.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobBlockTests(AzuriteFixture azurite)
{
    private const int Block = AzureBlobBackendOptions.MinBlockSize; // 16 KiB

    private static byte[] Random(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Put_SeekableObjectNeedingMoreThanTheBlockLimit_UsesLargerBlocks_NeverMoreThanTheLimit()
    {
        using var recorder = new RecordingHandler();
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o =>
        {
            o.BlockSize = Block;
            o.SinglePutThreshold = Block;
            o.MaxBlockCount = 4;
            o.HttpMessageHandler = recorder;
        });
        byte[] data = Random((10 * Block) + 123, 1); // 11 blocks of 16 KiB

        await backend.PutAsync("b/known", new MemoryStream(data, writable: false));

        Assert.InRange(recorder.Count("PUT", "comp=block&"), 1, 4);
        Assert.Equal(data, await backend.ReadAllAsync("b/known"));
    }

    [Fact]
    public async Task Put_UnseekableObjectNeedingMoreThanTheBlockLimit_GrowsItsBlocks_NeverMoreThanTheLimit()
    {
        using var recorder = new RecordingHandler();
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o =>
        {
            o.BlockSize = Block;
            o.SinglePutThreshold = Block;
            o.MaxBlockCount = 8;
            o.HttpMessageHandler = recorder;
        });
        long size = (19L * Block) + 5; // 20 blocks of 16 KiB, of unknown length to the backend

        await using (var content = new GeneratedStream(size, seed: 3))
        {
            await backend.PutAsync("b/unknown", content);
        }

        Assert.InRange(recorder.Count("PUT", "comp=block&"), 1, 8);
        Assert.Equal(GeneratedStream.HashOf(size, seed: 3), await HashAsync(backend, "b/unknown"));
    }

    [Fact]
    public async Task Put_TooLargeForTheBlockLimitAtTheLargestBlock_FailsBeforeUploadingAnything()
    {
        using var recorder = new RecordingHandler();
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o =>
        {
            o.BlockSize = Block;
            o.SinglePutThreshold = Block;
            o.MaxBlockCount = 1;
            o.HttpMessageHandler = recorder;
        });

        // One block of at most 4,000 MiB cannot hold this declared length; the stream is never read.
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("b/huge", new DeclaredLengthStream(4001L * 1024 * 1024)));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains("b/huge", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, recorder.Count("PUT", "comp=block&"));
    }

    [Fact]
    public async Task Put_ConcurrentPutDiscardsOurBlocks_InvalidBlockList_RetriesTheWholeUpload()
    {
        // Committing a blob discards every uncommitted block of it, so a put racing ours makes our Put Block List
        // fail with 400 InvalidBlockList. A put must still succeed: the upload is done again, from the first block.
        var racing = new BeforeHandler();
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o =>
        {
            o.BlockSize = Block;
            o.SinglePutThreshold = Block;
            o.HttpMessageHandler = racing;
        });
        AzureBlobBackendOptions otherOptions = azurite.Options(backend.Container);
        otherOptions.BlockSize = Block;
        otherOptions.SinglePutThreshold = Block;
        using var other = new AzureBlobBackend(otherOptions);
        byte[] theirs = Random((2 * Block) + 1, 7);
        byte[] ours = Random((3 * Block) + 2, 8);
        racing.BeforeNext = r => r.Method == HttpMethod.Put && r.RequestUri!.Query.Contains("comp=blocklist", StringComparison.Ordinal)
            ? other.PutAsync("b/race", new MemoryStream(theirs, writable: false))
            : null;

        await backend.PutAsync("b/race", new MemoryStream(ours, writable: false));

        Assert.Equal(1, racing.Ran);
        Assert.Equal(ours, await backend.ReadAllAsync("b/race"));
    }

    [Fact]
    public async Task Put_ConcurrentPutDiscardsOurBlocks_UnseekableContent_FailsTransiently()
    {
        var racing = new BeforeHandler();
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o =>
        {
            o.BlockSize = Block;
            o.SinglePutThreshold = Block;
            o.HttpMessageHandler = racing;
        });
        AzureBlobBackendOptions otherOptions = azurite.Options(backend.Container);
        otherOptions.BlockSize = Block;
        otherOptions.SinglePutThreshold = Block;
        using var other = new AzureBlobBackend(otherOptions);
        byte[] theirs = Random((2 * Block) + 1, 7); // committed in blocks, which discards ours
        racing.BeforeNext = r => r.Method == HttpMethod.Put && r.RequestUri!.Query.Contains("comp=blocklist", StringComparison.Ordinal)
            ? other.PutAsync("b/race", new MemoryStream(theirs, writable: false))
            : null;

        await using var content = new GeneratedStream((3L * Block) + 2, seed: 9);
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("b/race", content));

        Assert.True(error.IsTransient);
        Assert.Contains("InvalidBlockList", error.Message, StringComparison.Ordinal);
        Assert.Equal(theirs, await backend.ReadAllAsync("b/race")); // theirs stands, untouched
    }

    private static async Task<byte[]> HashAsync(IStorageBackend backend, string name)
    {
        await using Stream stream = (await backend.GetAsync(name))!;
        return await System.Security.Cryptography.SHA256.HashDataAsync(stream);
    }
}

/// <summary>Runs an action before forwarding the first request it returns one for.</summary>
internal sealed class BeforeHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public Func<HttpRequestMessage, Task?>? BeforeNext { get; set; }

    public int Ran;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (BeforeNext is { } before && before(request) is { } action)
        {
            BeforeNext = null;
            await action;
            Interlocked.Increment(ref Ran);
        }

        return await base.SendAsync(request, cancellationToken);
    }
}

/// <summary>A seekable stream that declares a length and fails if read (the backend must refuse it first).</summary>
internal sealed class DeclaredLengthStream(long length) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get; set; }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("read although too large");

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => Position + offset,
        _ => length + offset,
    };

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
