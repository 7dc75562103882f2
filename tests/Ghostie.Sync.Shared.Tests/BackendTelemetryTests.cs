using System.Diagnostics;
using System.Net;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Shared.Tests;

/// <summary>The retry helper of the remote backends reports every attempt and retry, by backend type and verb only.</summary>
public sealed class BackendTelemetryTests
{
    private static BackendRetryOptions Options(RecordingTimeProvider clock, int attempts = 5) => new()
    {
        MaxAttempts = attempts,
        BaseDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(20),
        TimeProvider = clock,
        JitterSeed = 1,
    };

    private static RetryVerdict Classify(Exception e) => e is HttpAttemptException http ? http.Verdict : RetryVerdict.FromHttpException(e);

    [Fact]
    public async Task ExecuteAsync_RetriedThenSucceeded_CountsEachAttemptAndRetry_ByBackendTypeAndVerb_AndOneRequestActivity()
    {
        using var capture = new TelemetryCapture();
        int calls = 0;

        int result = await BackendRetry.ExecuteAsync("S3 PUT p/secret-looking-object-name", _ =>
        {
            calls++;
            return calls switch
            {
                1 => throw new HttpAttemptException(HttpStatusCode.ServiceUnavailable, RetryVerdict.Transient("HTTP 503"), null),
                2 => throw new HttpAttemptException(HttpStatusCode.TooManyRequests, RetryVerdict.Throttled(TimeSpan.Zero, "HTTP 429"), null),
                _ => Task.FromResult(7),
            };
        }, Classify, Options(new RecordingTimeProvider()));

        Assert.Equal(7, result);
        IReadOnlyList<RecordedMeasurement> requests = capture.Of("ghostie.backend.requests");
        Assert.Equal(3, requests.Sum(r => r.Value));
        Assert.All(requests, r =>
        {
            Assert.Equal("s3", r.Tag("ghostie.backend.type"));
            Assert.Equal("put", r.Tag("ghostie.backend.operation"));
        });
        Assert.Equal(["transient", "throttled", "success"], requests.Select(r => r.Tag("ghostie.backend.outcome")!).ToArray());
        IReadOnlyList<RecordedMeasurement> retries = capture.Of("ghostie.backend.retries");
        Assert.Equal(["transient", "throttled"], retries.Select(r => r.Tag("ghostie.backend.retry.kind")!).ToArray());
        Assert.All(retries, r => Assert.Equal("s3", r.Tag("ghostie.backend.type")));

        Activity request = Assert.Single(capture.Named("ghostie.backend.request"));
        Assert.Equal("s3 put", request.DisplayName);
        Assert.Equal(3, request.GetTagItem("ghostie.backend.attempts"));
        Assert.Equal(ActivityStatusCode.Ok, request.Status);
        Assert.Equal(2, request.Events.Count(e => e.Name == "retry"));

        // The object name of the operation label is no tag value anywhere.
        Assert.All(capture.Measurements.SelectMany(m => m.Tags.Values), v => Assert.DoesNotContain("secret-looking", v?.ToString() ?? "", StringComparison.Ordinal));
        Assert.All(request.TagObjects, t => Assert.DoesNotContain("secret-looking", t.Value?.ToString() ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExecuteAsync_AttemptsExhausted_MarksTheRequestActivityFailedWithTheErrorCode()
    {
        using var capture = new TelemetryCapture();

        await Assert.ThrowsAsync<GhostieSyncException>(() => BackendRetry.ExecuteAsync<int>("Azure GET 'x' in container 'c'",
            _ => throw new HttpAttemptException(HttpStatusCode.BadGateway, RetryVerdict.Transient("HTTP 502"), null),
            Classify, Options(new RecordingTimeProvider(), attempts: 2)));

        Assert.Equal(2, capture.Of("ghostie.backend.requests").Sum(r => r.Value));
        Assert.Single(capture.Of("ghostie.backend.retries"));
        Activity request = Assert.Single(capture.Named("ghostie.backend.request"));
        Assert.Equal(ActivityStatusCode.Error, request.Status);
        Assert.Equal("BackendUnavailable", request.GetTagItem("error.type"));
        Assert.Equal("azure", request.GetTagItem("ghostie.backend.type"));
        Assert.Equal("get", request.GetTagItem("ghostie.backend.operation"));
    }
}
