using System.Net;

namespace Ghostie.Sync.Testing;

/// <summary>
/// The conformance suite plus what only network backends face: transient failures retried with bounded, jittered
/// exponential backoff; throttling hints honoured; permanent failures reported at once with a clear, typed error;
/// credentials never in exception text. Faults are injected by a <see cref="FaultInjectingHandler"/> between the
/// backend and the real server; waits are recorded by a <see cref="RecordingTimeProvider"/>, so nothing sleeps.
/// </summary>
public abstract class RemoteBackendConformanceTests : BackendConformanceTests
{
    /// <summary>A backend over the same kind of fresh store as <see cref="BackendConformanceTests.CreateBackendAsync"/>, whose HTTP
    /// requests all pass through <paramref name="faults"/> and which retries with <paramref name="retry"/>. Any
    /// set-up requests (creating the bucket) should be made before returning, or without <paramref name="faults"/>.</summary>
    /// <param name="faults">The handler to send every request through.</param>
    /// <param name="retry">The retry options to use.</param>
    protected abstract Task<IStorageBackend> CreateFaultyBackendAsync(FaultInjectingHandler faults, BackendRetryOptions retry);

    /// <summary>A backend whose credentials the server rejects (401 or 403).</summary>
    /// <param name="retry">The retry options to use.</param>
    protected abstract Task<IStorageBackend> CreateBackendWithBadCredentialsAsync(BackendRetryOptions retry);

    /// <summary>A backend pointed at a bucket, container or gist that does not exist.</summary>
    /// <param name="retry">The retry options to use.</param>
    protected abstract Task<IStorageBackend> CreateBackendForMissingStoreAsync(BackendRetryOptions retry);

    /// <summary>The secrets the backends of this class use (keys, tokens, signatures): none may appear in errors.</summary>
    protected abstract IReadOnlyList<string> Secrets { get; }

    /// <summary>Retry options for tests: small delays, seeded jitter, a recording clock.</summary>
    /// <param name="clock">The clock that records waits.</param>
    /// <param name="attempts">Attempts in total.</param>
    protected static BackendRetryOptions TestRetry(RecordingTimeProvider clock, int attempts = 4) => new()
    {
        MaxAttempts = attempts,
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(2),
        MaxThrottleDelay = TimeSpan.FromSeconds(30),
        AttemptTimeout = TimeSpan.FromSeconds(20),
        TimeProvider = clock,
        JitterSeed = 11,
    };

    private void AssertNoSecrets(Exception error)
    {
        string text = error.ToString();
        foreach (string secret in Secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    private static MemoryStream Bytes(params byte[] data) => new(data, writable: false);

    [Fact]
    public async Task Transient5xx_AreRetried_WithBoundedJitteredBackoff()
    {
        var clock = new RecordingTimeProvider();
        using var faults = new FaultInjectingHandler();
        IStorageBackend backend = await CreateFaultyBackendAsync(faults, TestRetry(clock));

        faults.FailNext(1, Fault.Status(HttpStatusCode.InternalServerError)).FailNext(1, Fault.Status(HttpStatusCode.ServiceUnavailable));
        await backend.PutAsync("r/a", Bytes(1, 2, 3));
        faults.FailNext(2, Fault.Status(HttpStatusCode.BadGateway));
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadAllAsync(backend, "r/a"));
        faults.FailNext(1, Fault.Status(HttpStatusCode.GatewayTimeout));
        Assert.Equal(["r/a"], await ListAllAsync(backend, "r/"));

        Assert.Equal(5, faults.Faulted);
        TimeSpan[] waits = [.. clock.Waits];
        Assert.Equal(5, waits.Length);
        Assert.All(waits, w => Assert.InRange(w, TimeSpan.Zero, TimeSpan.FromMilliseconds(200)));
        Assert.True(waits.Distinct().Count() > 1, "backoff waits are jittered, not constant");
    }

    [Fact]
    public async Task ResetConnections_AndTimeouts_AreRetried()
    {
        var clock = new RecordingTimeProvider();
        using var faults = new FaultInjectingHandler();
        BackendRetryOptions retry = TestRetry(clock);
        retry.AttemptTimeout = TimeSpan.FromMilliseconds(750);
        IStorageBackend backend = await CreateFaultyBackendAsync(faults, retry);

        faults.FailNext(2, Fault.Reset);
        await backend.PutAsync("r/reset", Bytes(4));
        faults.FailNext(1, Fault.Hang);
        Assert.Equal(new byte[] { 4 }, await ReadAllAsync(backend, "r/reset"));
        faults.FailNext(1, Fault.Reset);
        Assert.True(await backend.DeleteAsync("r/reset"));
        Assert.Equal(4, faults.Faulted);
    }

    [Fact]
    public async Task Throttling_RetryAfterIsHonoured()
    {
        var clock = new RecordingTimeProvider();
        using var faults = new FaultInjectingHandler();
        IStorageBackend backend = await CreateFaultyBackendAsync(faults, TestRetry(clock));

        faults.FailNext(1, Fault.Status(HttpStatusCode.TooManyRequests, ("Retry-After", "7")));
        await backend.PutAsync("r/t", Bytes(7));
        faults.FailNext(1, Fault.Status(HttpStatusCode.ServiceUnavailable, ("Retry-After", "3")));
        Assert.Equal(new byte[] { 7 }, await ReadAllAsync(backend, "r/t"));

        Assert.Contains(TimeSpan.FromSeconds(7), clock.Waits);
        Assert.Contains(TimeSpan.FromSeconds(3), clock.Waits);
    }

    [Fact]
    public async Task PersistentFailure_GivesUpAfterMaxAttempts_WithATransientTypedError()
    {
        var clock = new RecordingTimeProvider();
        using var faults = new FaultInjectingHandler();
        IStorageBackend backend = await CreateFaultyBackendAsync(faults, TestRetry(clock, attempts: 3));
        int before = faults.Requests;
        faults.FailAlways(Fault.Status(HttpStatusCode.ServiceUnavailable));

        var error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync("r/never", Bytes(1)));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("3 attempt", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, faults.Requests - before);
        Assert.Equal(2, clock.Waits.Count);
        AssertNoSecrets(error);
        faults.Heal();
        Assert.Null(await backend.GetAsync("r/never"));
    }

    [Fact]
    public async Task BadCredentials_FailAtOnce_AsAccessDenied_WithoutSecrets()
    {
        var clock = new RecordingTimeProvider();
        IStorageBackend backend = await CreateBackendWithBadCredentialsAsync(TestRetry(clock));

        var put = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync("r/x", Bytes(1)));
        var get = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.GetAsync("r/x"));
        var list = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => ListAllAsync(backend, ""));

        foreach (GhostieSyncException error in new[] { put, get, list })
        {
            Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
            Assert.False(error.IsTransient);
            AssertNoSecrets(error);
        }

        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task MissingStore_FailsAtOnce_AsStorageNotFound_NamingIt()
    {
        var clock = new RecordingTimeProvider();
        IStorageBackend backend = await CreateBackendForMissingStoreAsync(TestRetry(clock));

        var get = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.GetAsync("r/x"));
        var list = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => ListAllAsync(backend, ""));

        foreach (GhostieSyncException error in new[] { get, list })
        {
            Assert.Equal(GhostieErrorCode.StorageNotFound, error.Code);
            Assert.Contains(backend.DisplayName, error.Message, StringComparison.Ordinal);
            AssertNoSecrets(error);
        }

        Assert.Empty(clock.Waits);
    }
}
