using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Ghostie.Sync.Backends.GitHubGist.Internal;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

public sealed partial class GistBackendTests : IAsyncLifetime
{
    private GistDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = new GistDouble(GistDoubleFixture.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static MemoryStream Bytes(byte[] data) => new(data, writable: false);

    [Fact]
    public async Task ContentOverOneMegabyte_IsTruncatedByTheApi_AndReadInFullThroughRawUrl()
    {
        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "trunc"));
        byte[] data = new byte[1024 * 1024];
        new Random(5).NextBytes(data);
        await backend.PutAsync("t/big", Bytes(data));

        // The API's own view of the gist cuts the file at one megabyte...
        using var http = new HttpClient();
        http.DefaultRequestHeaders.UserAgent.ParseAdd("test/1");
        http.DefaultRequestHeaders.Authorization = new("Bearer", GistDoubleFixture.Token);
        string json = await http.GetStringAsync(new Uri(_server.BaseUri, "gists/" + backend.HomeGistId));
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        System.Text.Json.JsonElement file = doc.RootElement.GetProperty("files").EnumerateObject().Single(f => f.Name.StartsWith("o.", StringComparison.Ordinal)).Value;
        Assert.True(file.GetProperty("truncated").GetBoolean());
        Assert.Equal(GistDouble.DefaultContentLimit, file.GetProperty("content").GetString()!.Length);
        Assert.True(file.GetProperty("size").GetInt64() > GistDouble.DefaultContentLimit);

