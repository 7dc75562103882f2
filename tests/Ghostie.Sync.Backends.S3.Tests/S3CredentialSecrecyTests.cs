using System.Collections.Concurrent;
using Ghostie.Sync.Testing;
using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>With moto's authentication on, temporary credentials (a session token) that the server refuses give
/// AccessDenied, and neither the secret key nor the session token appears in any exception (inner ones included) or
/// log line, on reads, writes, conditional writes and multipart uploads.</summary>
public sealed class S3CredentialSecrecyTests(MotoFixture moto) : IClassFixture<MotoFixture>, IAsyncLifetime
{
    private const string Secret = "wJalrXUtnFEMI-K7MDENG-secret-9fQ";
    private const string SessionToken = "IQoJb3JpZ2luX2VjEXAMPLE-session-token-Zx81";

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => moto.SetAuthenticationAsync(enforced: false);

    [Fact]
    public async Task RefusedSessionCredentials_AreAccessDenied_AndNeverShown()
    {
        string bucket = await moto.CreateBucketAsync();
        S3BackendOptions options = moto.Options(bucket, S3ConditionalWrites.Enabled);
        options.AccessKeyId = "ASIAGHOSTIESESSION01";
        options.SecretAccessKey = Secret;
        options.SessionToken = SessionToken;
        options.MultipartThresholdBytes = 5 * 1024 * 1024;
        options.Retry = new BackendRetryOptions { TimeProvider = new RecordingTimeProvider(), JitterSeed = 9 };
        var logs = new ListLogger();
        await moto.SetAuthenticationAsync(enforced: true);
        var backend = Assert.IsType<ConditionalS3Backend>(await S3Backend.CreateAsync(options, logs));
        using (backend)
        {
            var errors = new List<GhostieSyncException>
            {
                await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("a/1", new MemoryStream([1]))),
                await Assert.ThrowsAsync<GhostieSyncException>(() => backend.GetAsync("a/1")),
                await Assert.ThrowsAsync<GhostieSyncException>(() => backend.TryCreateAsync("a/2", new MemoryStream([2]))),
                await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("a/3", new GeneratedStream(6L * 1024 * 1024, seed: 1))),
                await Assert.ThrowsAsync<GhostieSyncException>(async () => await StorageReads.ListAllAsync(backend, "")),
            };

            foreach (GhostieSyncException error in errors)
            {
                Assert.Equal(GhostieErrorCode.AccessDenied, error.Code);
                Assert.Contains(bucket, error.Message, StringComparison.Ordinal);
                string text = error.ToString();
                Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
                Assert.DoesNotContain(SessionToken, text, StringComparison.Ordinal);
                Assert.DoesNotContain("Signature=", text, StringComparison.Ordinal);
            }
        }

        foreach (string line in logs.Lines)
        {
            Assert.DoesNotContain(Secret, line, StringComparison.Ordinal);
            Assert.DoesNotContain(SessionToken, line, StringComparison.Ordinal);
        }
    }

    private sealed class ListLogger : ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception) + " " + exception);
    }
}
