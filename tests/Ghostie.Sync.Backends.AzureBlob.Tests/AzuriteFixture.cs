using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>One Azurite blob server for the whole test assembly, on 127.0.0.1 and a free port.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private ServerProcess? _server;
    private int _containers;

    public ServerProcess Server => _server ?? throw new InvalidOperationException("Azurite is not started.");

    /// <summary>The path-style account endpoint, http://127.0.0.1:PORT/devstoreaccount1.</summary>
    public Uri ServiceUri => new($"http://127.0.0.1:{Server.Port}/{Servers.AzuriteAccount}");

    public async Task InitializeAsync() => _server = await Servers.StartAzuriteAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A container name no other test uses.</summary>
    public string NewContainerName(string stem = "c") => $"{stem}-{Interlocked.Increment(ref _containers)}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Shared Key options for <paramref name="container"/> (which is not created).</summary>
    public AzureBlobBackendOptions Options(string container) => new()
    {
        ServiceUri = ServiceUri,
        AccountKey = Servers.AzuriteKey,
        Container = container,
    };

    /// <summary>A backend over a fresh, empty container (created here, with a client of its own).</summary>
    public async Task<AzureBlobBackend> NewBackendAsync(Action<AzureBlobBackendOptions>? configure = null)
    {
        string container = NewContainerName();
        using (var creator = new AzureBlobBackend(Options(container)))
        {
            Assert.True(await creator.CreateContainerIfNotExistsAsync());
        }

        AzureBlobBackendOptions options = Options(container);
        configure?.Invoke(options);
        return new AzureBlobBackend(options);
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
