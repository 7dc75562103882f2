using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>The shared sync protocol suite over a folder: each device opens its own folder backend on one fresh folder,
/// as two machines sharing a synced folder would.</summary>
public sealed class FileSystemSyncProtocolTests : SyncProtocolConformanceTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-fsp-" + Guid.NewGuid().ToString("N")[..10]);
    private string _folder = "";

    protected override Task<Func<Task<IStorageBackend>>> CreateStoreAsync()
    {
        string folder = _folder = Path.Combine(_root, "repo");
        return Task.FromResult<Func<Task<IStorageBackend>>>(() => Task.FromResult<IStorageBackend>(new FileSystemBackend(folder)));
    }

    /// <summary>Every file in the folder (whatever the backend lists or not) is ciphertext.</summary>
    protected override async Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts)
    {
        string[] files = Directory.GetFiles(_folder, "*", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            string text = System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file));
            Assert.All(plaintexts, p => Assert.DoesNotContain(p, text, StringComparison.Ordinal));
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
