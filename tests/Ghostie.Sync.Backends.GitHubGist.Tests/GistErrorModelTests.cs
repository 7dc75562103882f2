using System.Net;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>The error model at the backend's boundary: every failure a caller sees is a <see cref="GhostieSyncException"/>
/// with a code (the HTTP helpers' own signal exception is internal and never escapes).</summary>
public sealed class GistErrorModelTests : IAsyncLifetime
{
    private GistDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = new GistDouble(GistDoubleFixture.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    public async Task PermanentHttpFailure_ReachesTheCaller_AsGhostieSyncException(HttpStatusCode status)
    {
        using var faults = new FaultInjectingHandler();
        GitHubGistBackendOptions options = TestOptions.For(_server, new BackendRetryOptions { MaxAttempts = 2, TimeProvider = new RecordingTimeProvider(), JitterSeed = 1 }, "perm" + (int)status);
        options.HttpMessageHandler = faults;
        using var backend = new GitHubGistBackend(options);
        await backend.PutAsync("e/1", new MemoryStream([1, 2, 3]));

        faults.FailAlways(Fault.Status(status));
        GhostieSyncException error = await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("e/2", new MemoryStream([4])));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.False(error.IsTransient);
        Assert.Contains($"HTTP {(int)status}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(GistDoubleFixture.Token, error.Message, StringComparison.Ordinal);
    }
}
