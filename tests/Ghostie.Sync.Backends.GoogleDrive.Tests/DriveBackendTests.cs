using System.Net;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Backends.GoogleDrive.Tests;

/// <summary>Drive-specific behaviour and faults, on a fresh Drive double per test.</summary>
public sealed class DriveBackendTests : IAsyncLifetime
{
    private const int K = DriveDouble.ChunkGranularity;
    private DriveDouble _drive = null!;

    public Task InitializeAsync()
    {
        _drive = new DriveDouble(TestOptions.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _drive.DisposeAsync();

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private GoogleDriveBackend Chunked(BackendRetryOptions? retry = null, Action<GoogleDriveBackendOptions>? configure = null)
    {
        GoogleDriveBackendOptions options = TestOptions.For(_drive, retry);
        options.ResumableThreshold = 64 * 1024;
        options.ChunkSize = K;
        configure?.Invoke(options);
        return new GoogleDriveBackend(options);
    }

    private static BackendRetryOptions Recording(RecordingTimeProvider clock, int attempts = 5) => new()
    {
        MaxAttempts = attempts, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2),
        MaxThrottleDelay = TimeSpan.FromSeconds(30), TimeProvider = clock, JitterSeed = 5,
    };

    [Theory]
    [InlineData(403, "userRateLimitExceeded")]
    [InlineData(403, "rateLimitExceeded")]
    [InlineData(429, "rateLimitExceeded")]
    public async Task RateLimits_AreRetriedWithJitteredBackoff(int status, string reason)
    {
        var clock = new RecordingTimeProvider();
        using var backend = new GoogleDriveBackend(TestOptions.For(_drive, Recording(clock)));
        _drive.InjectRateLimit(3, status, reason);

        await backend.PutAsync("r/a", new MemoryStream([1, 2]));

        Assert.Equal(new byte[] { 1, 2 }, await backend.ReadAllAsync("r/a"));
        TimeSpan[] waits = [.. clock.Waits];
        Assert.Equal(3, waits.Length);
        Assert.All(waits, w => Assert.InRange(w, TimeSpan.Zero, TimeSpan.FromMilliseconds(400)));
        Assert.True(waits.Distinct().Count() > 1, "jittered");
    }

    [Fact]
    public async Task RateLimit429_RetryAfterIsHonoured()
    {
        var clock = new RecordingTimeProvider();
        using var backend = new GoogleDriveBackend(TestOptions.For(_drive, Recording(clock)));
        _drive.InjectRateLimit(1, 429, "rateLimitExceeded", retryAfterSeconds: 9);

        Assert.Empty(await backend.ListAllAsync(""));

        Assert.Equal([TimeSpan.FromSeconds(9)], clock.Waits);
    }

    [Fact]
    public async Task AMissingScope_IsAccessDeniedAtOnce_NamingTheScope()
    {
        var clock = new RecordingTimeProvider();
        _drive.AddToken("ya29.drive-file-only", DriveDouble.DriveFileScope);
        GoogleDriveBackendOptions options = TestOptions.For(_drive, Recording(clock));
        options.AccessToken = "ya29.drive-file-only";
        using var backend = new GoogleDriveBackend(options);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.ListAllAsync(""));

        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Contains("drive.appdata", error.Message, StringComparison.Ordinal);
        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task SmallObjects_GoMultipart_LargeOnes_Resumable_InChunksOf256KiBMultiples()
    {
        using GoogleDriveBackend backend = Chunked();
        byte[] large = RandomBytes((3 * K) + 17, 1);

        await backend.PutAsync("p/small", new MemoryStream(RandomBytes(1000, 2)));
        await backend.PutAsync("p/large", new MemoryStream(large));

        string[] log = [.. _drive.RequestLog];
        Assert.Contains("POST /upload/drive/v3/files?multipart", log);
        Assert.Contains("POST /upload/drive/v3/files?resumable", log);
        Assert.Equal(4, log.Count(l => l.StartsWith("PUT ", StringComparison.Ordinal)));  // 3 full chunks and the last 17 bytes
        Assert.Equal(large, await backend.ReadAllAsync("p/large"));
    }

    [Fact]
    public async Task AThresholdAboveTheChunkSize_StillSendsOnly256KiBMultiples()
    {
        using GoogleDriveBackend backend = Chunked(configure: o => o.ResumableThreshold = 300_000);
        byte[] data = RandomBytes(700_000, 11);

        await backend.PutAsync("p/threshold", new MemoryStream(data));

        Assert.Equal(data, await backend.ReadAllAsync("p/threshold"));
    }

    [Fact]
    public async Task AnOverwrite_ReplacesTheContentOfTheSameFile_ByMultipartAndByResumable()
    {
        using GoogleDriveBackend backend = Chunked();
        await backend.PutAsync("p/x", new MemoryStream([1]));
        string id = Assert.Single(_drive.AppDataFiles()).Id;

        byte[] large = RandomBytes((2 * K) + 5, 3);
        await backend.PutAsync("p/x", new MemoryStream(large));
        await backend.PutAsync("p/x", new MemoryStream([7, 7]));

        Assert.Equal(id, Assert.Single(_drive.AppDataFiles()).Id);
        Assert.Contains($"PATCH /upload/drive/v3/files/{id}?resumable", _drive.RequestLog);
        Assert.Equal(new byte[] { 7, 7 }, await backend.ReadAllAsync("p/x"));
    }

    [Fact]
    public async Task AFailedChunk_IsResumedFromTheRangeGoogleReports()
    {
        var clock = new RecordingTimeProvider();
        using GoogleDriveBackend backend = Chunked(Recording(clock));
        byte[] data = RandomBytes((4 * K) + 123, 4);
        _drive.FailNextChunkAfter = 100_000;

        await backend.PutAsync("p/resumed", new MemoryStream(data));

        Assert.Equal(data, await backend.ReadAllAsync("p/resumed"));
        Assert.Equal(1, _drive.SessionsStarted);
        Assert.Single(_drive.AppDataFiles());
        Assert.Single(clock.Waits); // one failed attempt, retried through the shared policy
    }

    [Fact]
    public async Task AChunkGoogleKeptOnlyPartOf_IsCompleted_WithoutBreakingThe256KiBRule()
    {
        using GoogleDriveBackend backend = Chunked();
        byte[] data = RandomBytes((3 * K) + 9, 5);
        _drive.KeepOfNextChunk = 5000;

        await backend.PutAsync("p/short", new MemoryStream(data));

        Assert.Equal(data, await backend.ReadAllAsync("p/short"));
    }

    [Fact]
    public async Task AnExpiredUploadSession_IsATransientError_AndWritesNothing()
    {
        using GoogleDriveBackend backend = Chunked(new BackendRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) });
        _drive.FailNextChunkAfter = 10;
        var expiring = new ExpiringStream(RandomBytes(3 * K, 6), afterBytes: 2 * K, _drive.ExpireSessions);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("p/expired", expiring));

        Assert.True(error.IsTransient);
        Assert.Contains("expired", error.Message, StringComparison.Ordinal);
        Assert.Empty(_drive.AppDataFiles());
    }

    [Fact]
    public async Task ADroppedDownload_IsResumedWithARangeRequest()
    {
        using var backend = new GoogleDriveBackend(TestOptions.For(_drive));
        byte[] data = RandomBytes(700_000, 7);
        await backend.PutAsync("p/dl", new MemoryStream(data));
        _drive.DropNextDownloadAfter = 250_000;

        Assert.Equal(data, await backend.ReadAllAsync("p/dl"));
        Assert.Contains(_drive.RequestLog, l => l.Contains("/drive/v3/files/", StringComparison.Ordinal) && l.StartsWith("GET", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADroppedDownload_OfAFileReplacedMeanwhile_IsNotSpliced()
    {
        using var backend = new GoogleDriveBackend(TestOptions.For(_drive));
        await backend.PutAsync("p/dl", new MemoryStream(RandomBytes(700_000, 8)));
        _drive.DropNextDownloadAfter = 250_000;

        await using Stream stream = (await backend.GetAsync("p/dl"))!;
        await backend.PutAsync("p/dl", new MemoryStream(RandomBytes(700_000, 9)));

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => stream.CopyToAsync(Stream.Null));
        Assert.True(error.IsTransient);
        Assert.Contains("replaced meanwhile", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_FollowsNextPageToken_ThroughShortAndEmptyPages()
    {
        _drive.ServerPageLimit = 7;
        _drive.EmptyFirstPages = true;
        for (int i = 0; i < 30; i++)
        {
            _drive.SeedFile("appDataFolder", $"h/{i:D2}", [(byte)i]);
        }

        using var backend = new GoogleDriveBackend(TestOptions.For(_drive));

        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"h/{i:D2}"), await backend.ListAllAsync("h/"));
    }

    [Fact]
    public async Task Duplicates_FromTwoDevices_AreResolvedIdentically_AndCleanedUpOnlyAfterTheGracePeriod()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        DateTimeOffset t0 = clock.GetUtcNow() - TimeSpan.FromMinutes(5);
        _drive.SeedFile("appDataFolder", "k/shared", [2], createdTime: t0 + TimeSpan.FromSeconds(1));  // the younger one first
        _drive.SeedFile("appDataFolder", "k/shared", [1], createdTime: t0);
        GoogleDriveBackendOptions Options() => TestOptions.For(_drive, new BackendRetryOptions { TimeProvider = clock, BaseDelay = TimeSpan.FromMilliseconds(1) });
        using var laptop = new GoogleDriveBackend(Options());
        using var phone = new GoogleDriveBackend(Options());

        Assert.Equal(new byte[] { 1 }, await laptop.ReadAllAsync("k/shared"));
        Assert.Equal(new byte[] { 1 }, await phone.ReadAllAsync("k/shared"));
        Assert.Equal(["k/shared"], await laptop.ListAllAsync("k/"));

        await phone.PutAsync("k/shared", new MemoryStream([3]));  // replaces the winner, on both devices
        Assert.Equal(new byte[] { 3 }, await laptop.ReadAllAsync("k/shared"));
        Assert.Equal(2, _drive.AppDataFiles().Count);

        Assert.Equal(0, await laptop.CleanupAsync());  // the loser is 5 minutes old: inside the grace period
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await laptop.CleanupAsync());
        Assert.Equal(new byte[] { 3 }, await phone.ReadAllAsync("k/shared"));
        Assert.Single(_drive.AppDataFiles());
    }

    [Fact]
    public async Task Duplicates_WithTheSameCreatedTime_TheSmallerIdWins()
    {
        DateTimeOffset when = DateTimeOffset.UtcNow;
        var ids = new Queue<string>(["1zzz", "1aaa"]);
        _drive.FileIds = ids.Dequeue;
        _drive.SeedFile("appDataFolder", "k/tie", [9], createdTime: when);
        _drive.SeedFile("appDataFolder", "k/tie", [4], createdTime: when);
        _drive.FileIds = null;

        using var backend = new GoogleDriveBackend(TestOptions.For(_drive));

        Assert.Equal(new byte[] { 4 }, await backend.ReadAllAsync("k/tie"));
        Assert.True(await backend.DeleteAsync("k/tie"));
        Assert.Empty(_drive.AppDataFiles());  // a delete removes every file of the name
    }

    [Fact]
    public async Task TwoDevicesCreatingOneNameAtOnce_ReadTheSameContent()
    {
        using var laptop = new GoogleDriveBackend(TestOptions.For(_drive));
        using var phone = new GoogleDriveBackend(TestOptions.For(_drive));

        await Task.WhenAll(laptop.PutAsync("k/race", new MemoryStream([1])), phone.PutAsync("k/race", new MemoryStream([2])));

        byte[]? seenByLaptop = await laptop.ReadAllAsync("k/race");
        Assert.Equal(seenByLaptop, await phone.ReadAllAsync("k/race"));
        Assert.Contains(seenByLaptop![0], new byte[] { 1, 2 });
    }

    [Fact]
    public async Task ACreateWhoseAnswerWasLost_IsRecognisedByItsWriteMarker_NotDuplicated()
    {
        using var lose = new LoseFirstAnswerHandler("POST", "/upload/drive/v3/files");
        GoogleDriveBackendOptions options = TestOptions.For(_drive);
        options.HttpMessageHandler = lose;
        using var backend = new GoogleDriveBackend(options);

        await backend.PutAsync("k/once", new MemoryStream([5]));

        Assert.True(lose.Lost);
        DriveDoubleFile file = Assert.Single(_drive.AppDataFiles());
        Assert.True(file.AppProperties.ContainsKey(GoogleDriveBackend.WriteIdProperty));
        Assert.Equal(1, _drive.RequestLog.Count(l => l == "POST /upload/drive/v3/files?multipart"));
    }

    [Fact]
    public async Task A401_AsksTheProviderForAFreshToken_Once()
    {
        _drive.AddToken("ya29.old", DriveDouble.AppDataScope);
        _drive.AddToken("ya29.new", DriveDouble.AppDataScope);
        _drive.RevokeToken("ya29.old");
        var calls = new List<bool>();
        GoogleDriveBackendOptions options = TestOptions.For(_drive);
        options.AccessToken = null;
        string current = "ya29.old";
        options.AccessTokenProvider = (refresh, _) =>
        {
            // A provider keeps its current token (it is asked before every request) and replaces it when told to refresh.
            calls.Add(refresh);
            current = refresh ? "ya29.new" : current;
            return ValueTask.FromResult(current);
        };
        using var backend = new GoogleDriveBackend(options);

        await backend.PutAsync("k/t", new MemoryStream([1]));
        Assert.Equal(new byte[] { 1 }, await backend.ReadAllAsync("k/t"));

        Assert.Equal(1, calls.Count(refresh => refresh));
        Assert.False(calls[0]);
        Assert.False(calls[^1]);
    }

    [Fact]
    public async Task A401_OnTheRefreshedToken_IsACredentialError_TellingToRunSetup()
    {
        var calls = new List<bool>();
        GoogleDriveBackendOptions options = TestOptions.For(_drive);
        options.AccessToken = null;
        options.AccessTokenProvider = (refresh, _) =>
        {
            calls.Add(refresh);
            return ValueTask.FromResult("ya29.revokedSECRET" + (refresh ? "2" : "1"));
        };
        using var backend = new GoogleDriveBackend(options);

        var error = await Assert.ThrowsAsync<GoogleDriveCredentialException>(() => backend.ListAllAsync(""));

        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.True(error.Refreshed);
        Assert.Contains("ghostie sync setup --backend drive", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("revokedSECRET", error.ToString(), StringComparison.Ordinal);
        Assert.Equal([false, true], calls);
    }

    [Fact]
    public async Task AFullDrive_IsAPermanentErrorSayingSo_AndWritesNothing()
    {
        _drive.StorageQuotaBytes = 100;
        using var backend = new GoogleDriveBackend(TestOptions.For(_drive));

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("k/full", new MemoryStream(new byte[200])));

        Assert.False(error.IsTransient);
        Assert.Contains("storageQuotaExceeded", error.Message, StringComparison.Ordinal);
        Assert.Empty(_drive.AppDataFiles());
    }

    [Fact]
    public async Task AChosenFolder_HoldsTheObjects_AndTheAppDataFolderStaysEmpty()
    {
        string folder = _drive.SeedFolder("Ghostie");
        using var backend = new GoogleDriveBackend(TestOptions.For(_drive, folderId: folder));

        await backend.PutAsync("k/f", new MemoryStream([8]));

        DriveDoubleFile file = Assert.Single(_drive.Files(), f => !f.IsFolder);
        Assert.Equal([folder], file.Parents);
        Assert.Empty(_drive.AppDataFiles());
        Assert.Contains("'" + folder + "'", backend.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_StopsAnUploadMidway_AndNothingIsWritten()
    {
        using GoogleDriveBackend backend = Chunked();
        using var cts = new CancellationTokenSource();
        var cancelling = new ExpiringStream(RandomBytes(4 * K, 10), afterBytes: 2 * K, cts.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("p/cancelled", cancelling, cts.Token));

        Assert.Empty(_drive.AppDataFiles());
    }

    [Theory]
    [InlineData(null, false, null, "No Google access token")]
    [InlineData("tok", true, null, "both AccessToken and AccessTokenProvider")]
    [InlineData("tok", false, 300_000, "multiple of 262,144")]
    public void InvalidOptions_AreRefusedNamingTheOption(string? token, bool provider, int? chunk, string expected)
    {
        var options = new GoogleDriveBackendOptions { AccessToken = token };
        if (provider)
        {
            options.AccessTokenProvider = (_, _) => ValueTask.FromResult("x");
        }

        if (chunk is int size)
        {
            options.ChunkSize = size;
        }

        var error = Assert.Throws<GhostieSyncException>(() => new GoogleDriveBackend(options));
        Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Hands out bytes and runs an action once a number of them was read (to expire the session or cancel midway).</summary>
    private sealed class ExpiringStream(byte[] data, int afterBytes, Action action) : MemoryStream(data, writable: false)
    {
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_done && Position >= afterBytes)
            {
                _done = true;
                action();
            }

            return await base.ReadAsync(buffer, cancellationToken);
        }
    }

    /// <summary>Lets the first matching request reach the server, then loses its answer (a reset after the server acted).</summary>
    private sealed class LoseFirstAnswerHandler(string method, string path) : DelegatingHandler(new SocketsHttpHandler { AllowAutoRedirect = false })
    {
        public bool Lost { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (!Lost && request.Method.Method == method && request.RequestUri!.AbsolutePath == path && response.StatusCode == HttpStatusCode.OK)
            {
                Lost = true;
                response.Dispose();
                throw new HttpRequestException(HttpRequestError.ConnectionError, "reset", new IOException("Connection reset by peer"));
            }

            return response;
        }
    }
}
