using Ghostie.Sync.Crypto;
using Ghostie.Sync.Testing;
using Xunit.Abstractions;

namespace Ghostie.Sync.Backends.GitHubGist.Tests;

/// <summary>The request count of a large push over the gist backend (printed with the wall time against the loopback
/// double; only the request count is asserted: wall time on a shared machine is not a unit-test matter).</summary>
public sealed class RequestBudgetTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Push_10000NewMemories_TakesAHandfulOfRequests()
    {
        await using var server = new GistDouble(GistDoubleFixture.Token);
        string root = Path.Combine(Path.GetTempPath(), "gist-measure-" + Guid.NewGuid().ToString("N")[..8]);
        GitHubGistBackendOptions options = TestOptions.For(server, tag: "measure");
        options.MaxGistBytes = GitHubGistBackendOptions.DefaultMaxGistBytes;
        using var backend = new GitHubGistBackend(options);
        RepositoryKeys keys = await RepositoryKeys.InitializeAsync(backend, "p", "primary", TestKeys.FastOptions());
        var sync = new GhostieSyncOptions { Home = root };
        new GhostieHome(root).EnsureCreated();
        using MemorySyncManager device = MemorySyncManager.Create(backend, keys, sync, "dev", ownsKeys: true);
        var random = new Random(1);
        for (int i = 0; i < 10_000; i++)
        {
            device.Memories.Save(new MemoryRecord { Id = $"m-{i:d6}", Category = "note", Content = $"memory {i} " + random.Next(), DeviceId = "dev", Timestamp = DateTimeOffset.UtcNow });
        }

        long before = backend.RequestCount;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        SyncResult result = await device.PushAsync();
        watch.Stop();
        output.WriteLine($"push 10000: ok={result.Success} uploaded={result.Uploaded} objects={result.ObjectsWritten} requests={backend.RequestCount - before} api={server.ApiRequests} raw={server.RawRequests} wall={watch.Elapsed.TotalSeconds:0.00}s");
        Directory.Delete(root, true);
        Assert.True(result.Success);
        Assert.Equal(10_000, result.Uploaded);
        Assert.InRange(result.ObjectsWritten, 1, 20);
        Assert.InRange(backend.RequestCount - before, 1, 10);
    }
}
