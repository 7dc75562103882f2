using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>Downloads that stall mid-body are cancelled promptly by the reader's token, and a cancelled or abandoned
/// download gives its connection back (one connection per server here, so a leak would hang the next request).</summary>
public sealed class StreamingCancellationTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    [Fact]
    public async Task StalledDownload_IsCancelledByTheReadToken_AndTheConnectionIsReused()
    {
        string bucket = await moto.CreateBucketAsync();
        using var stalling = new StallingHandler(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Disabled);
        options.HttpMessageHandler = stalling;
        options.Retry = new BackendRetryOptions { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromSeconds(20), TimeProvider = new RecordingTimeProvider(), JitterSeed = 2 };
        using S3Backend backend = await S3Backend.CreateAsync(options);
        byte[] data = new byte[1024 * 1024];
        new Random(4).NextBytes(data);
        await backend.PutAsync("s/big", new MemoryStream(data));

        for (int round = 0; round < 3; round++)
        {
            stalling.StallAfter = 64 * 1024;
            await using (Stream? stream = await backend.GetAsync("s/big"))
            {
                Assert.NotNull(stream);
                byte[] buffer = new byte[16 * 1024];
                Assert.True(await stream.ReadAsync(buffer) > 0);
                using var cts = new CancellationTokenSource();
                Task<int> stalled = ReadToEndAsync(stream, cts.Token);
                await stalling.Stalled.WaitAsync(TimeSpan.FromSeconds(20));
                long requests = backend.RequestCount;
                await cts.CancelAsync();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stalled.WaitAsync(TimeSpan.FromSeconds(10)));
                Assert.Equal(requests, backend.RequestCount); // a cancelled read is not resumed
            }

            stalling.StallAfter = null;

            // The one connection is free again (the cancelled response was released), so this does not hang.
            await backend.PutAsync("s/small", new MemoryStream([1])).WaitAsync(TimeSpan.FromSeconds(15));
        }

        Assert.Equal(data, await StorageReads.ReadAllAsync(backend, "s/big"));
    }

    private static async Task<int> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[16 * 1024];
        int total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
        }

        return total;
    }
}
