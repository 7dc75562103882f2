using System.Net;
using System.Text;
using Amazon.S3.Model;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>Issue 13 (S3): a 409 ConditionalRequestConflict on CompleteMultipartUpload, the probe of conditional
/// multipart completion and of a correct If-Match, and a truncated listing without a continuation token. Against
/// moto_server, with the service's answers that moto cannot produce scripted by <see cref="ScriptedS3Handler"/>.</summary>
public sealed class S3ConflictAndListingTests(MotoFixture moto) : IClassFixture<MotoFixture>, IAsyncLifetime
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

    private async Task<(ConditionalS3Backend Backend, ScriptedS3Handler Http)> MultipartBackendAsync(string bucket)
    {
        var http = Own(new ScriptedS3Handler());
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Enabled);
        options.MultipartThresholdBytes = FiveMiB;
        options.PartSizeBytes = FiveMiB;
        options.HttpMessageHandler = http;
        options.Retry = new BackendRetryOptions { TimeProvider = new RecordingTimeProvider(), JitterSeed = 5 };
        return (Assert.IsType<ConditionalS3Backend>(Own(await S3Backend.CreateAsync(options))), http);
    }

    private static bool IsCompletion(HttpRequestMessage r) =>
        r.Method == HttpMethod.Post && r.RequestUri!.Query.Contains("uploadId=", StringComparison.Ordinal);

    private static bool IsInitiation(HttpRequestMessage r) =>
        r.Method == HttpMethod.Post && r.RequestUri!.Query.Contains("uploads", StringComparison.Ordinal) && !IsCompletion(r);

    private static string UploadIdOf(HttpRequestMessage r) =>
        Uri.UnescapeDataString(r.RequestUri!.Query.TrimStart('?').Split('&').First(p => p.StartsWith("uploadId=", StringComparison.Ordinal))["uploadId=".Length..]);

    /// <summary>The error S3 sends for a conflicting concurrent conditional write (the SDK reads the code from the body).</summary>
    private static HttpResponseMessage Conflict409(HttpRequestMessage request) => new(HttpStatusCode.Conflict)
    {
        RequestMessage = request,
        Content = new StringContent(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred.</Message><RequestId>TEST409</RequestId></Error>",
            Encoding.UTF8, "application/xml"),
    };

    private static HttpResponseMessage NoSuchUpload404(HttpRequestMessage request) => new(HttpStatusCode.NotFound)
    {
        RequestMessage = request,
        Content = new StringContent(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><RequestId>TEST404</RequestId></Error>",
            Encoding.UTF8, "application/xml"),
    };

    [Fact]
    public async Task TryCreate_Multipart_409ThenUploadGone_WhileAnotherDevicesObjectStands_ReportsFalse()
    {
        // AWS: "If a conflicting operation occurs during the upload S3 returns a 409 ConditionalRequestConflict
        // response. On a 409 failure you should re-initiate the multipart upload with CreateMultipartUpload and
        // re-upload each part." Here another device's create-only write wins meanwhile, and our upload id is gone:
        // retrying the completion meets NoSuchUpload, which must not be taken as our success.
        string bucket = await moto.CreateBucketAsync();
        (ConditionalS3Backend backend, ScriptedS3Handler http) = await MultipartBackendAsync(bucket);
        var other = Assert.IsType<ConditionalS3Backend>(Own(await S3Backend.CreateAsync(moto.Options(bucket, S3ConditionalWrites.Enabled))));
        int completions = 0;
        http.Intercept = async request =>
        {
            if (!IsCompletion(request) || ++completions > 2)
            {
                return null;
            }

            if (completions == 1)
            {
                Assert.True(await other.TryCreateAsync("m/race", new MemoryStream([4, 2])));
                await moto.Admin.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = "m/race", UploadId = UploadIdOf(request) });
                return Conflict409(request);
            }

            // What S3 may answer to a completion of an upload id that is gone (moto checks If-None-Match first).
            return NoSuchUpload404(request);
        };

        await using (var content = new GeneratedStream(FiveMiB + 10, seed: 31))
        {
            Assert.False(await backend.TryCreateAsync("m/race", content));
        }

        Assert.Equal(new byte[] { 4, 2 }, await StorageReads.ReadAllAsync(other, "m/race"));
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
    }

    [Fact]
    public async Task TryReplace_Multipart_409WhileAnotherDeviceReplaced_ReportsFalse_AndTheirObjectStands()
    {
        string bucket = await moto.CreateBucketAsync();
        (ConditionalS3Backend backend, ScriptedS3Handler http) = await MultipartBackendAsync(bucket);
        var other = Assert.IsType<ConditionalS3Backend>(Own(await S3Backend.CreateAsync(moto.Options(bucket, S3ConditionalWrites.Enabled))));
        Assert.True(await backend.TryCreateAsync("m/head", new MemoryStream([1])));
        string version = Assert.IsType<string>(await backend.GetVersionAsync("m/head"));
        http.Intercept = async request =>
        {
            if (!IsCompletion(request))
            {
                return null;
            }

            http.Intercept = null;
            Assert.True(await other.TryReplaceAsync("m/head", new MemoryStream([9, 9]), version));
            return Conflict409(request);
        };

        byte[] ours = new byte[FiveMiB + 10];
        Assert.False(await backend.TryReplaceAsync("m/head", new MemoryStream(ours), version));

        Assert.Equal(new byte[] { 9, 9 }, await StorageReads.ReadAllAsync(other, "m/head"));
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
    }

    [Fact]
    public async Task TryCreate_Multipart_409_SeekableContent_RestartsTheUpload_AndReportsCreated()
    {
        // The conflicting operation failed in the end (nothing stands under the name): the upload is started again
        // from CreateMultipartUpload, with every part sent again, and the old upload is aborted.
        string bucket = await moto.CreateBucketAsync();
        (ConditionalS3Backend backend, ScriptedS3Handler http) = await MultipartBackendAsync(bucket);
        http.Intercept = request =>
        {
            if (!IsCompletion(request))
            {
                return Task.FromResult<HttpResponseMessage?>(null);
            }

            http.Intercept = null;
            return Task.FromResult<HttpResponseMessage?>(Conflict409(request));
        };

        byte[] ours = Enumerable.Range(0, FiveMiB + 10).Select(i => (byte)(i * 7)).ToArray();
        Assert.True(await backend.TryCreateAsync("m/again", new MemoryStream(ours)));

        Assert.Equal(2, http.Seen.Count(r => r.StartsWith("POST-INIT", StringComparison.Ordinal)));
        Assert.Equal(ours, await StorageReads.ReadAllAsync(backend, "m/again"));
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
    }

    [Fact]
    public async Task TryCreate_Multipart_409_UnseekableContent_FailsTransiently_AndWritesNothing()
    {
        // The parts cannot be read again from a stream that cannot seek: the caller is told to write again.
        string bucket = await moto.CreateBucketAsync();
        (ConditionalS3Backend backend, ScriptedS3Handler http) = await MultipartBackendAsync(bucket);
        http.Intercept = request =>
        {
            if (!IsCompletion(request))
            {
                return Task.FromResult<HttpResponseMessage?>(null);
            }

            http.Intercept = null;
            return Task.FromResult<HttpResponseMessage?>(Conflict409(request));
        };

        await using var content = new GeneratedStream(FiveMiB + 10, seed: 32);
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.TryCreateAsync("m/once", content));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("ConditionalRequestConflict", error.Message, StringComparison.Ordinal);
        Assert.Contains("m/once", error.Message, StringComparison.Ordinal);
        Assert.Null(await backend.GetAsync("m/once"));
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
    }

    [Fact]
    public async Task Probe_EndpointIgnoringIfNoneMatchOnMultipartCompletion_IsNotConditional()
    {
        // Such an endpoint honours conditions on PUT but would let a large create-only write overwrite.
        string bucket = await moto.CreateBucketAsync();
        var http = Own(new ScriptedS3Handler
        {
            Rewrite = r =>
            {
                if (IsCompletion(r))
                {
                    r.Headers.Remove("If-None-Match");
                }
            },
        });
        S3BackendOptions options = moto.Options(bucket);
        options.HttpMessageHandler = http;

        S3Backend backend = Own(await S3Backend.CreateAsync(options));

        Assert.IsNotAssignableFrom<IConditionalStorageBackend>(backend);
        Assert.Contains(http.Seen, r => r.StartsWith("POST-COMPLETE", StringComparison.Ordinal));
        Assert.Empty(await moto.RawKeysAsync(bucket));
        Assert.Equal(0, await moto.OpenUploadsAsync(bucket));
    }

    [Fact]
    public async Task Probe_EndpointRefusingEveryIfMatch_IsNotConditional()
    {
        // An endpoint that answers 412 to any If-Match would refuse every replacement: it does not honour If-Match.
        string bucket = await moto.CreateBucketAsync();
        var http = Own(new ScriptedS3Handler());
        http.Intercept = r => Task.FromResult<HttpResponseMessage?>(r.Method == HttpMethod.Put && r.Headers.Contains("If-Match")
            ? new HttpResponseMessage(HttpStatusCode.PreconditionFailed)
            {
                RequestMessage = r,
                Content = new StringContent("<Error><Code>PreconditionFailed</Code><Message>x</Message></Error>", Encoding.UTF8, "application/xml"),
            }
            : null);
        S3BackendOptions options = moto.Options(bucket);
        options.HttpMessageHandler = http;

        S3Backend backend = Own(await S3Backend.CreateAsync(options));

        Assert.IsNotAssignableFrom<IConditionalStorageBackend>(backend);
        Assert.Empty(await moto.RawKeysAsync(bucket));
    }

    [Fact]
    public async Task List_TruncatedPageWithoutContinuationToken_ThrowsTypedError()
    {
        string bucket = await moto.CreateBucketAsync();
        var http = Own(new ScriptedS3Handler());
        http.Intercept = r => Task.FromResult<HttpResponseMessage?>(r.Method == HttpMethod.Get && r.RequestUri!.Query.Contains("list-type=2", StringComparison.Ordinal)
            ? new HttpResponseMessage(HttpStatusCode.OK)
            {
                RequestMessage = r,
                Content = new StringContent(
                    $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{bucket}</Name><Prefix>p/</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><Contents><Key>p/1</Key><Size>1</Size><ETag>\"x\"</ETag></Contents></ListBucketResult>",
                    Encoding.UTF8, "application/xml"),
            }
            : null);
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Disabled);
        options.HttpMessageHandler = http;
        S3Backend backend = Own(await S3Backend.CreateAsync(options));

        var listing = Task.Run(() => StorageReads.ListAllAsync(backend, "p/"));
        Task finished = await Task.WhenAny(listing, Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.Same(listing, finished); // not a loop over the same page
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => listing);
        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.Contains("continuation token", error.Message, StringComparison.Ordinal);
        Assert.Contains(bucket, error.Message, StringComparison.Ordinal);
    }
}

/// <summary>Passes requests to the server, except those <see cref="Intercept"/> answers itself; <see cref="Rewrite"/>
/// may change a request before it is sent. Records each request's kind and path.</summary>
internal sealed class ScriptedS3Handler() : DelegatingHandler(new SocketsHttpHandler())
{
    public Func<HttpRequestMessage, Task<HttpResponseMessage?>>? Intercept { get; set; }

    public Action<HttpRequestMessage>? Rewrite { get; set; }

    public System.Collections.Concurrent.ConcurrentQueue<string> Seen { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string query = request.RequestUri!.Query;
        string kind = request.Method == HttpMethod.Post
            ? query.Contains("uploadId=", StringComparison.Ordinal) ? "POST-COMPLETE" : "POST-INIT"
            : request.Method.Method;
        Seen.Enqueue(kind + " " + request.RequestUri.AbsolutePath);
        Rewrite?.Invoke(request);
        if (Intercept is { } intercept && await intercept(request) is { } answer)
        {
            return answer;
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
