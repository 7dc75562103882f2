using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.Dropbox.Tests;

/// <summary>Dropbox's own failure modes, injected by the double: throttling with Retry-After and lock contention, an upload
/// session cut mid-way and resumed at the offset Dropbox reports, content hash mismatches both ways, a download cut and
/// resumed by range on the same revision, an access token that expires (refreshed once; refused twice is a typed error).</summary>
public sealed class DropboxFaultTests : IAsyncLifetime
{
    private DropboxDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = new DropboxDouble(DropboxDoubleFixture.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static BackendRetryOptions Retry(RecordingTimeProvider clock) => new()
    {
        MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2), MaxThrottleDelay = TimeSpan.FromSeconds(30),
        TimeProvider = clock, JitterSeed = 5,
    };

    private static byte[] Data(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A stream that is not seekable, as a pack being written is.</summary>
    private sealed class OneWay(byte[] data) : MemoryStream(data, writable: false)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task RateLimit429_WaitsRetryAfter_ForJsonAndPlainTextBodies()
    {
        var clock = new RecordingTimeProvider();
        using var backend = new DropboxBackend(TestOptions.For(_server, Retry(clock)));
        _server.InjectRateLimit(1, "too_many_requests", 9, json: false);
        _server.InjectRateLimit(1, "too_many_write_operations", 4);

        await backend.PutAsync("r/a", new MemoryStream([1, 2]));

        Assert.Equal([TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(4)], clock.Waits);
        Assert.Equal(new byte[] { 1, 2 }, await StorageReads.ReadAllAsync(backend, "r/a"));
    }

    [Fact]
    public async Task RateLimit_LongerThanTheCeiling_FailsAtOnce_Transient()
    {
        var clock = new RecordingTimeProvider();
        using var backend = new DropboxBackend(TestOptions.For(_server, Retry(clock)));
        _server.InjectRateLimit(1, "too_many_requests", 600);

        GhostieSyncException error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync("r/a", new MemoryStream([1])));
        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task TooManyWriteOperations409_BacksOffAndRetries_TheWriteLandsOnce()
    {
        var clock = new RecordingTimeProvider();
        using var backend = new DropboxBackend(TestOptions.For(_server, Retry(clock)));
        _server.InjectWriteContention(2);

        Assert.True(await backend.TryCreateAsync("w/1", new MemoryStream([3])));

        Assert.Equal(2, clock.Waits.Count);
        Assert.All(clock.Waits, w => Assert.InRange(w, TimeSpan.Zero, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(new byte[] { 3 }, await StorageReads.ReadAllAsync(backend, "w/1"));
        Assert.Equal(3, _server.Requests.Count(r => r == "content files/upload"));
    }

    [Fact]
    public async Task SessionUpload_AboveTheThreshold_UsesStartAppendFinish_AndIsInvisibleUntilFinished()
    {
        using var backend = new DropboxBackend(TestOptions.For(_server, folder: "s"));
        byte[] data = Data(700_000, 1);

        await backend.PutAsync("big/1", new OneWay(data));

        string[] routes = [.. _server.Requests];
        Assert.Equal("content files/upload_session/start", routes[0]);
        Assert.Equal(5, routes.Count(r => r == "content files/upload_session/append_v2")); // 6 chunks of 128 KiB: start + 5 appends
        Assert.Equal("content files/upload_session/finish", routes[^1]);
        Assert.Equal(data, _server.ReadFile("/s/big/1"));
        Assert.Equal(data, await StorageReads.ReadAllAsync(backend, "big/1"));
    }

    [Fact]
    public async Task SeekableContent_UpToTheThreshold_GoesInOneStreamedUpload()
    {
        using var backend = new DropboxBackend(TestOptions.For(_server, folder: "s"));
        byte[] data = Data(200_000, 2); // above one chunk (128 KiB), below the threshold (256 KiB)

        await backend.PutAsync("mid/1", new MemoryStream(data));

        Assert.Equal(["content files/upload"], _server.Requests);
        Assert.Equal(data, _server.ReadFile("/s/mid/1"));
    }

    [Fact]
    public async Task SessionAppend_WhoseAnswerIsLost_ResumesAtTheOffsetDropboxReports()
    {
        var clock = new RecordingTimeProvider();
        using var backend = new DropboxBackend(TestOptions.For(_server, Retry(clock), folder: "s"));
        byte[] data = Data(500_000, 3);
        int cut = 0;
        var source = new CuttingStream(data, afterBytes: 300_000, () =>
        {
            if (cut++ == 0)
            {
                _server.DropNextResponses(1); // the append now being sent is carried out, its answer never arrives
            }
        });

        await backend.PutAsync("resume/1", source);

        Assert.Equal(data, _server.ReadFile("/s/resume/1"));
        Assert.Equal(0, _server.OpenSessions);
        string[] appends = [.. _server.ContentArgs.Where(a => a.Contains("\"cursor\"", StringComparison.Ordinal) && !a.Contains("\"commit\"", StringComparison.Ordinal))];
        Assert.Contains(appends, a => a.Contains("\"offset\":262144", StringComparison.Ordinal));
        Assert.Equal(2, appends.Count(a => a.Contains("\"offset\":262144", StringComparison.Ordinal))); // sent again, answered incorrect_offset
        Assert.Contains(appends, a => a.Contains("\"offset\":393216", StringComparison.Ordinal)); // then on from the reported offset
    }

    /// <summary>Calls <paramref name="onCross"/> once reading passes <paramref name="afterBytes"/>; not seekable.</summary>
    private sealed class CuttingStream(byte[] data, int afterBytes, Action onCross) : MemoryStream(data, writable: false)
    {
        public override bool CanSeek => false;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            long before = base.Position;
            int read = await base.ReadAsync(buffer, cancellationToken);
            if (before < afterBytes && base.Position >= afterBytes)
            {
                onCross();
            }

            return read;
        }
    }

    [Fact]
    public async Task DownloadedBytes_NotMatchingTheContentHash_AreATypedIntegrityError()
    {
        using var backend = new DropboxBackend(TestOptions.For(_server));
        await backend.PutAsync("x/1", new MemoryStream(Data(10_000, 4)));
        _server.CorruptNextDownloads(1);

        IntegrityException error = await Assert.ThrowsAsync<IntegrityException>(() => StorageReads.ReadAllAsync(backend, "x/1"));
        Assert.Equal("x/1", error.ObjectName);
        Assert.Contains("content_hash", error.Message, StringComparison.Ordinal);
        Assert.Equal(Data(10_000, 4), await StorageReads.ReadAllAsync(backend, "x/1")); // a clean read afterwards is fine
    }

    [Theory]
    [InlineData(1_000)] // one upload request (hash also sent in the argument)
    [InlineData(200_000)] // one streamed upload request
    [InlineData(600_000)] // an upload session
    public async Task StoredContent_NotMatchingWhatWasSent_IsATypedIntegrityError_AndTheDamagedFileIsRemoved(int size)
    {
        using var backend = new DropboxBackend(TestOptions.For(_server, folder: "s"));
        await backend.PutAsync("y/1", new MemoryStream([7]));
        _server.CorruptNextCommits(1);

        IntegrityException error = await Assert.ThrowsAsync<IntegrityException>(() => backend.PutAsync("y/1", size == 600_000 ? new OneWay(Data(size, 5)) : new MemoryStream(Data(size, 5))));
        Assert.Equal("y/1", error.ObjectName);
        Assert.Null(_server.ReadFile("/s/y/1"));
        await backend.PutAsync("y/1", new MemoryStream(Data(size, 5)));
        Assert.Equal(Data(size, 5), _server.ReadFile("/s/y/1"));
    }

    [Fact]
    public async Task DroppedDownload_IsResumedByRange_OnTheSameRevision()
    {
        using var backend = new DropboxBackend(TestOptions.For(_server));
        byte[] data = Data(1_000_000, 6);
        await backend.PutAsync("d/1", new OneWay(data));
        string rev = (await backend.GetVersionAsync("d/1"))!;
        _server.BreakNextDownloads(2, afterBytes: 300_000);

        byte[]? read = await StorageReads.ReadAllAsync(backend, "d/1");

        Assert.Equal(data, read);
        Assert.Equal(["bytes=300000-", "bytes=600000-"], _server.Ranges);
        Assert.Equal(2, _server.ContentArgs.Count(a => a == $"{{\"path\":\"rev:{rev}\"}}"));
    }

    [Fact]
    public async Task ExpiredToken_IsRefreshedOnceThroughTheProvider_ThenTheRequestSucceeds()
    {
        const string second = "sl.refreshedTOKEN-abcdef0123456789";
        var calls = new List<bool>();
        DropboxBackendOptions options = TestOptions.For(_server);
        options.AccessToken = null;
        string current = DropboxDoubleFixture.Token;
        options.AccessTokenProvider = (refresh, _) =>
        {
            // A provider keeps its current token (it is asked before every request) and replaces it when told to refresh.
            calls.Add(refresh);
            if (refresh)
            {
                _server.AddToken(second);
                current = second;
            }

            return ValueTask.FromResult(current);
        };
        using var backend = new DropboxBackend(options);
        await backend.PutAsync("t/1", new MemoryStream([1]));
        _server.ExpireToken(DropboxDoubleFixture.Token);

        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "t/1"));
        await backend.PutAsync("t/2", new MemoryStream([2]));

        Assert.Equal(1, calls.Count(refresh => refresh));
        Assert.False(calls[0]);
        Assert.False(calls[^1]);
    }

