using System.Net;
using System.Security.Cryptography;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>What only the S3 backend does: multipart uploads, aborts, prefixes, the conditional-write probe, request
/// counting, options and dependency injection. Against moto_server, and s3rver where the difference matters.</summary>
public sealed class S3BackendTests(MotoFixture moto) : IClassFixture<MotoFixture>, IAsyncLifetime
{
    private const int FiveMiB = 5 * 1024 * 1024;
    private readonly List<IDisposable> _disposables = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        foreach (IDisposable disposable in _disposables)
        {
            disposable.Dispose();
        }

        return Task.CompletedTask;
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    private async Task<(S3Backend Backend, FaultInjectingHandler Http, string Bucket)> SmallPartBackendAsync(int attempts = 3)
    {
        string bucket = await moto.CreateBucketAsync();
        FaultInjectingHandler http = Own(new FaultInjectingHandler());
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Enabled);
        options.MultipartThresholdBytes = FiveMiB;
        options.PartSizeBytes = FiveMiB;
        options.HttpMessageHandler = http;
        options.Retry = new BackendRetryOptions { MaxAttempts = attempts, TimeProvider = new RecordingTimeProvider(), JitterSeed = 3 };
        return (Own(await S3Backend.CreateAsync(options)), http, bucket);
    }

    /// <summary>A conditional backend on <paramref name="bucket"/> whose requests pass through an <see cref="AnswerLosingHandler"/>.</summary>
    private async Task<(ConditionalS3Backend Backend, AnswerLosingHandler Losing)> AnswerLosingBackendAsync(string bucket, bool multipart = false)
    {
        var losing = Own(new AnswerLosingHandler());
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Enabled);
        if (multipart)
        {
            options.MultipartThresholdBytes = FiveMiB;
            options.PartSizeBytes = FiveMiB;
        }

        options.HttpMessageHandler = losing;
        options.Retry = new BackendRetryOptions { TimeProvider = new RecordingTimeProvider(), JitterSeed = 1 };
        return (Assert.IsType<ConditionalS3Backend>(Own(await S3Backend.CreateAsync(options))), losing);
    }

    private static int Count(FaultInjectingHandler http, string method, string path) =>
        http.Log.Count(entry => entry == $"{method} {path}");

    [Fact]
    public async Task PutAsync_AboveThreshold_UsesMultipartParts_AtThresholdOnePut()
    {
        (S3Backend backend, FaultInjectingHandler http, string bucket) = await SmallPartBackendAsync();
        long size = (2L * FiveMiB) + 12_345;

        await using (var source = new GeneratedStream(size, seed: 5))
        {
            await backend.PutAsync("big/parts", source);
        }

        await using (var exact = new GeneratedStream(FiveMiB, seed: 6))
        {
            await backend.PutAsync("big/exact", exact);
        }

        string parts = $"/{bucket}/big/parts";
        Assert.Equal(2, Count(http, "POST", parts)); // initiate and complete
        Assert.Equal(3, Count(http, "PUT", parts)); // 5 MiB, 5 MiB, the rest
        Assert.Equal(1, Count(http, "PUT", $"/{bucket}/big/exact"));
        Assert.Equal(0, Count(http, "POST", $"/{bucket}/big/exact"));
        Assert.Equal(GeneratedStream.HashOf(size, seed: 5), await HashAsync(backend, "big/parts"));
        Assert.Equal(GeneratedStream.HashOf(FiveMiB, seed: 6), await HashAsync(backend, "big/exact"));
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
    }

    [Fact]
    public async Task PutAsync_CancelledMidMultipart_AbortsUpload_NoObjectNoParts()
    {
        (S3Backend backend, FaultInjectingHandler http, string bucket) = await SmallPartBackendAsync();
        using var cts = new CancellationTokenSource();
        await using var source = new GeneratedStream(30L * 1024 * 1024, seed: 2, triggerAt: 12L * 1024 * 1024, trigger: cts.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("c/cancelled", source, cts.Token));

        Assert.True(Count(http, "PUT", $"/{bucket}/c/cancelled") >= 2, "parts were uploaded before the cancellation");
        Assert.Equal(1, Count(http, "DELETE", $"/{bucket}/c/cancelled")); // the abort
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
        Assert.Null(await backend.GetAsync("c/cancelled"));
        Assert.Empty(await moto.RawKeysAsync(bucket));
    }

    [Fact]
    public async Task PutAsync_PartFailsPermanently_AbortsUpload_AndReportsTypedError()
    {
        (S3Backend backend, FaultInjectingHandler http, string bucket) = await SmallPartBackendAsync(attempts: 2);

        // Once the first part is sent, the next part's attempts all fail (a failing disk behind the store, say).
        await using var source = new GeneratedStream(12L * 1024 * 1024, seed: 4, triggerAt: FiveMiB + (512 * 1024),
            trigger: () => http.FailNext(2, Fault.Status(HttpStatusCode.InternalServerError)));

        var error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync("f/failed", source));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Equal(2, http.Faulted);
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
        Assert.Null(await backend.GetAsync("f/failed"));
    }

    [Fact]
    public async Task TryCreateAsync_Multipart_HonoursCreateOnly()
    {
        (S3Backend backend, _, string bucket) = await SmallPartBackendAsync();
        var conditional = Assert.IsType<ConditionalS3Backend>(backend);
        long size = FiveMiB + 100;

        await using (var first = new GeneratedStream(size, seed: 8))
        {
            Assert.True(await conditional.TryCreateAsync("m/once", first));
        }

        await using (var second = new GeneratedStream(size, seed: 9))
        {
            Assert.False(await conditional.TryCreateAsync("m/once", second));
        }

        Assert.Equal(GeneratedStream.HashOf(size, seed: 8), await HashAsync(backend, "m/once"));
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
    }

    [Fact]
    public async Task TryCreateAsync_FirstAnswerLost_RetryStillReportsCreated()
    {
        string bucket = await moto.CreateBucketAsync();
        (ConditionalS3Backend backend, AnswerLosingHandler losing) = await AnswerLosingBackendAsync(bucket);

        losing.LoseNextAnswer = true;
        Assert.True(await backend.TryCreateAsync("h/head", new MemoryStream([1, 2, 3])));
        Assert.Equal(1, losing.Lost);

        // Someone else's object under the name is still refused.
        Assert.False(await backend.TryCreateAsync("h/head", new MemoryStream([4])));
    }

    [Fact]
    public async Task TryReplaceAsync_FirstAnswerLost_RetryStillReportsReplaced()
    {
        string bucket = await moto.CreateBucketAsync();
        (ConditionalS3Backend backend, AnswerLosingHandler losing) = await AnswerLosingBackendAsync(bucket);
        Assert.True(await backend.TryCreateAsync("r/one", new MemoryStream([1])));
        string version = Assert.IsType<string>(await backend.GetVersionAsync("r/one"));

        // The first PUT replaces the object, its answer is lost; the retry's If-Match then meets our own new ETag.
        losing.LoseNextAnswer = true;
        Assert.True(await backend.TryReplaceAsync("r/one", new MemoryStream([2, 2]), version));
        Assert.Equal(1, losing.Lost);
        Assert.Equal(new byte[] { 2, 2 }, await StorageReads.ReadAllAsync(backend, "r/one"));

        // A stale version is still refused, and a lost answer does not turn someone else's change into ours.
        Assert.False(await backend.TryReplaceAsync("r/one", new MemoryStream([3]), version));
    }

    [Fact]
    public async Task TryCreateAsync_SameBytesCreatedByAnotherWriterBeforeRetry_ReportsFalse()
    {
        // Two devices create-only the same name with identical bytes (a claim marker, say). Ours fails with a 503
        // that never reached the store; the other device's lands; our retry meets 412. Only one may win.
        string bucket = await moto.CreateBucketAsync();
        (ConditionalS3Backend backend, AnswerLosingHandler losing) = await AnswerLosingBackendAsync(bucket);
        S3BackendOptions otherOptions = moto.Options(bucket, S3ConditionalWrites.Enabled);
        var other = Assert.IsType<ConditionalS3Backend>(Own(await S3Backend.CreateAsync(otherOptions)));

        losing.InsteadOfNext = async () => Assert.True(await other.TryCreateAsync("c/claim", new MemoryStream([7, 7, 7])));
        Assert.False(await backend.TryCreateAsync("c/claim", new MemoryStream([7, 7, 7])));
        Assert.Equal(1, losing.Lost);
    }

    [Fact]
    public async Task TryCreateAsync_MultipartCompletionAnswerLost_RetryStillReportsCreated()
    {
        string bucket = await moto.CreateBucketAsync();
        (ConditionalS3Backend backend, AnswerLosingHandler losing) = await AnswerLosingBackendAsync(bucket, multipart: true);
        long size = FiveMiB + 10;

        losing.LoseNextMatching = r => r.Method == HttpMethod.Post && r.RequestUri!.Query.Contains("uploadId", StringComparison.Ordinal);
        await using (var content = new GeneratedStream(size, seed: 21))
        {
            Assert.True(await backend.TryCreateAsync("m/lost", content));
        }

        Assert.Equal(1, losing.Lost);
        Assert.Equal(GeneratedStream.HashOf(size, seed: 21), await HashAsync(backend, "m/lost"));
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
    }

    [Fact]
    public async Task TryReplace_RacingInstances_WithOneVersion_ExactlyOneWins_AndItsBytesStand()
    {
        string bucket = await moto.CreateBucketAsync();
        var devices = new List<ConditionalS3Backend>();
        for (int i = 0; i < 6; i++)
        {
            devices.Add(Assert.IsType<ConditionalS3Backend>(Own(await S3Backend.CreateAsync(moto.Options(bucket, S3ConditionalWrites.Enabled)))));
        }

        Assert.True(await devices[0].TryCreateAsync("x/shared", new MemoryStream([0])));
        string version = Assert.IsType<string>(await devices[1].GetVersionAsync("x/shared"));

        bool[] won = await Task.WhenAll(devices.Select((d, i) => d.TryReplaceAsync("x/shared", new MemoryStream([(byte)(i + 1), 9]), version)));

        int winner = Assert.Single(Enumerable.Range(0, won.Length), i => won[i]);
        Assert.Equal(new byte[] { (byte)(winner + 1), 9 }, await StorageReads.ReadAllAsync(devices[2], "x/shared"));
    }

    [Fact]
    public async Task Cancellation_DuringMultipart_WithAHangingAbort_ReturnsWithinOneAttemptTimeout()
    {
        string bucket = await moto.CreateBucketAsync();
        var losing = Own(new AnswerLosingHandler());
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Disabled);
        options.MultipartThresholdBytes = FiveMiB;
        options.PartSizeBytes = FiveMiB;
        options.HttpMessageHandler = losing;
        options.Retry = new BackendRetryOptions { AttemptTimeout = TimeSpan.FromSeconds(1), TimeProvider = new RecordingTimeProvider(), JitterSeed = 1 };
        S3Backend backend = Own(await S3Backend.CreateAsync(options));
        losing.HangWhen = r => r.Method == HttpMethod.Delete && r.RequestUri!.Query.Contains("uploadId", StringComparison.Ordinal);
        using var cts = new CancellationTokenSource();
        await using var content = new GeneratedStream((2L * FiveMiB) + 10, seed: 4, triggerAt: FiveMiB + 1000, trigger: cts.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("c/big", content, cts.Token));

        // The abort gets one attempt (the lifecycle rule covers an upload whose abort failed), not 5 retries of one
        // attempt timeout each. Counted, not timed: the clock of this shared machine is no witness.
        Assert.Equal(1, losing.Hung);
        Assert.Null(await backend.GetAsync("c/big"));
    }

    [Fact]
    public async Task Probe_WhoseCleanupHangs_StillReturnsWithinOneAttemptTimeout()
    {
        string bucket = await moto.CreateBucketAsync();
        var losing = Own(new AnswerLosingHandler());
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Auto);
        options.HttpMessageHandler = losing;
        options.Retry = new BackendRetryOptions { AttemptTimeout = TimeSpan.FromSeconds(1), TimeProvider = new RecordingTimeProvider(), JitterSeed = 1 };
        losing.HangWhen = r => r.Method == HttpMethod.Delete && r.RequestUri!.AbsolutePath.Contains(".ghostie-probe", StringComparison.Ordinal);

        S3Backend backend = Own(await S3Backend.CreateAsync(options));

        Assert.Equal(2, losing.Hung); // one attempt at each cleanup (the multipart abort, the DELETE), not retried ones
        Assert.IsType<ConditionalS3Backend>(backend);
        Assert.Empty(await StorageReads.ListAllAsync(backend, "")); // the leftover probe object is never listed
    }

    [Fact]
    public async Task Prefix_TwoRepositoriesInOneBucket_AreIsolated()
    {
        string bucket = await moto.CreateBucketAsync();
        S3BackendOptions aliceOptions = moto.Options(bucket);
        aliceOptions.Prefix = "ghostie/alice";
        S3BackendOptions bobOptions = moto.Options(bucket);
        bobOptions.Prefix = "ghostie/bob/";
        S3Backend alice = Own(await S3Backend.CreateAsync(aliceOptions));
        S3Backend bob = Own(await S3Backend.CreateAsync(bobOptions));

        await alice.PutAsync("k/1", new MemoryStream([1]));
        await alice.PutAsync("k/2", new MemoryStream([2]));
        await bob.PutAsync("k/1", new MemoryStream([9]));

        Assert.Equal(["k/1", "k/2"], await StorageReads.ListAllAsync(alice, ""));
        Assert.Equal(["k/1"], await StorageReads.ListAllAsync(bob, "k/"));
        Assert.Equal(new byte[] { 9 }, await StorageReads.ReadAllAsync(bob, "k/1"));
        Assert.Null(await bob.GetAsync("k/2"));
        Assert.False(await bob.DeleteAsync("k/2"));
        Assert.True(await alice.DeleteAsync("k/1"));
        Assert.Equal(new byte[] { 9 }, await StorageReads.ReadAllAsync(bob, "k/1"));
        Assert.Equal(["ghostie/alice/k/2", "ghostie/bob/k/1"], (await moto.RawKeysAsync(bucket)).Order(StringComparer.Ordinal));
        Assert.Contains("prefix 'ghostie/alice/'", alice.DisplayName, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a/../b")]
    [InlineData("./x")]
    [InlineData("odd!*'()-_.chars")]
    [InlineData("..")]
    public async Task Prefix_WithUnusualCharacters_KeysAreStoredExactly(string prefix)
    {
        string bucket = await moto.CreateBucketAsync();
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Enabled);
        options.Prefix = prefix;
        S3Backend backend = Own(await S3Backend.CreateAsync(options));

        await backend.PutAsync("k/1", new MemoryStream([1]));

        Assert.Equal([prefix + "/k/1"], await moto.RawKeysAsync(bucket));
        Assert.Equal(["k/1"], await StorageReads.ListAllAsync(backend, ""));
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "k/1"));
        Assert.True(await backend.DeleteAsync("k/1"));
        Assert.Empty(await moto.RawKeysAsync(bucket));
    }

    [Fact]
    public async Task Prefix_At512Characters_WithTheLongestName_RoundTrips()
    {
        string bucket = await moto.CreateBucketAsync();
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Enabled);
        options.Prefix = string.Concat(Enumerable.Repeat("abcdefg/", 64))[..511] + "z";
        S3Backend backend = Own(await S3Backend.CreateAsync(options));
        string name = string.Concat(Enumerable.Repeat("a1/", 21)) + "b";

        Assert.True(await ((ConditionalS3Backend)backend).TryCreateAsync(name, new MemoryStream([5])));

        Assert.Equal([name], await StorageReads.ListAllAsync(backend, "a1/"));
        Assert.Equal(new byte[] { 5 }, await StorageReads.ReadAllAsync(backend, name));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task ServiceUrl_OnAnIpAddressOrLocalhost_WorksWithoutForcePathStyle(string host)
    {
        // bucket.127.0.0.1 / bucket.localhost cannot be resolved: such an endpoint can only be addressed by path.
        string bucket = await moto.CreateBucketAsync();
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Disabled);
        options.ForcePathStyle = false;
        options.ServiceUrl = $"http://{host}:{moto.Server.Port}";
        options.Retry = new BackendRetryOptions { MaxAttempts = 2, TimeProvider = new RecordingTimeProvider(), JitterSeed = 1 };
        S3Backend backend = Own(await S3Backend.CreateAsync(options));

        await backend.PutAsync("v/1", new MemoryStream([6]));

        Assert.Equal(new byte[] { 6 }, await StorageReads.ReadAllAsync(backend, "v/1"));
        Assert.Equal(["v/1"], await moto.RawKeysAsync(bucket));
    }

    [Fact]
    public async Task Probe_OnMoto_FindsConditionalWrites_LeavesNothingBehind()
    {
        string bucket = await moto.CreateBucketAsync();
        S3Backend backend = Own(await S3Backend.CreateAsync(moto.Options(bucket)));

        Assert.IsType<ConditionalS3Backend>(backend);
        Assert.True(backend.ConditionalWritesEnabled);
        Assert.Equal(9, backend.RequestCount); // create-only PUT twice, wrong and right If-Match PUTs, start multipart, part, create-only completion, abort, DELETE
        Assert.Empty(await moto.RawKeysAsync(bucket));

        S3Backend disabled = Own(await S3Backend.CreateAsync(moto.Options(bucket, S3ConditionalWrites.Disabled)));
        Assert.IsNotAssignableFrom<IConditionalStorageBackend>(disabled);
        Assert.Equal(0, disabled.RequestCount);
    }

    [Fact]
    public async Task RequestCount_CountsEveryHttpRequest()
    {
        string bucket = await moto.CreateBucketAsync();
        S3Backend backend = Own(await S3Backend.CreateAsync(moto.Options(bucket, S3ConditionalWrites.Disabled)));

        await backend.PutAsync("n/1", new MemoryStream([1]));
        Assert.Equal(1, backend.RequestCount);
        await StorageReads.ReadAllAsync(backend, "n/1");
        Assert.Equal(2, backend.RequestCount);
        await StorageReads.ListAllAsync(backend, "n/");
        Assert.Equal(3, backend.RequestCount);
        Assert.True(await backend.DeleteAsync("n/1")); // HEAD, then DELETE
        Assert.Equal(5, backend.RequestCount);
        Assert.False(await backend.DeleteAsync("n/1")); // HEAD only
        Assert.Equal(6, backend.RequestCount);
    }

    [Fact]
    public async Task Uploads_AreSignedUnchunkedBodies_OnPlainHttp()
    {
        string bucket = await moto.CreateBucketAsync();
        var recorder = Own(new HeaderRecordingHandler());
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Disabled);
        options.HttpMessageHandler = recorder;
        options.MultipartThresholdBytes = FiveMiB;
        options.PartSizeBytes = FiveMiB;
        S3Backend backend = Own(await S3Backend.CreateAsync(options));
        byte[] small = [1, 2, 3, 4];

        await backend.PutAsync("s/small", new MemoryStream(small));
        await using (var large = new GeneratedStream(FiveMiB + 10, seed: 12))
        {
            await backend.PutAsync("s/large", large);
        }

        // Every body upload (one PUT, two parts) carries the SHA-256 of its own bytes in the signature: no
        // UNSIGNED-PAYLOAD, no aws-chunked framing (which s3rver would store as the object), no trailing checksum.
        string[] puts = [.. recorder.Puts];
        Assert.Equal(3, puts.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(small)), puts[0]);
        Assert.All(puts, sha => Assert.Matches("^[0-9a-f]{64}$", sha));
        Assert.Empty(recorder.ContentEncodings);
    }

    [Fact]
    public async Task Options_Invalid_AreRejectedWithMessagesNamingEachOption_WithoutSecrets()
    {
        const string secret = "secret-without-key-Jx4Qm8Rr2";
        var options = new S3BackendOptions
        {
            Bucket = "s3://My Bucket/path",
            Prefix = "/leading//double",
            Region = "Europe West",
            ServiceUrl = "ftp://store.example.com",
            SecretAccessKey = secret,
            PartSizeBytes = 1024,
            MultipartThresholdBytes = -1,
            Retry = new BackendRetryOptions { MaxAttempts = 0 },
        };

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => S3Backend.CreateAsync(options));

        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        foreach (string option in new[] { "Bucket", "Prefix", "Region", "ServiceUrl", "AccessKeyId", "PartSizeBytes", "MultipartThresholdBytes", "Retry" })
        {
            Assert.Contains("S3BackendOptions." + option, error.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(new S3BackendOptions { Bucket = "ok-bucket" }.GetValidationErrors());
        Assert.Contains(new S3BackendOptions { Bucket = "" }.GetValidationErrors(), e => e.Contains("Bucket is required", StringComparison.Ordinal));
        Assert.Contains(new S3BackendOptions { Bucket = "b-1", ServiceUrl = "https://key:pw@minio.example.com" }.GetValidationErrors(),
            e => e.Contains("must not carry credentials", StringComparison.Ordinal));
        Assert.Contains(new S3BackendOptions { Bucket = "b-1", Profile = "work", AccessKeyId = "a", SecretAccessKey = "b" }.GetValidationErrors(),
            e => e.Contains("Profile and AccessKeyId", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddS3Backend_RegistersOneProbedSingleton_ForBothServiceTypes()
    {
        string bucket = await moto.CreateBucketAsync();
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.GetTempPath()).AddS3Backend(o =>
        {
            o.Bucket = bucket;
            o.ServiceUrl = moto.ServiceUrl;
            o.ForcePathStyle = true;
            o.AccessKeyId = moto.AccessKeyId;
            o.SecretAccessKey = moto.SecretAccessKey;
            o.Prefix = "di";
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        IStorageBackend backend = provider.GetRequiredService<IStorageBackend>();
        Assert.IsType<ConditionalS3Backend>(backend);
        Assert.Same(backend, provider.GetRequiredService<S3Backend>());
        Assert.Same(backend, provider.GetRequiredService<GhostieSyncClient>().Backend);
        await backend.PutAsync("x/1", new MemoryStream([7]));
        Assert.Equal(["di/x/1"], await moto.RawKeysAsync(bucket));
    }

    [Fact]
    public async Task AddS3Backend_InvalidOptions_FailValidationAtStart_WithClearMessage()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.GetTempPath()).AddS3Backend(o => o.AccessKeyId = "only-the-id");
        await using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("S3BackendOptions.Bucket is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("must be set together", error.Message, StringComparison.Ordinal);
    }

    private static async Task<byte[]> HashAsync(IStorageBackend backend, string name)
    {
        await using Stream? stream = await backend.GetAsync(name);
        Assert.NotNull(stream);
        return await SHA256.HashDataAsync(stream);
    }

}

/// <summary>s3rver ignores conditional writes: the probe must notice and hand out a plain backend.</summary>
public sealed class S3rverProbeTests(S3rverFixture s3rver) : IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task Probe_OnS3rver_FindsNoConditionalWrites_AndEnabledIsNotTrusted()
    {
        string bucket = await s3rver.CreateBucketAsync();
        using S3Backend backend = await S3Backend.CreateAsync(s3rver.Options(bucket));

        Assert.IsNotAssignableFrom<IConditionalStorageBackend>(backend);
        Assert.False(backend.ConditionalWritesEnabled);
        Assert.Empty(await s3rver.RawKeysAsync(bucket));

        // Proof that the probe matters: forced on, s3rver silently overwrites a create-only write.
        using S3Backend forced = await S3Backend.CreateAsync(s3rver.Options(bucket, S3ConditionalWrites.Enabled));
        var conditional = Assert.IsType<ConditionalS3Backend>(forced);
        Assert.True(await conditional.TryCreateAsync("p/1", new MemoryStream([1])));
        Assert.True(await conditional.TryCreateAsync("p/1", new MemoryStream([2])));
    }
}

/// <summary>Records the payload hash and content encoding of every PUT.</summary>
internal sealed class HeaderRecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public System.Collections.Concurrent.ConcurrentQueue<string> Puts { get; } = new();

    public System.Collections.Concurrent.ConcurrentQueue<string> ContentEncodings { get; } = new();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Method == HttpMethod.Put)
        {
            Puts.Enqueue(request.Headers.TryGetValues("x-amz-content-sha256", out IEnumerable<string>? values) ? string.Join(",", values) : "(none)");
            foreach (string encoding in request.Content?.Headers.ContentEncoding ?? [])
            {
                ContentEncodings.Enqueue(encoding);
            }
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Delivers the next request to the server, then throws as if the connection dropped before the answer.</summary>
internal sealed class AnswerLosingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private int _lost;

    public bool LoseNextAnswer { get; set; }

    /// <summary>Loses the answer of the next request this matches (instead of the very next request).</summary>
    public Func<HttpRequestMessage, bool>? LoseNextMatching { get; set; }

    /// <summary>Runs instead of delivering the next request, which then fails with 503 (it never reached the store).</summary>
    public Func<Task>? InsteadOfNext { get; set; }

    /// <summary>Requests this matches never get an answer (they wait until cancelled).</summary>
    public Func<HttpRequestMessage, bool>? HangWhen { get; set; }

    public int Lost => _lost;

    private int _hung;

    /// <summary>How many requests matched <see cref="HangWhen"/> (each attempt counts).</summary>
    public int Hung => Volatile.Read(ref _hung);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (HangWhen is { } hang && hang(request))
        {
            Interlocked.Increment(ref _hung);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (InsteadOfNext is { } instead)
        {
            InsteadOfNext = null;
            Interlocked.Increment(ref _lost);
            await instead();
            return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request, Content = new StringContent("") };
        }

        HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
        bool matched = LoseNextMatching is { } match && match(request);
        if (LoseNextAnswer || matched)
        {
            LoseNextAnswer = false;
            if (matched)
            {
                LoseNextMatching = null;
            }

            Interlocked.Increment(ref _lost);
            response.Dispose();
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely.", new IOException("connection closed"));
        }

        return response;
    }
}
