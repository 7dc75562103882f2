using Ghostie.Sync.Backends.FileSystem;

namespace Ghostie.Sync.Tests;

/// <summary>
/// Setup creates a repository only where the storage holds nothing of one: a folder whose keys/ a sync tool has not
/// delivered yet (Syncthing, Dropbox) holds a repository, and initializing over it would destroy it.
/// </summary>
public sealed class SetupSafetyTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-setup-" + Guid.NewGuid().ToString("N")[..10]);

    public SetupSafetyTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task SetupAsync_FolderWhoseKeysAreNotDeliveredYet_RefusesNamingWhatItFound_AndChangesNothing()
    {
        string folder = Path.Combine(_root, "repo");
        using (var cluster = new Cluster(new FileSystemBackend(folder)))
        {
            await WriteRepositoryAsync(cluster);
        }

        string keysAside = Path.Combine(_root, "keys-not-delivered-yet");
        Directory.Move(Path.Combine(folder, "keys"), keysAside);
        Dictionary<string, string> before = FolderBytes(folder);
        string home = Path.Combine(_root, "new-device");

        IncompleteRepositoryException error = await Assert.ThrowsAsync<IncompleteRepositoryException>(
            () => SetupAsync(new FileSystemBackend(folder), home));

        Assert.Equal(GhostieErrorCode.RepositoryNotInitialized, error.Code);
        Assert.Contains("found 2 heads, 3 packs and 1 epoch but no key file", error.Message, StringComparison.Ordinal);
        Assert.Contains("wait for your sync tool to deliver keys/, or restore it", error.Message, StringComparison.Ordinal);
        Assert.Equal((0, 1, 2, 3), (error.Found.KeyFiles, error.Found.Epochs, error.Found.Heads, error.Found.Packs));
        Assert.Equal(before, FolderBytes(folder)); // byte for byte: nothing written, nothing deleted
        Assert.False(new GhostieHome(home).IsConfigured);

        // The repository is intact: once keys/ arrives, a new device joins it and receives every memory.
        Directory.Move(keysAside, Path.Combine(folder, "keys"));
        using MemorySyncManager joined = await SetupAsync(new FileSystemBackend(folder), home);
        SyncResult pulled = await joined.PullAsync();
        Assert.True(pulled.Success, string.Join("; ", pulled.Problems.Select(p => p.Message)));
        Assert.Equal(4, joined.Memories.Scan().Count());
    }

    [Fact]
    public async Task SetupAsync_InMemoryBackendWithoutKeyFiles_RefusesAndChangesNothing()
    {
        var storage = new InMemoryStorageBackend();
        using (var cluster = new Cluster(storage))
        {
            await WriteRepositoryAsync(cluster);
        }

        foreach (string keyFile in await NamesAsync(storage, "keys/"))
        {
            await storage.DeleteAsync(keyFile);
        }

        Dictionary<string, string> before = await ObjectBytesAsync(storage);
        string home = Path.Combine(_root, "new-device");

        IncompleteRepositoryException error = await Assert.ThrowsAsync<IncompleteRepositoryException>(() => SetupAsync(storage, home));

        Assert.Contains("in-memory", error.Message, StringComparison.Ordinal);
        Assert.Contains("found 2 heads, 3 packs and 1 epoch but no key file", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await ObjectBytesAsync(storage));
        Assert.False(new GhostieHome(home).IsConfigured);
    }

    [Theory]
    [InlineData("epochs/0000abcd", "1 epoch")]
    [InlineData("h/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/000000000000000000000001", "1 head")]
    [InlineData("p/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/000000000000000000000001", "1 pack")]
    [InlineData("x/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/000000000000000000000001", "1 handoff package")]
    [InlineData("xc/000000000000000000000001", "1 handoff claim")]
    [InlineData("v/aaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "1 vector object")]
    public async Task SetupAsync_AnyObjectOfTheRepositoryLayoutButNoKeyFile_Refuses(string name, string described)
    {
        var storage = new InMemoryStorageBackend();
        storage.SetRaw(name, [1, 2, 3]);

        IncompleteRepositoryException error = await Assert.ThrowsAsync<IncompleteRepositoryException>(() => SetupAsync(storage, Path.Combine(_root, "home")));

        Assert.Contains($"found {described} but no key file", error.Message, StringComparison.Ordinal);
        Assert.Equal([name], await NamesAsync(storage, ""));
        Assert.Equal([1, 2, 3], storage.GetRaw(name));
    }

    [Fact]
    public async Task SetupAsync_StorageWithNothingOfARepository_CreatesOne_OtherFilesLeftAlone()
    {
        string folder = Path.Combine(_root, "repo");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "README.txt"), "my notes"); // not part of the repository layout

        using MemorySyncManager created = await SetupAsync(new FileSystemBackend(folder), Path.Combine(_root, "home"));

        Assert.Single(Directory.GetFiles(Path.Combine(folder, "keys")));
        Assert.Single(Directory.GetFiles(Path.Combine(folder, "epochs")));
        Assert.Equal("my notes", File.ReadAllText(Path.Combine(folder, "README.txt")));
    }

    [Fact]
    public async Task ReadAsync_CountsEachKindOfObject()
    {
        var storage = new InMemoryStorageBackend();
        using (var cluster = new Cluster(storage))
        {
            await WriteRepositoryAsync(cluster);
        }

        RepositoryContents contents = await RepositoryContents.ReadAsync(storage);

        Assert.Equal((1, 1, 2, 3, 0, 0, 0), (contents.KeyFiles, contents.Epochs, contents.Heads, contents.Packs, contents.HandoffPackages, contents.HandoffClaims, contents.VectorObjects));
        Assert.False(contents.IsEmpty);
        Assert.True((await RepositoryContents.ReadAsync(new InMemoryStorageBackend())).IsEmpty);
    }

    /// <summary>Two devices, three packs (two pushes of one, one of the other), four memories.</summary>
    private static async Task WriteRepositoryAsync(Cluster cluster)
    {
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("one");
        await a.SyncAsync();
        a.Add("two");
        await a.SyncAsync();
        b.Add("three");
        b.Add("four");
        await b.SyncAsync();
    }

    private static Task<MemorySyncManager> SetupAsync(IStorageBackend storage, string home) =>
        MemorySyncManager.SetupAsync(storage, new SyncConfiguration { Backend = "folder", DeviceId = "c", DeviceName = "c" }, Cluster.Passphrase,
            new GhostieSyncOptions { Home = home }, Cluster.KeyOptions());

    private static Dictionary<string, string> FolderBytes(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(folder, p), p => Convert.ToHexString(File.ReadAllBytes(p)), StringComparer.Ordinal);

    private static async Task<Dictionary<string, string>> ObjectBytesAsync(InMemoryStorageBackend storage) =>
        (await NamesAsync(storage, "")).ToDictionary(n => n, n => Convert.ToHexString(storage.GetRaw(n)!), StringComparer.Ordinal);

    private static async Task<List<string>> NamesAsync(IStorageBackend storage, string prefix)
    {
        var names = new List<string>();
        await foreach (string name in storage.ListAsync(prefix))
        {
            names.Add(name);
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
