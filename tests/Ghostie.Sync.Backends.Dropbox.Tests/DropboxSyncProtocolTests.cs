using System.Text;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.Dropbox.Tests;

/// <summary>The shared sync protocol suite (fixed-seed simulation included) over the Dropbox backend: each device has its
/// own backend instance on one app folder of the protocol double (a fresh double per test), with packs above 128 KiB
/// going through upload sessions.</summary>
public sealed class DropboxSyncProtocolTests : SyncProtocolConformanceTests, IAsyncLifetime
{
    private DropboxDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = new DropboxDouble(DropboxDoubleFixture.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    protected override Task<Func<Task<IStorageBackend>>> CreateStoreAsync() =>
        Task.FromResult<Func<Task<IStorageBackend>>>(() => Task.FromResult<IStorageBackend>(new DropboxBackend(TestOptions.For(_server, folder: "sync"))));

    /// <summary>Nothing in the app folder reveals a memory: every file is ciphertext under an opaque name.</summary>
    protected override Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        IReadOnlyDictionary<string, DropboxNode> nodes = _server.Snapshot();
        Assert.Contains(nodes.Keys, k => k.StartsWith("/sync/", StringComparison.Ordinal));
        foreach ((string path, DropboxNode node) in nodes.Where(n => !n.Value.IsFolder))
        {
            Assert.DoesNotContain("laptop", path, StringComparison.Ordinal);
            string text = Encoding.UTF8.GetString(_server.ReadFile(path)!);
            Assert.All(plaintexts.Append("memory 1"), p => Assert.DoesNotContain(p, text, StringComparison.Ordinal));
        }

        return Task.CompletedTask;
    }
}
