using System.Net;
using Ghostie.Sync.Backends.GitHubGist.Internal;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>
/// The backend against the double's documented behaviours that the first client got wrong: page-numbered listings
/// that shift when another client changes gists between two page requests, marker-only gists another device is
/// filling, exponential secondary-limit backoff, the missing scope as a 404, and raw_url on a host of its own.
/// </summary>
public sealed class GistListingRaceTests : IAsyncLifetime
{
    private GistDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = new GistDouble(GistDoubleFixture.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static MemoryStream Bytes(params byte[] data) => new(data, writable: false);

    private void SeedForeign(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _server.Seed($"someone's notes {i}", new Dictionary<string, string> { ["notes.md"] = "n" + i });
        }
    }

    /// <summary>Runs <paramref name="change"/> once, before the second page of the next listing is answered.</summary>
    private void OnceBeforePage2(Action change)
    {
        int fired = 0;
        _server.BeforeListPage = page =>
        {
            if (page == 2 && Interlocked.Exchange(ref fired, 1) == 0)
            {
                change();
            }

            return Task.CompletedTask;
        };
    }

    [Fact]
    public async Task Put_WhileAnotherClientDeletesAGistBetweenTwoPages_StillReplacesTheCurrentVersion()
    {
        // The repository's gist is on page 2 (100 newer foreign gists in front of it). A foreign gist on page 1 is
        // deleted between the put's two page requests: the repository gist slides onto page 1, already fetched, and a
        // listing by page numbers never sees it. The put must not take the object for new.
        _server.GistIds = () => "ffffffffffffffffffffffffffffff01";
        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "missed"));
        await backend.PutAsync("k", Bytes(1));
        _server.GistIds = () => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        SeedForeign(100);

        // A gist created now sorts before the repository's by id: were the put to take "k" for new and write it to a
        // gist of its own, readers would pick the old version (equal generations are ordered by gist id).
        int made = 0;
        _server.GistIds = () => Interlocked.Increment(ref made) == 1 ? "00000000000000000000000000000001" : Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        string victim = _server.Gists().First(g => g.Description.StartsWith("someone's", StringComparison.Ordinal)).Id;
        OnceBeforePage2(() => _server.Remove(victim));
        await backend.PutAsync("k", Bytes(2));

        Assert.Equal(new byte[] { 2 }, await StorageReads.ReadAllAsync(backend, "k"));
        using var other = new GitHubGistBackend(TestOptions.For(_server, tag: "missed"));
        Assert.Equal(new byte[] { 2 }, await StorageReads.ReadAllAsync(other, "k"));
        Assert.Single(_server.GistsTagged("missed"));
    }

    [Fact]
    public async Task Cleanup_WhileAnotherClientCreatesAGistBetweenTwoPages_KeepsEveryCurrentVersion()
    {
        // The repository's gist is the last of page 1. A gist created between two page requests pushes it onto page 2
        // as well: seen twice, each of its files looks like two versions of one object, and the "older" is the current.
        SeedForeign(10);
        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "twice"));
        await backend.PutAsync("a", Bytes(1));
        await backend.PutAsync("b", Bytes(2));
        SeedForeign(99);

        OnceBeforePage2(() => _server.Seed("brand new notes", new Dictionary<string, string> { ["n.md"] = "x" }));
        await backend.CleanupAsync();

        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "a"));
        Assert.Equal(new byte[] { 2 }, await StorageReads.ReadAllAsync(backend, "b"));
    }

    [Fact]
    public async Task List_WhileAnotherDeviceUpdatesTheRepositoryGistBetweenTwoPages_ShowsEveryObject()
    {
        // The repository's gist is the first of page 2. Another device's update moves it to the head of the listing,
        // onto page 1, which was already fetched: a listing by page numbers never sees it.
        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "moved"));
        await backend.PutAsync("x/1", Bytes(1));
        SeedForeign(100);
        string home = _server.GistsTagged("moved").Single().Id;

        OnceBeforePage2(() => _server.Edit(home, new Dictionary<string, string?> { ["other-device.txt"] = "edit" }));
        Assert.Equal(["x/1"], await StorageReads.ListAllAsync(backend, "x/"));
    }

    [Fact]
    public async Task Cleanup_LeavesAYoungMarkerOnlyGist_ThatAnotherDeviceIsFilling()
    {
        var clock = new VirtualClock(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        _server.Clock = clock;
        GitHubGistBackendOptions options = TestOptions.For(_server, new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1 }, "young");
        var race = new AfterListingHandler();
        options.HttpMessageHandler = race;
        using var backend = new GitHubGistBackend(options);
        await backend.PutAsync("h/1", Bytes(1));

        // Another device has just created a second gist (marker first, as this backend does) and adds its file right
        // after our cleanup listed the gists.
        clock.Advance(TimeSpan.FromMinutes(5));
        string filling = _server.Seed(GistFormat.Description("young"), new Dictionary<string, string> { [GistFormat.MarkerFileName] = GistFormat.MarkerContent });
        race.After = () => _server.Edit(filling, new Dictionary<string, string?> { ["o.other.1"] = "ghostie-gist/1 inline\nAQ" });
        await backend.CleanupAsync();

        Assert.Contains(_server.Gists(), g => g.Id == filling && g.Files.ContainsKey("o.other.1"));
    }

    [Fact]
    public async Task Cleanup_RemovesAMarkerOnlyGist_OnceItIsOlderThanTheGracePeriod()
    {
        var clock = new VirtualClock(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        _server.Clock = clock;
        GitHubGistBackendOptions options = TestOptions.For(_server, new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1 }, "old");
        using var backend = new GitHubGistBackend(options);
        await backend.PutAsync("h/1", Bytes(1));
        clock.Advance(TimeSpan.FromMinutes(1));
        string empty = _server.Seed(GistFormat.Description("old"), new Dictionary<string, string> { [GistFormat.MarkerFileName] = GistFormat.MarkerContent });

        Assert.Equal(0, await backend.CleanupAsync());
        Assert.Contains(_server.Gists(), g => g.Id == empty);

        clock.Advance(options.OrphanGracePeriod + TimeSpan.FromMinutes(1));
        Assert.Equal(1, await backend.CleanupAsync());
        Assert.DoesNotContain(_server.Gists(), g => g.Id == empty);
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "h/1"));
    }

    [Fact]
    public async Task Put_NeverAddsToAMarkerOnlyGistCleanupMayBeRemoving()
    {
        // A marker-only gist older than half the grace period may be deleted by another device's cleanup at any moment:
        // a put does not put its file there.
        var clock = new VirtualClock(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        _server.Clock = clock;
        GitHubGistBackendOptions options = TestOptions.For(_server, new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1 }, "doomed");
        options.MaxFilesPerGist = 2; // the marker and one object: a second object needs another gist
        using var backend = new GitHubGistBackend(options);
        await backend.PutAsync("h/1", Bytes(1));
        clock.Advance(TimeSpan.FromMinutes(1));
        string doomed = _server.Seed(GistFormat.Description("doomed"), new Dictionary<string, string> { [GistFormat.MarkerFileName] = GistFormat.MarkerContent });
        clock.Advance(options.OrphanGracePeriod / 2 + TimeSpan.FromMinutes(1));

        await backend.PutAsync("h/2", Bytes(2));
        Assert.Single(_server.Gists().Single(g => g.Id == doomed).Files);
        Assert.Equal(3, _server.GistsTagged("doomed").Count);
        Assert.Equal(new byte[] { 2 }, await StorageReads.ReadAllAsync(backend, "h/2"));
    }

    [Fact]
    public async Task SecondaryLimit_WithoutRetryAfter_BacksOffExponentiallyFromOneMinute()
    {
        var clock = new VirtualClock(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        _server.Clock = clock;
        _server.EnforceRetryWaits = true;
        var retry = new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1, MaxThrottleDelay = TimeSpan.FromMinutes(10) };
        using var backend = new GitHubGistBackend(TestOptions.For(_server, retry, "backoff"));
        await backend.PutAsync("s/0", Bytes(0));
        clock.Waits.Clear();

        _server.InjectSecondaryLimit(3, HttpStatusCode.TooManyRequests, null);
        await backend.PutAsync("s/1", Bytes(1));
        Assert.Equal([TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(4)], clock.Waits);
        Assert.Equal(0, _server.EarlyRetries);

        // A success ends the series: the next limit starts from one minute again.
        clock.Waits.Clear();
        _server.InjectSecondaryLimit(1, HttpStatusCode.Forbidden, null);
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "s/1"));
        Assert.Equal([TimeSpan.FromMinutes(1)], clock.Waits);
    }

    [Fact]
    public async Task SecondaryLimit_BackoffBeyondTheAllowedWait_FailsSayingWhenToRetry()
    {
        var clock = new VirtualClock(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        _server.Clock = clock;
        var retry = new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1, MaxThrottleDelay = TimeSpan.FromMinutes(3) };
        using var backend = new GitHubGistBackend(TestOptions.For(_server, retry, "giveup"));
        await backend.PutAsync("s/0", Bytes(0));
        clock.Waits.Clear();

        _server.InjectSecondaryLimit(5, HttpStatusCode.TooManyRequests, null);
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("s/1", Bytes(1)));
        Assert.Equal([TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)], clock.Waits);
        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("secondary rate limit", error.Message, StringComparison.Ordinal);
        Assert.Contains("Try again after", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenWithoutTheGistScope_Gets404_AndTheErrorNamesTheScopeToGrant()
    {
        _server.Scopes = "repo, read:org";
        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "noscope"));

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("n/1", Bytes(1)));
        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.False(error.IsTransient);
        Assert.Contains("'gist' scope", error.Message, StringComparison.Ordinal);
        Assert.Contains("repo, read:org", error.Message, StringComparison.Ordinal); // what the token has now
        Assert.DoesNotContain(GistDoubleFixture.Token, error.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Gists());
    }

    [Fact]
    public async Task PinnedHomeGist_WithTheScopeMissing_IsAccessDenied_NotAMissingRepository()
    {
        using (var first = new GitHubGistBackend(TestOptions.For(_server, tag: "pinned")))
        {
            await first.PutAsync("p/1", Bytes(1));
        }

        string home = _server.GistsTagged("pinned").Single().Id;
        GitHubGistBackendOptions options = TestOptions.For(_server, tag: "pinned");
        options.HomeGistId = home;
        using var backend = new GitHubGistBackend(options);
        _server.Scopes = "repo";
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => StorageReads.ReadAllAsync(backend, "p/1"));
        Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
        Assert.Contains("'gist' scope", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RawReads_GoToTheRawHost_WithoutTheToken()
    {
        using var backend = new GitHubGistBackend(TestOptions.For(_server, tag: "rawhost"));
        byte[] big = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(big);
        await backend.PutAsync("r/small", Bytes(1, 2, 3));
        await backend.PutAsync("r/big", new MemoryStream(big, writable: false));

        int before = _server.RawRequests;
        Assert.Equal(new byte[] { 1, 2, 3 }, await StorageReads.ReadAllAsync(backend, "r/small"));
        Assert.Equal(big, await StorageReads.ReadAllAsync(backend, "r/big"));
        Assert.True(_server.RawRequests > before);
        Assert.Equal(0, _server.RawRequestsWithAuthorization);
        Assert.All(_server.Requests.Where(r => !r.Raw), r => Assert.True(r.HadAuthorization));
    }

    [Fact]
    public async Task LargestChunk_StaysUnderTheTenMegabytesTheRawHostServes()
    {
        // raw_url serves files up to ten megabytes; the largest chunk allowed (7 MiB) is 9,786,710 characters of text.
        GitHubGistBackendOptions options = TestOptions.For(_server, tag: "maxchunk");
        options.ChunkSize = 7 * 1024 * 1024;
        using var backend = new GitHubGistBackend(options);
        byte[] data = new byte[options.ChunkSize + 1000];
        new Random(11).NextBytes(data);
        await backend.PutAsync("c/max", new MemoryStream(data, writable: false));

        long largest = _server.GistsTagged("maxchunk").SelectMany(g => g.Files.Values).Max(f => f.Size);
        Assert.InRange(largest, 9_000_000, GistDouble.DefaultRawFileLimit);
        Assert.Equal(data, await StorageReads.ReadAllAsync(backend, "c/max"));
    }

    /// <summary>Runs <see cref="After"/> once, as soon as the answer to a listing request (armed by setting it) arrives:
    /// another device's write that lands right after our listing.</summary>
    private sealed class AfterListingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _fired;

        public Action? After { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (After is not null && request.Method == HttpMethod.Get && request.RequestUri!.AbsolutePath == "/gists" && Interlocked.Exchange(ref _fired, 1) == 0)
            {
                After();
            }

            return response;
        }
    }
}
