using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>The shared remote-backend conformance suite against Azurite, with Shared Key, a fresh container per test.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobConformanceTests(AzuriteFixture azurite) : RemoteBackendConformanceTests
{
    private const string WrongKey = "d3JvbmcgYXp1cml0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgLSBub3QgYSByZWFsIGtleSEhIQ==";

    protected override bool ExpectConditionalWrites => true;

    protected override IReadOnlyList<string> Secrets => [Servers.AzuriteKey, WrongKey];

    protected override async Task<IStorageBackend> CreateBackendAsync() => await azurite.NewBackendAsync();

    protected override async Task<IStorageBackend> CreateFaultyBackendAsync(FaultInjectingHandler faults, BackendRetryOptions retry) =>
        await azurite.NewBackendAsync(o =>
        {
            o.HttpMessageHandler = faults;
            o.Retry = retry;
        });

    protected override async Task<IStorageBackend> CreateBackendWithBadCredentialsAsync(BackendRetryOptions retry) =>
        await azurite.NewBackendAsync(o =>
        {
            o.AccountKey = WrongKey;
            o.Retry = retry;
        });

    protected override Task<IStorageBackend> CreateBackendForMissingStoreAsync(BackendRetryOptions retry)
    {
        AzureBlobBackendOptions options = azurite.Options(azurite.NewContainerName("missing"));
        options.Retry = retry;
        return Task.FromResult<IStorageBackend>(new AzureBlobBackend(options));
    }
}