    [Fact]
    public async Task Refused_AfterARefresh_IsADropboxCredentialError_NamingSetup_WithoutTokens()
    {
        const string refreshed = "sl.alsoRevokedTOKEN-0123456789";
        DropboxBackendOptions options = TestOptions.For(_server);
        options.AccessToken = null;
        options.AccessTokenProvider = (refresh, _) => ValueTask.FromResult(refresh ? refreshed : DropboxDoubleFixture.Token);
        using var backend = new DropboxBackend(options);
        _server.ExpireToken(DropboxDoubleFixture.Token);

        DropboxCredentialException error = await Assert.ThrowsAsync<DropboxCredentialException>(() => backend.PutAsync("t/1", new MemoryStream([1])));

        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.True(error.Refreshed);
        Assert.Contains("ghostie sync setup --backend dropbox", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(refreshed, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(DropboxDoubleFixture.Token, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticToken_Expired_IsACredentialErrorAtOnce()
    {
        var clock = new RecordingTimeProvider();
        using var backend = new DropboxBackend(TestOptions.For(_server, Retry(clock)));
        _server.ExpireToken(DropboxDoubleFixture.Token);

        DropboxCredentialException error = await Assert.ThrowsAsync<DropboxCredentialException>(() => StorageReads.ListAllAsync(backend, ""));
        Assert.Equal("expired_access_token", error.Reason);
        Assert.False(error.Refreshed);
        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task MissingScope_IsAccessDenied_NamingTheScope()
    {
        _server.AddToken("sl.readOnlyTOKEN0123456789", "files.metadata.read", "files.content.read");
        DropboxBackendOptions options = TestOptions.For(_server);
        options.AccessToken = "sl.readOnlyTOKEN0123456789";
        using var backend = new DropboxBackend(options);

        GhostieSyncException error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync("s/1", new MemoryStream([1])));
        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Contains("files.content.write", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListingCursorReset_RestartsTheListing_AndStillReturnsEveryName()
    {
        DropboxBackendOptions options = TestOptions.For(_server);
        options.ListPageSize = 10;
        using var backend = new DropboxBackend(options);
        for (int i = 0; i < 30; i++)
        {
            await backend.PutAsync($"l/{i:d2}", new MemoryStream([1]));
        }

        int resets = 0;
        _server.MaxPageSize = 10;
        using var handler = new ResettingHandler(() =>
        {
            if (resets++ == 0)
            {
                _server.ResetListCursors();
            }
        });
        options.HttpMessageHandler = handler;
        using var listing = new DropboxBackend(options);

        List<string> names = await StorageReads.ListAllAsync(listing, "l/");
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"l/{i:d2}"), names);
        Assert.True(handler.Continues >= 2);
    }

    /// <summary>Runs an action before the first list_folder/continue passes through.</summary>
    private sealed class ResettingHandler(Action beforeContinue) : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Continues { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("list_folder/continue", StringComparison.Ordinal))
            {
                Continues++;
                beforeContinue();
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task DeleteOfAName_WhereAFolderIs_DeletesNothing()
    {
        using var backend = new DropboxBackend(TestOptions.For(_server, folder: "s"));
        await backend.PutAsync("f/inner", new MemoryStream([1]));

        Assert.False(await backend.DeleteAsync("f"));
        Assert.NotNull(_server.ReadFile("/s/f/inner"));
        Assert.Null(await backend.GetVersionAsync("f"));
    }
}
