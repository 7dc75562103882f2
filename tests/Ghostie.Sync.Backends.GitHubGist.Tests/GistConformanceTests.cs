using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>One protocol double for a test class; every backend gets its own repository tag on the shared account.</summary>
public sealed class GistDoubleFixture : IAsyncLifetime
{
    public const string Token = "ghp_doubleTOKEN0123456789abcdefSECRET";

    public GistDouble Server { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Server = new GistDouble(Token) { MaxGistBytes = 24L * 1024 * 1024 };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

internal static class TestOptions
{
    public static GitHubGistBackendOptions For(GistDouble server, BackendRetryOptions? retry = null, string? tag = null) => new()
    {
        Token = GistDoubleFixture.Token,
        ApiBaseUri = server.BaseUri,
        RepositoryTag = tag ?? "t-" + Guid.NewGuid().ToString("N")[..12],
        Retry = retry ?? new BackendRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(50), JitterSeed = 3 },
        MaxGistBytes = 20L * 1024 * 1024,
        MinimumWriteInterval = TimeSpan.Zero,
    };
}

public sealed class GistConformanceTests(GistDoubleFixture fixture) : RemoteBackendConformanceTests, IClassFixture<GistDoubleFixture>
{
    protected override bool ExpectConditionalWrites => false;

    protected override IReadOnlyList<string> Secrets => [GistDoubleFixture.Token, "wrongTOKENvalue0123456789"];

    protected override Task<IStorageBackend> CreateBackendAsync() =>
        Task.FromResult<IStorageBackend>(new GitHubGistBackend(TestOptions.For(fixture.Server)));

    protected override Task<IStorageBackend> CreateFaultyBackendAsync(FaultInjectingHandler faults, BackendRetryOptions retry)
    {
        GitHubGistBackendOptions options = TestOptions.For(fixture.Server, retry);
        options.HttpMessageHandler = faults;
        return Task.FromResult<IStorageBackend>(new GitHubGistBackend(options));
    }

    protected override Task<IStorageBackend> CreateBackendWithBadCredentialsAsync(BackendRetryOptions retry)
    {
        GitHubGistBackendOptions options = TestOptions.For(fixture.Server, retry);
        options.Token = "wrongTOKENvalue0123456789";
        return Task.FromResult<IStorageBackend>(new GitHubGistBackend(options));
    }

    protected override Task<IStorageBackend> CreateBackendForMissingStoreAsync(BackendRetryOptions retry)
    {
        GitHubGistBackendOptions options = TestOptions.For(fixture.Server, retry);
        options.HomeGistId = "0123456789abcdef0123456789abcdef";
        return Task.FromResult<IStorageBackend>(new GitHubGistBackend(options));
    }
}
