using System.Net;
using System.Net.Http.Headers;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Shared.Tests;

public sealed class BackendRetryTests
{
    private static BackendRetryOptions Options(RecordingTimeProvider clock, int attempts = 5) => new()
    {
        MaxAttempts = attempts,
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromMilliseconds(800),
        MaxThrottleDelay = TimeSpan.FromSeconds(60),
        TimeProvider = clock,
        JitterSeed = 5,
    };

    private static RetryVerdict Classify(Exception e) => e switch
    {
        HttpAttemptException http => http.Verdict,
        _ => RetryVerdict.FromHttpException(e),
    };

    [Fact]
    public async Task TransientFailures_AreRetried_UntilSuccess_WithCappedFullJitter()
    {
        var clock = new RecordingTimeProvider();
        int calls = 0;
        int result = await BackendRetry.ExecuteAsync("test op", _ =>
        {
            calls++;
            return calls < 5
                ? throw new HttpAttemptException(HttpStatusCode.ServiceUnavailable, RetryVerdict.Transient("HTTP 503"), null)
                : Task.FromResult(42);
        }, Classify, Options(clock));

        Assert.Equal(42, result);
        Assert.Equal(5, calls);
        TimeSpan[] waits = [.. clock.Waits];
        Assert.Equal(4, waits.Length);
        // Full jitter: wait n is uniform in [0, min(800 ms, 100 ms * 2^(n-1))].
        double[] ceilings = [100, 200, 400, 800];
        for (int i = 0; i < waits.Length; i++)
        {
            Assert.InRange(waits[i].TotalMilliseconds, 0, ceilings[i]);
        }
    }

