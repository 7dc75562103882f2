using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.Dropbox.Tests;

/// <summary>One protocol double for a test class; every backend gets its own folder in the app folder.</summary>
public sealed class DropboxDoubleFixture : IAsyncLifetime
{
    public const string Token = "sl.doubleTOKEN0123456789abcdefSECRET";

    public DropboxDouble Server { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Server = new DropboxDouble(Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

internal static class TestOptions
{
    /// <summary>Options on the double: a fresh folder, small chunks and threshold so sessions and streamed uploads take part.</summary>
    public static DropboxBackendOptions For(DropboxDouble server, BackendRetryOptions? retry = null, string? folder = null) => new()
    {
        AccessToken = DropboxDoubleFixture.Token,
        ApiBaseUri = server.ApiUri,
        ContentBaseUri = server.ContentUri,
        Folder = folder ?? "t-" + Guid.NewGuid().ToString("N")[..12],
        CreateFolderIfMissing = true,
        UploadChunkSize = 128 * 1024,
        UploadSessionThreshold = 256 * 1024,
        Retry = retry ?? new BackendRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(50), JitterSeed = 3 },
    };
}

public sealed class DropboxConformanceTests(DropboxDoubleFixture fixture) : RemoteBackendConformanceTests, IClassFixture<DropboxDoubleFixture>
{
    protected override bool ExpectConditionalWrites => true;

    protected override IReadOnlyList<string> Secrets => [DropboxDoubleFixture.Token, "sl.wrongTOKENvalue0123456789"];

    protected override Task<IStorageBackend> CreateBackendAsync() =>
        Task.FromResult<IStorageBackend>(new DropboxBackend(TestOptions.For(fixture.Server)));

    protected override Task<IStorageBackend> CreateFaultyBackendAsync(FaultInjectingHandler faults, BackendRetryOptions retry)
    {
        DropboxBackendOptions options = TestOptions.For(fixture.Server, retry);
        options.HttpMessageHandler = faults;
        return Task.FromResult<IStorageBackend>(new DropboxBackend(options));
    }

    protected override Task<IStorageBackend> CreateBackendWithBadCredentialsAsync(BackendRetryOptions retry)
    {
        DropboxBackendOptions options = TestOptions.For(fixture.Server, retry);
        options.AccessToken = "sl.wrongTOKENvalue0123456789";
        return Task.FromResult<IStorageBackend>(new DropboxBackend(options));
    }

    protected override Task<IStorageBackend> CreateBackendForMissingStoreAsync(BackendRetryOptions retry)
    {
        DropboxBackendOptions options = TestOptions.For(fixture.Server, retry);
        options.CreateFolderIfMissing = false;
        return Task.FromResult<IStorageBackend>(new DropboxBackend(options));
    }
}