        // ...and the backend still reads every byte (through raw_url).
        int rawBefore = _server.RawRequests;
        Assert.Equal(data, await StorageReads.ReadAllAsync(backend, "t/big"));
        Assert.Equal(rawBefore + 1, _server.RawRequests);
    }

    [Fact]
    public async Task MoreThan300Objects_AreSpreadOverSeveralGists_NoneTruncated()
    {
        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "many"));
        var names = Enumerable.Range(0, 320).Select(i => $"m/{i:d4}").ToList();
        foreach (string name in names)
        {
            await backend.PutAsync(name, Bytes(Encoding.ASCII.GetBytes(name)));
        }

        IReadOnlyList<DoubleGist> gists = _server.GistsTagged("many");
        Assert.Equal(2, gists.Count);
        Assert.All(gists, g => Assert.InRange(g.Files.Count, 2, 250));
        Assert.All(gists, g => Assert.False(g.Public));
        Assert.Equal(names, await StorageReads.ListAllAsync(backend, "m/"));
        Assert.Equal(Encoding.ASCII.GetBytes("m/0319"), await StorageReads.ReadAllAsync(backend, "m/0319"));

        // A second device (another instance) sees the same repository.
        using var other = new GitHubGistBackend(TestOptions.For(_server, tag: "many"));
        Assert.Equal(320, (await StorageReads.ListAllAsync(other, "")).Count);
        Assert.Equal(backend.HomeGistId, other.HomeGistId);
    }

    [Fact]
    public async Task GistsCreatedInTheSameSecond_EveryInstanceNamesTheSameHomeGist()
    {
        // GitHub's created_at has whole seconds: a second shard made in the same second as the first, with an id that
        // sorts lower, is the "oldest" by (created_at, id). The instance that created the first shard must not keep
        // calling that one home while every other device names the other.
        _server.Clock = new VirtualClock(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var ids = new Queue<string>(["ffffffffffffffffffffffffffffffff", "11111111111111111111111111111111"]);
        _server.GistIds = () => ids.Dequeue();
        GitHubGistBackendOptions options = TestOptions.For(_server, tag: "tie");
        options.MaxFilesPerGist = 3; // marker + 2 objects: the third object needs a second gist
        using var backend = new GitHubGistBackend(options);
        for (int i = 0; i < 3; i++)
        {
            await backend.PutAsync($"t/{i}", Bytes([(byte)i]));
        }

        Assert.Equal(2, _server.GistsTagged("tie").Count);
        Assert.Equal(3, (await StorageReads.ListAllAsync(backend, "t/")).Count);
        using var other = new GitHubGistBackend(TestOptions.For(_server, tag: "tie"));
        Assert.Equal(3, (await StorageReads.ListAllAsync(other, "t/")).Count);
        Assert.Equal("11111111111111111111111111111111", other.HomeGistId);
        Assert.Equal(other.HomeGistId, backend.HomeGistId);
    }

    [Fact]
    public async Task ListingFollowsLinkPagination_PastOtherGistsOfTheAccount()
    {
        for (int i = 0; i < 130; i++)
        {
            _server.Seed($"someone's notes {i}", new Dictionary<string, string> { ["notes.md"] = "hello " + i });
        }

        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "paged"));
        await backend.PutAsync("p/1", Bytes([1]));
        for (int i = 0; i < 130; i++)
        {
            _server.Seed($"later notes {i}", new Dictionary<string, string> { ["notes.md"] = "later " + i });
        }

        int before = _server.ApiRequests;
        Assert.Equal(["p/1"], await StorageReads.ListAllAsync(backend, ""));
        Assert.Equal(6, _server.ApiRequests - before); // 261 gists, 100 per page: 3 pages, listed twice to check they agree
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "p/1"));
    }

    [Fact]
    public async Task RepositoryTags_KeepRepositoriesOfOneAccountApart()
    {
        using var a = new GitHubGistBackend(TestOptions.For(_server, tag: "alpha"));
        using var b = new GitHubGistBackend(TestOptions.For(_server, tag: "beta"));
        await a.PutAsync("x/1", Bytes([1]));
        await b.PutAsync("x/1", Bytes([2]));
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(a, "x/1"));
        Assert.Equal(new byte[] { 2 }, await StorageReads.ReadAllAsync(b, "x/1"));
        Assert.True(await a.DeleteAsync("x/1"));
        Assert.Equal(new byte[] { 2 }, await StorageReads.ReadAllAsync(b, "x/1"));
    }

    [Fact]
    public void NameMapping_RoundTripsEveryValidCharacter_AndAvoidsGistFileNameRules()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        var names = new List<string> { "a", "a/b", alphabet, "x/" + alphabet + "/y", new string('z', 64), "0/1/2/3/4/5/6/7/8/9", "gistfile1", "o/c/1" };
        names.AddRange(alphabet.Select(c => $"{c}/{c}{c}/{c}"));
        foreach (string name in names)
        {
            Assert.True(ObjectName.IsValid(name), name);
            foreach (string? writeId in new[] { null, "0123456789abcdef0123" })
            {
                string file = GistFormat.ObjectFileName(name, 7, writeId);
                Assert.DoesNotContain('/', file);
                Assert.DoesNotMatch(GistFileRule(), file);
                ParsedFileName parsed = GistFormat.Parse(file);
                Assert.Equal(GistFileKind.Object, parsed.Kind);
                Assert.Equal(name, parsed.ObjectName);
                Assert.Equal(7, parsed.Generation);
                Assert.Equal(writeId, parsed.WriteId);
            }
        }

        ParsedFileName chunk = GistFormat.Parse(GistFormat.ChunkFileName("0123456789abcdef0123", 12));
        Assert.Equal((GistFileKind.Chunk, "0123456789abcdef0123", 12), (chunk.Kind, chunk.WriteId, chunk.ChunkIndex));
        foreach (string foreign in new[] { GistFormat.MarkerFileName, "notes.md", "o.a.0", "o.a.01", "o.A.1", "o.a__b.1", "o.a.1.xyz", "c.short.1", "o..1" })
        {
            Assert.Equal(GistFileKind.Foreign, GistFormat.Parse(foreign).Kind);
        }
    }

    [GeneratedRegex("^gistfile[0-9]+$")]
    private static partial Regex GistFileRule();

    [Fact]
    public async Task NamesWithEveryValidCharacter_RoundTripThroughTheBackend()
    {
        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "names"));
        string[] names = ["abcdefghijklmnopqrstuvwxyz0123456789", "z/y/x", "a/0", "9/9/9", "gistfile1"];
        foreach (string name in names)
        {
            await backend.PutAsync(name, Bytes(Encoding.ASCII.GetBytes(name)));
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), await StorageReads.ListAllAsync(backend, ""));
        foreach (string name in names)
        {
            Assert.Equal(Encoding.ASCII.GetBytes(name), await StorageReads.ReadAllAsync(backend, name));
        }
    }

    [Fact]
    public async Task PrimaryRateLimit_WaitsUntilReset_OnTheInjectedClock()
    {
        var clock = new VirtualClock(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        _server.Clock = clock;
        _server.RateLimit = 3;
        _server.RateWindow = TimeSpan.FromSeconds(40);
        var retry = new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1, MaxThrottleDelay = TimeSpan.FromMinutes(2) };
        using var backend = new GitHubGistBackend(TestOptions.For(_server, retry, "rate"));

        for (int i = 0; i < 4; i++)
        {
            await backend.PutAsync($"r/{i}", Bytes([(byte)i]));
        }

        Assert.Equal(["r/0", "r/1", "r/2", "r/3"], await StorageReads.ListAllAsync(backend, "r/"));
        Assert.NotEmpty(clock.Waits);
        Assert.All(clock.Waits, w => Assert.InRange(w, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(40)));
        Assert.True(clock.Waits.Count >= 3, $"one wait per exhausted window, saw {clock.Waits.Count}");
    }

    [Fact]
    public async Task Cancellation_DuringAPrimaryRateLimitWait_EndsTheWaitAtOnce()
    {
        var clock = new FrozenClock(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        _server.Clock = clock;
        _server.RateLimit = 1;
        _server.RateWindow = TimeSpan.FromSeconds(90);
        var retry = new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1, MaxThrottleDelay = TimeSpan.FromMinutes(2) };
        using var backend = new GitHubGistBackend(TestOptions.For(_server, retry, "ratecancel"));
        Assert.Empty(await StorageReads.ListAllAsync(backend, ""));

        using var cts = new CancellationTokenSource();
        Task put = backend.PutAsync("r/x", Bytes([1]), cts.Token);
        TimeSpan wait = await clock.WaitStarted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(wait, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(90));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Cancellation_DuringASecondaryRateLimitWait_EndsTheWaitAtOnce()
    {
        var clock = new FrozenClock(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var retry = new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1, MaxThrottleDelay = TimeSpan.FromMinutes(2) };
        using var backend = new GitHubGistBackend(TestOptions.For(_server, retry, "secondcancel"));

        _server.InjectSecondaryLimit(1, HttpStatusCode.TooManyRequests, 30);
        using var cts = new CancellationTokenSource();
        Task<bool> delete = backend.DeleteAsync("s/1", cts.Token);
        Assert.Equal(TimeSpan.FromSeconds(30), await clock.WaitStarted.WaitAsync(TimeSpan.FromSeconds(10)));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delete.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task PrimaryRateLimit_ResetTooFarAway_FailsAtOnce_SayingWhenToRetry()
    {
        var clock = new VirtualClock(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        _server.Clock = clock;
        _server.RateLimit = 1;
        _server.RateWindow = TimeSpan.FromHours(1);
        var retry = new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1, MaxThrottleDelay = TimeSpan.FromMinutes(2) };
        using var backend = new GitHubGistBackend(TestOptions.For(_server, retry, "rate2"));

        await foreach (string _ in backend.ListAsync(""))
        {
        }

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("r/x", Bytes([1])));
        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("2026-11-21 10:00:00 UTC", error.Message, StringComparison.Ordinal);
        Assert.Contains("Try again after", error.Message, StringComparison.Ordinal);
        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task SecondaryRateLimit_RetryAfterOn403_IsHonoured_AndWithoutHintWaitsAMinute()
    {
        var clock = new RecordingTimeProvider();
        var retry = new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1, MaxThrottleDelay = TimeSpan.FromMinutes(2) };
        using var backend = new GitHubGistBackend(TestOptions.For(_server, retry, "second"));

        _server.InjectSecondaryLimit(1, HttpStatusCode.Forbidden, 9);
        await backend.PutAsync("s/1", Bytes([1]));
        Assert.Equal([TimeSpan.FromSeconds(9)], clock.Waits);

        _server.InjectSecondaryLimit(1, HttpStatusCode.Forbidden, null);
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "s/1"));
        Assert.Equal([TimeSpan.FromSeconds(9), TimeSpan.FromMinutes(1)], clock.Waits);

        _server.InjectSecondaryLimit(1, HttpStatusCode.TooManyRequests, 4);
        Assert.True(await backend.DeleteAsync("s/1"));
        Assert.Contains(TimeSpan.FromSeconds(4), clock.Waits);
    }

    [Fact]
    public async Task HomeGistId_WhenSet_IsCheckedOnEveryOperation()
    {
        using var first = new GitHubGistBackend(TestOptions.For(_server, tag: "home"));
        await first.PutAsync("h/1", Bytes([1]));
        string home = first.HomeGistId!;

        GitHubGistBackendOptions pinned = TestOptions.For(_server, tag: "home");
        pinned.HomeGistId = home;
        using var second = new GitHubGistBackend(pinned);
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(second, "h/1"));

        GitHubGistBackendOptions wrongTag = TestOptions.For(_server, tag: "other");
        wrongTag.HomeGistId = home;
        using var third = new GitHubGistBackend(wrongTag);
        var mismatch = await Assert.ThrowsAsync<GhostieSyncException>(() => third.GetAsync("h/1"));
        Assert.Equal(GhostieErrorCode.StorageNotFound, mismatch.Code);
        Assert.Contains(home, mismatch.Message, StringComparison.Ordinal);

        _server.Remove(home); // deleted on GitHub: the pinned backend refuses to treat it as an empty repository
        var gone = await Assert.ThrowsAsync<GhostieSyncException>(() => second.PutAsync("h/2", Bytes([2])));
        Assert.Equal(GhostieErrorCode.StorageNotFound, gone.Code);
        Assert.Contains(second.DisplayName, gone.Message, StringComparison.Ordinal);
        Assert.Empty(_server.GistsTagged("home"));
    }

    [Fact]
    public async Task ContentCreatingRequests_ArePacedByMinimumWriteInterval()
    {
        var clock = new VirtualClock(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        GitHubGistBackendOptions options = TestOptions.For(_server, new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1 }, "paced");
        options.MinimumWriteInterval = TimeSpan.FromSeconds(1);
        using var backend = new GitHubGistBackend(options);

        await backend.PutAsync("p/1", Bytes([1])); // create gist + add file: the second write waits
        await backend.PutAsync("p/2", Bytes([2]));
        Assert.Equal(new byte[] { 2 }, await StorageReads.ReadAllAsync(backend, "p/2")); // reads are not paced

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)], clock.Waits);
    }

    [Fact]
    public async Task Forbidden_WithoutRateLimitSigns_IsAccessDenied_NamingTheFineGrainedPermission()
    {
        using var faults = new FaultInjectingHandler();
        GitHubGistBackendOptions options = TestOptions.For(_server, tag: "scope");
        options.HttpMessageHandler = faults;
        using var backend = new GitHubGistBackend(options);
        faults.FailNext(1, Fault.Status(HttpStatusCode.Forbidden));

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("f/1", Bytes([1])));
        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        // A missing classic scope is a 404 (GistListingRaceTests); a 403 that is no rate limit is a fine-grained token
        // without the Gists permission or a policy: the message must not send the user after a scope.
        Assert.Contains("'Gists' (read and write)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("lacks the gist scope", error.Message, StringComparison.Ordinal);
        Assert.Contains(backend.DisplayName, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, faults.Requests);
    }

    [Fact]
    public async Task InterruptedLargeUpload_LeavesInvisibleChunks_ThatCleanupRemovesAfterTheGracePeriod()
    {
        var clock = new VirtualClock(DateTimeOffset.UtcNow);
        using var crash = new CrashAfterHandler(passing: 4); // list, create gist, chunk 0, chunk 1; then the "process dies"
        GitHubGistBackendOptions options = TestOptions.For(_server, new BackendRetryOptions { TimeProvider = clock, MaxAttempts = 1 }, "orphans");
        options.ChunkSize = 256 * 1024;
        options.InlineMaxBytes = 64 * 1024;
        options.HttpMessageHandler = crash;
        using (var dying = new GitHubGistBackend(options))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => dying.PutAsync("o/big", new GeneratedStream(1024 * 1024, seed: 2)));
        }

        int chunkFiles = _server.GistsTagged("orphans").Sum(g => g.Files.Keys.Count(f => f.StartsWith("c.", StringComparison.Ordinal)));
        Assert.Equal(2, chunkFiles);

        options.HttpMessageHandler = null;
        using var backend = new GitHubGistBackend(options);
        Assert.Null(await backend.GetAsync("o/big"));
        Assert.Empty(await StorageReads.ListAllAsync(backend, ""));
        await backend.PutAsync("o/small", Bytes([3]));

        Assert.Equal(0, await backend.CleanupAsync()); // young chunks may belong to an upload in progress elsewhere
        clock.Advance(options.OrphanGracePeriod + TimeSpan.FromMinutes(1));
        Assert.Equal(2, await backend.CleanupAsync());
        Assert.Equal(0, _server.GistsTagged("orphans").Sum(g => g.Files.Keys.Count(f => f.StartsWith("c.", StringComparison.Ordinal))));
        Assert.Equal(new byte[] { 3 }, await StorageReads.ReadAllAsync(backend, "o/small"));
    }

    [Fact]
    public async Task FailedLargeUpload_RemovesItsOwnChunksAtOnce()
    {
        GitHubGistBackendOptions options = TestOptions.For(_server, tag: "ownchunks");
        options.ChunkSize = 256 * 1024;
        options.InlineMaxBytes = 64 * 1024;
        using var backend = new GitHubGistBackend(options);
        using var cts = new CancellationTokenSource();
        var source = new GeneratedStream(2 * 1024 * 1024, seed: 4, triggerAt: 800 * 1024, trigger: cts.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("o/cancelled", source, cts.Token));

        Assert.Equal(0, _server.GistsTagged("ownchunks").Sum(g => g.Files.Keys.Count(f => f.StartsWith("c.", StringComparison.Ordinal))));
        Assert.Null(await backend.GetAsync("o/cancelled"));
    }

    [Fact]
    public async Task LargeObject_IsSplitAcrossGists_UnderTheGistSizeLimit_AndReplacedCleanly()
    {
        _server.MaxGistBytes = 1024 * 1024;
        GitHubGistBackendOptions options = TestOptions.For(_server, tag: "spread");
        options.ChunkSize = 256 * 1024;
        options.InlineMaxBytes = 64 * 1024;
        options.MaxGistBytes = 900 * 1024;
        using var backend = new GitHubGistBackend(options);
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(9).NextBytes(data);

        await backend.PutAsync("s/big", Bytes(data));
        Assert.True(_server.GistsTagged("spread").Count >= 5);
        Assert.Equal(data, await StorageReads.ReadAllAsync(backend, "s/big"));

        await backend.PutAsync("s/big", Bytes([7, 7]));
        Assert.Equal(new byte[] { 7, 7 }, await StorageReads.ReadAllAsync(backend, "s/big"));
        Assert.Equal(0, _server.GistsTagged("spread").Sum(g => g.Files.Keys.Count(f => f.StartsWith("c.", StringComparison.Ordinal))));
        Assert.Equal(["s/big"], await StorageReads.ListAllAsync(backend, ""));
    }

    [Fact]
    public async Task TamperedChunk_IsReportedAsIntegrityFailure()
    {
        GitHubGistBackendOptions options = TestOptions.For(_server, tag: "tamper");
        options.ChunkSize = 64 * 1024;
        options.InlineMaxBytes = 4 * 1024;
        using var backend = new GitHubGistBackend(options);
        byte[] data = new byte[200 * 1024];
        new Random(1).NextBytes(data);
        await backend.PutAsync("t/x", Bytes(data));
        DoubleGist gist = _server.GistsTagged("tamper").Single();
        string chunk = gist.Files.Keys.First(f => f.StartsWith("c.", StringComparison.Ordinal));

        using (var http = new HttpClient())
        {
            http.DefaultRequestHeaders.UserAgent.ParseAdd("test/1");
            http.DefaultRequestHeaders.Authorization = new("Bearer", GistDoubleFixture.Token);
            string body = "{\"files\":{\"" + chunk + "\":{\"content\":\"AAAA\"}}}";
            (await http.PatchAsync(new Uri(_server.BaseUri, "gists/" + gist.Id), new StringContent(body))).EnsureSuccessStatusCode();
        }

        await using Stream? stream = await backend.GetAsync("t/x");
        Assert.NotNull(stream);
        var error = await Assert.ThrowsAsync<IntegrityException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal("t/x", error.ObjectName);
    }

    [Fact]
    public async Task Secrets_NeverReachLogs()
    {
        var logs = new ListLogger();
        var clock = new RecordingTimeProvider();
        GitHubGistBackendOptions options = TestOptions.For(_server, new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1 }, "logs");
        using var backend = new GitHubGistBackend(options, logs);
        _server.InjectSecondaryLimit(1, HttpStatusCode.TooManyRequests, 2);
        await backend.PutAsync("l/1", Bytes([1]));
        await backend.CleanupAsync();

        Assert.NotEmpty(logs.Lines);
        Assert.All(logs.Lines, line => Assert.DoesNotContain(GistDoubleFixture.Token, line, StringComparison.Ordinal));
        Assert.DoesNotContain(GistDoubleFixture.Token, backend.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_AreValidated_WithClearMessages_AndTheTokenComesFromTheEnvironment()
    {
        var empty = new GitHubGistBackendOptions { Token = null, RepositoryTag = "Bad Tag", MaxFilesPerGist = 400 };
        string? saved1 = Environment.GetEnvironmentVariable(GitHubGistBackendOptions.TokenVariable);
        string? saved2 = Environment.GetEnvironmentVariable(GitHubGistBackendOptions.FallbackTokenVariable);
        try
        {
            Environment.SetEnvironmentVariable(GitHubGistBackendOptions.TokenVariable, null);
            Environment.SetEnvironmentVariable(GitHubGistBackendOptions.FallbackTokenVariable, null);
            var error = Assert.Throws<GhostieSyncException>(() => new GitHubGistBackend(empty));
            Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
            Assert.Contains(GitHubGistBackendOptions.TokenVariable, error.Message, StringComparison.Ordinal);
            Assert.Contains("RepositoryTag", error.Message, StringComparison.Ordinal);
            Assert.Contains("MaxFilesPerGist", error.Message, StringComparison.Ordinal);

            Environment.SetEnvironmentVariable(GitHubGistBackendOptions.FallbackTokenVariable, "from-env-token");
            Assert.Equal("from-env-token", new GitHubGistBackendOptions().ResolveToken());
            Environment.SetEnvironmentVariable(GitHubGistBackendOptions.TokenVariable, "ghostie-token");
            Assert.Equal("ghostie-token", new GitHubGistBackendOptions().ResolveToken());
            Assert.Equal("explicit", new GitHubGistBackendOptions { Token = "explicit" }.ResolveToken());
            var http = new GitHubGistBackendOptions { Token = "t", ApiBaseUri = new Uri("http://example.com/") };
            Assert.Contains(http.GetValidationErrors(), e => e.Contains("plain http", StringComparison.Ordinal));
        }
        finally
        {
            Environment.SetEnvironmentVariable(GitHubGistBackendOptions.TokenVariable, saved1);
            Environment.SetEnvironmentVariable(GitHubGistBackendOptions.FallbackTokenVariable, saved2);
        }
    }

    /// <summary>Passes the first requests, then fails every request as a dead process would (nothing reaches the server).</summary>
    private sealed class CrashAfterHandler(int passing) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _seen;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _seen) <= passing
                ? base.SendAsync(request, cancellationToken)
                : throw new HttpRequestException(HttpRequestError.ConnectionError, "process died");
    }

    private sealed class ListLogger : ILogger<GitHubGistBackend>
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception) + " " + exception);
    }
}