    [Fact]
    public void Backoff_IsBoundedByMaxDelay_AndSpreadsOverTheRange()
    {
        var options = new BackendRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };
        var random = new Random(3);
        double[] late = [.. Enumerable.Range(0, 2000).Select(_ => BackendRetry.Backoff(20, options, random).TotalMilliseconds)];
        Assert.All(late, w => Assert.InRange(w, 0, 1000));
        Assert.True(late.Average() is > 400 and < 600, $"mean {late.Average()} should be near half the cap");
        Assert.True(late.Max() > 900);
    }

    [Fact]
    public async Task PermanentFailure_IsRethrownAtOnce()
    {
        var clock = new RecordingTimeProvider();
        int calls = 0;
        var error = await Assert.ThrowsAsync<HttpAttemptException>(() => BackendRetry.ExecuteAsync<int>("op", _ =>
        {
            calls++;
            throw new HttpAttemptException(HttpStatusCode.Forbidden, RetryVerdict.Permanent("HTTP 403"), "AuthenticationFailed");
        }, Classify, Options(clock)));

        Assert.Equal(1, calls);
        Assert.Equal("AuthenticationFailed", error.ServiceCode);
        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task ExhaustedAttempts_GiveATransientBackendUnavailableError_NamingTheOperation()
    {
        var clock = new RecordingTimeProvider();
        int calls = 0;
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => BackendRetry.ExecuteAsync<int>("PUT p/ab", _ =>
        {
            calls++;
            throw new HttpRequestException(HttpRequestError.ConnectionError, "refused");
        }, Classify, Options(clock, attempts: 3)));

        Assert.Equal(3, calls);
        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("PUT p/ab failed after 3 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, clock.Waits.Count);
    }

    [Fact]
    public async Task ThrottlingHint_IsWaitedExactly_AndTooLongAHintFailsAtOnce()
    {
        var clock = new RecordingTimeProvider();
        int calls = 0;
        await BackendRetry.ExecuteAsync("op", _ =>
        {
            calls++;
            return calls == 1 ? throw new HttpAttemptException(HttpStatusCode.TooManyRequests, RetryVerdict.Throttled(TimeSpan.FromSeconds(12), "HTTP 429"), null) : Task.CompletedTask;
        }, Classify, Options(clock));
        Assert.Equal([TimeSpan.FromSeconds(12)], clock.Waits);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => BackendRetry.ExecuteAsync("op", _ =>
            throw new HttpAttemptException(HttpStatusCode.TooManyRequests, RetryVerdict.Throttled(TimeSpan.FromHours(1), "HTTP 429"), null),
            Classify, Options(clock)));
        Assert.Contains("throttled", error.Message, StringComparison.Ordinal);
        Assert.Contains("3600 s", error.Message, StringComparison.Ordinal);
        Assert.Single(clock.Waits);
    }

    [Fact]
    public async Task AttemptTimeout_IsRetried_ButCallerCancellationIsNot()
    {
        var clock = new RecordingTimeProvider();
        BackendRetryOptions options = Options(clock);
        options.AttemptTimeout = TimeSpan.FromMilliseconds(100);
        int calls = 0;
        int result = await BackendRetry.ExecuteAsync("op", async ct =>
        {
            calls++;
            if (calls == 1)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            return 7;
        }, Classify, options);
        Assert.Equal(7, result);
        Assert.Equal(2, calls);

        using var cts = new CancellationTokenSource();
        calls = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => BackendRetry.ExecuteAsync("op", async ct =>
        {
            calls++;
            await cts.CancelAsync();
            ct.ThrowIfCancellationRequested();
        }, Classify, options, cts.Token));
        Assert.Equal(1, calls);
    }

    [Theory]
    [InlineData(500, nameof(RetryKind.Transient))]
    [InlineData(502, nameof(RetryKind.Transient))]
    [InlineData(503, nameof(RetryKind.Transient))]
    [InlineData(504, nameof(RetryKind.Transient))]
    [InlineData(408, nameof(RetryKind.Transient))]
    [InlineData(429, nameof(RetryKind.Throttled))]
    [InlineData(400, nameof(RetryKind.Permanent))]
    [InlineData(401, nameof(RetryKind.Permanent))]
    [InlineData(403, nameof(RetryKind.Permanent))]
    [InlineData(404, nameof(RetryKind.Permanent))]
    [InlineData(412, nameof(RetryKind.Permanent))]
    public void HttpStatuses_AreClassified(int status, string expected) // the kind by name: RetryKind is internal, a public test method cannot take it
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        Assert.Equal(expected, RetryVerdict.FromHttpResponse(response).Kind.ToString());
    }

    [Fact]
    public void RetryAfter_IsReadAsSecondsOrDate_And503WithAHintIsThrottling()
    {
        var now = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(now);
        using var seconds = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        seconds.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(9));
        RetryVerdict verdict = RetryVerdict.FromHttpResponse(seconds, clock);
        Assert.Equal(RetryKind.Throttled, verdict.Kind);
        Assert.Equal(TimeSpan.FromSeconds(9), verdict.RetryAfter);

        using var date = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        date.Headers.RetryAfter = new RetryConditionHeaderValue(now.AddSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(30), RetryVerdict.FromHttpResponse(date, clock).RetryAfter);

        using var past = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        past.Headers.RetryAfter = new RetryConditionHeaderValue(now.AddSeconds(-30));
        Assert.Equal(TimeSpan.Zero, RetryVerdict.FromHttpResponse(past, clock).RetryAfter);
    }

    [Fact]
    public void InvalidOptions_AreRejectedClearly()
    {
        Assert.Equal(GhostieErrorCode.InvalidArgument, Assert.Throws<GhostieSyncException>(() => new BackendRetryOptions { MaxAttempts = 0 }.Validate()).Code);
        Assert.Throws<GhostieSyncException>(() => new BackendRetryOptions { BaseDelay = TimeSpan.FromSeconds(5), MaxDelay = TimeSpan.FromSeconds(1) }.Validate());
        Assert.Throws<GhostieSyncException>(() => new BackendRetryOptions { AttemptTimeout = TimeSpan.Zero }.Validate());
        new BackendRetryOptions().Validate();
    }

    [Fact]
    public void HttpRequestException_WithAStatus_IsClassifiedByTheStatus()
    {
        Assert.Equal(RetryKind.Permanent, RetryVerdict.FromHttpException(new HttpRequestException("x", null, HttpStatusCode.Unauthorized)).Kind);
        Assert.Equal(RetryKind.Permanent, RetryVerdict.FromHttpException(new HttpRequestException("x", null, HttpStatusCode.NotFound)).Kind);
        Assert.Equal(RetryKind.Transient, RetryVerdict.FromHttpException(new HttpRequestException("x", null, HttpStatusCode.BadGateway)).Kind);
        Assert.Equal(RetryKind.Throttled, RetryVerdict.FromHttpException(new HttpRequestException("x", null, HttpStatusCode.TooManyRequests)).Kind);
        Assert.Equal(RetryKind.Transient, RetryVerdict.FromHttpException(new HttpRequestException(HttpRequestError.ConnectionError, "refused")).Kind);
    }

    [Fact]
    public async Task CallerCancellation_SurfacingAsAnIOException_IsACancellation_NotAnOutage()
    {
        var clock = new RecordingTimeProvider();
        using var cts = new CancellationTokenSource();
        int calls = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => BackendRetry.ExecuteAsync("op", async _ =>
        {
            calls++;
            await cts.CancelAsync();
            throw new IOException("connection closed while cancelling");
        }, Classify, Options(clock), cts.Token));
        Assert.Equal(1, calls);
        Assert.Empty(clock.Waits);
    }
}
