using System.Text;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>The shared sync protocol suite over the gist backend: each device has its own backend instance on one gist
/// account (a protocol double per test), with packs above 16 KiB going through chunks and commit records.</summary>
public sealed class GistSyncProtocolTests : SyncProtocolConformanceTests, IAsyncLifetime
{
    private const string Tag = "sync";
    private GistDouble _server = null!;

    public Task InitializeAsync()
    {
        _server = new GistDouble(GistDoubleFixture.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    protected override Task<Func<Task<IStorageBackend>>> CreateStoreAsync() =>
        Task.FromResult<Func<Task<IStorageBackend>>>(() =>
        {
            GitHubGistBackendOptions options = TestOptions.For(_server, tag: Tag);
            options.InlineMaxBytes = 16 * 1024; // packs above this go through chunks and commit records
            options.ChunkSize = 64 * 1024;
            return Task.FromResult<IStorageBackend>(new GitHubGistBackend(options));
        });

    protected override void ConfigureDevice(GhostieSyncOptions options)
    {
        options.PackTargetBytes = 64 * 1024;
        options.CompactAfterPacks = 3;
    }

    /// <summary>Chunked packs took part, and nothing in the account reveals a memory: every gist is secret and every
    /// file is ciphertext under an opaque name.</summary>
    protected override Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        Assert.Contains(_server.GistsTagged(Tag).SelectMany(g => g.Files.Keys), f => f.StartsWith("c.", StringComparison.Ordinal));
        foreach (DoubleGist gist in _server.GistsTagged(Tag))
        {
            Assert.False(gist.Public);
            foreach (string file in gist.Files.Keys)
            {
                Assert.DoesNotContain("laptop", file, StringComparison.Ordinal);
                string text = Encoding.UTF8.GetString(_server.ReadFile(gist.Id, file));
                Assert.All(plaintexts.Append("memory 1"), p => Assert.DoesNotContain(p, text, StringComparison.Ordinal));
            }
        }

        return Task.CompletedTask;
    }
}
