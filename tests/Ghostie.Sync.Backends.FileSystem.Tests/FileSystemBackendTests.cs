using Ghostie.Sync.Testing;
using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.Tests;

public sealed class FileSystemBackendTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-fs-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private FileSystemBackend Backend() => new(Path.Combine(_root, "repo"));

    [Fact]
    public async Task RoundTrip_Empty_Missing_Overwrite_DeleteTwice()
    {
        FileSystemBackend backend = Backend();
        byte[] binary = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        await backend.PutAsync("p/abc/one", new MemoryStream(binary));
        await backend.PutAsync("empty", new MemoryStream());
        Assert.Equal(binary, await StorageReads.ReadAllAsync(backend, "p/abc/one"));
        Assert.Empty((await StorageReads.ReadAllAsync(backend, "empty"))!);
        Assert.Null(await StorageReads.ReadAllAsync(backend, "p/abc/missing"));
        Assert.Null(await StorageReads.ReadAllAsync(backend, "nowhere/at/all"));

        await backend.PutAsync("p/abc/one", new MemoryStream([7]));
        Assert.Equal(new byte[] { 7 }, await StorageReads.ReadAllAsync(backend, "p/abc/one"));
        Assert.True(await backend.DeleteAsync("p/abc/one"));
        Assert.False(await backend.DeleteAsync("p/abc/one"));
        Assert.False(await backend.DeleteAsync("x/y/z"));
    }

    [Fact]
    public async Task List_ByPrefix_OrderedAndPastAThousand_SkipsTemporaryAndForeignFiles()
    {
        FileSystemBackend backend = Backend();
        for (int i = 0; i < 1_100; i++)
        {
            await backend.PutAsync($"p/dev/{i:d5}", new MemoryStream([1]));
        }

        await backend.PutAsync("h/dev/head", new MemoryStream([2]));
        File.WriteAllText(Path.Combine(backend.RootPath, "p", "dev", ".tmp-half-written"), "x");
        File.WriteAllText(Path.Combine(backend.RootPath, "p", "dev", "Desktop.ini"), "x");

        List<string> packs = await backend.ListAsync("p/").ToListAsync();
        List<string> all = await backend.ListAsync("").ToListAsync();
        List<string> partial = await backend.ListAsync("p/dev/0099").ToListAsync();

        Assert.Equal(1_100, packs.Count);
        Assert.Equal(packs.Order(StringComparer.Ordinal), packs);
        Assert.Equal(1_101, all.Count);
        Assert.Equal(["p/dev/00990", "p/dev/00991", "p/dev/00992", "p/dev/00993", "p/dev/00994", "p/dev/00995", "p/dev/00996", "p/dev/00997", "p/dev/00998", "p/dev/00999"], partial);
        Assert.Empty(await backend.ListAsync("zzz/").ToListAsync());
    }

    [Fact]
    public async Task LargeObject_StreamsInBothDirections()
    {
        FileSystemBackend backend = Backend();
        const long size = 64L * 1024 * 1024;
        await backend.PutAsync("big", new PatternStream(size));

        await using Stream stream = (await backend.GetAsync("big"))!;
        long total = 0;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            long start = total;
            Assert.True(buffer.AsSpan(0, read).SequenceEqual(Enumerable.Range(0, read).Select(i => (byte)((start + i) % 251)).ToArray()), $"bytes differ after offset {total}");

            total += read;
        }

        Assert.Equal(size, total);
    }

    [Fact]
    public async Task Put_Cancelled_LeavesNoObjectAndNoTemporaryFile()
    {
        FileSystemBackend backend = Backend();
        using var cts = new CancellationTokenSource();
        var source = new PatternStream(10L * 1024 * 1024, afterBytes: 1024 * 1024, onReached: cts.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("p/x/cancelled", source, cts.Token));

        Assert.Null(await backend.GetAsync("p/x/cancelled"));
        Assert.Empty(Directory.GetFiles(backend.RootPath, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task TryCreate_IsCreateOnly()
    {
        FileSystemBackend backend = Backend();

        Assert.True(await backend.TryCreateAsync("h/d/1", new MemoryStream([1])));
        Assert.False(await backend.TryCreateAsync("h/d/1", new MemoryStream([2])));
        Assert.Equal(new byte[] { 1 }, await StorageReads.ReadAllAsync(backend, "h/d/1"));
    }

    [Fact]
    public async Task InvalidNames_AreRejectedBeforeTouchingTheDisk()
    {
        FileSystemBackend backend = Backend();
        await Assert.ThrowsAsync<GhostieSyncException>(() => backend.PutAsync("../escape", new MemoryStream([1])));
        await Assert.ThrowsAsync<GhostieSyncException>(() => backend.GetAsync("/etc/passwd"));
        Assert.False(File.Exists(Path.Combine(_root, "escape")));
    }

    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerFolder = OwnerFile | UnixFileMode.UserExecute;
    private const UnixFileMode GroupFile = OwnerFile | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    private const UnixFileMode GroupFolder = OwnerFolder | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;

    [Fact]
    public async Task Permissions_ObjectsAre0600_AndFoldersItCreates0700_ByDefault()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no Unix modes there; the folder's ACL applies
        }

        FileSystemBackend backend = Backend();
        await backend.PutAsync("p/abc/one", new MemoryStream([1]));
        Assert.True(await backend.TryCreateAsync("h/abc/two", new MemoryStream([2])));
        string? version = await backend.GetVersionAsync("h/abc/two");
        Assert.True(await backend.TryReplaceAsync("h/abc/two", new MemoryStream([3]), version!));
        await backend.PutAsync("keys/0011223344556677", new MemoryStream([4]));

        foreach (string file in new[] { "p/abc/one", "h/abc/two", "keys/0011223344556677" })
        {
            Assert.Equal(OwnerFile, File.GetUnixFileMode(Path.Combine(backend.RootPath, file)));
        }

        foreach (string folder in new[] { "", "p", "p/abc", "h", "h/abc", "keys" })
        {
            Assert.Equal(OwnerFolder, File.GetUnixFileMode(Path.Combine(backend.RootPath, folder)));
        }
    }

    [Fact]
    public async Task Permissions_SharedWithGroup_Are0660And0770_WhateverTheUmask()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var backend = new FileSystemBackend(new FileSystemBackendOptions { Path = Path.Combine(_root, "repo"), SharedWithGroup = true });
        await backend.PutAsync("p/abc/one", new MemoryStream([1]));
        Assert.True(await backend.TryCreateAsync("h/abc/two", new MemoryStream([2])));

        Assert.Equal(GroupFile, File.GetUnixFileMode(Path.Combine(backend.RootPath, "p", "abc", "one")));
        Assert.Equal(GroupFile, File.GetUnixFileMode(Path.Combine(backend.RootPath, "h", "abc", "two")));
        foreach (string folder in new[] { "", "p", "p/abc", "h", "h/abc" })
        {
            Assert.Equal(GroupFolder, File.GetUnixFileMode(Path.Combine(backend.RootPath, folder)));
        }
    }

    [Fact]
    public async Task Permissions_AnExistingRepositoryFolder_KeepsItsOwnMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string root = Path.Combine(_root, "repo");
        const UnixFileMode chosen = GroupFolder | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, chosen);

        await new FileSystemBackend(root).PutAsync("p/abc/one", new MemoryStream([1]));

        Assert.Equal(chosen, File.GetUnixFileMode(root));
        Assert.Equal(OwnerFolder, File.GetUnixFileMode(Path.Combine(root, "p")));
        Assert.Equal(OwnerFile, File.GetUnixFileMode(Path.Combine(root, "p", "abc", "one")));
    }

    [Fact]
    public async Task DependencyInjection_PassesSharedWithGroup()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home"))
            .AddFileSystemBackend(o => (o.Path, o.SharedWithGroup) = (Path.Combine(_root, "repo"), true));
        await using ServiceProvider provider = services.BuildServiceProvider();

        var backend = Assert.IsType<FileSystemBackend>(provider.GetRequiredService<IStorageBackend>());
        Assert.True(backend.SharedWithGroup);
    }

    [Fact]
    public async Task TwoDevices_SyncThroughAFolder()
    {
        string repo = Path.Combine(_root, "repo");
        var keyOptions = TestKeys.FastOptions();
        var config = new SyncConfiguration { Backend = "folder", Settings = { ["path"] = repo }, DeviceId = "laptop", DeviceName = "Laptop" };
        using MemorySyncManager laptop = await MemorySyncManager.SetupAsync(new FileSystemBackend(repo), config, "pw", new GhostieSyncOptions { Home = Path.Combine(_root, "laptop") }, keyOptions);
        var phoneConfig = new SyncConfiguration { Backend = "folder", Settings = { ["path"] = repo }, DeviceId = "phone", DeviceName = "Phone" };
        using MemorySyncManager phone = await MemorySyncManager.SetupAsync(new FileSystemBackend(repo), phoneConfig, "pw", new GhostieSyncOptions { Home = Path.Combine(_root, "phone") }, keyOptions);

        laptop.Memories.Save(MemoryRecord.Create("project", "uses folder sync", "laptop", DateTimeOffset.UnixEpoch));
        await laptop.SyncAsync();
        await phone.SyncAsync();

        Assert.Equal("uses folder sync", Assert.Single(phone.Memories.Scan()).Record!.Content);
        Assert.Equal(laptop.Keys.RepositoryId, phone.Keys.RepositoryId);
        Assert.True(new GhostieHome(Path.Combine(_root, "phone")).ReadConfiguration().RepositoryId == phone.Keys.RepositoryId);
        Assert.True(File.Exists(Path.Combine(_root, "phone", "keys", "master.key")));
        Assert.DoesNotContain("pw", File.ReadAllText(Path.Combine(_root, "phone", "sync", "config.json")));

        // Reopening uses the device key cache: no passphrase needed.
        using MemorySyncManager reopened = await MemorySyncManager.OpenAsync(new FileSystemBackend(repo), new GhostieSyncOptions { Home = Path.Combine(_root, "phone") }, keyOptions: keyOptions);
        Assert.Equal("phone", reopened.DeviceId);
    }

    [Fact]
    public async Task JunkAtAValidKeyFileName_SetupPullAndReopenStillWork_AndTheJunkIsReported()
    {
        string repo = Path.Combine(_root, "repo");
        var keyOptions = TestKeys.FastOptions();
        var config = new SyncConfiguration { Backend = "folder", Settings = { ["path"] = repo }, DeviceId = "laptop", DeviceName = "Laptop" };
        using (MemorySyncManager laptop = await MemorySyncManager.SetupAsync(new FileSystemBackend(repo), config, "pw", new GhostieSyncOptions { Home = Path.Combine(_root, "laptop") }, keyOptions))
        {
            laptop.Memories.Save(MemoryRecord.Create("project", "survives junk", "laptop", DateTimeOffset.UnixEpoch));
            await laptop.SyncAsync();
        }

        await File.WriteAllTextAsync(Path.Combine(repo, "keys", "0000000000000000"), "junk from a sync tool");
        var phoneConfig = new SyncConfiguration { Backend = "folder", Settings = { ["path"] = repo }, DeviceId = "phone", DeviceName = "Phone" };
        using (MemorySyncManager phone = await MemorySyncManager.SetupAsync(new FileSystemBackend(repo), phoneConfig, "pw", new GhostieSyncOptions { Home = Path.Combine(_root, "phone") }, keyOptions))
        {
            Assert.Equal("0000000000000000", Assert.Single(phone.Keys.SkippedKeyFiles).Id);
            await phone.SyncAsync();
            Assert.Equal("survives junk", Assert.Single(phone.Memories.Scan()).Record!.Content);
        }

        // Every later pull opens with the device key cache: the junk must not stop it either.
        using MemorySyncManager reopened = await MemorySyncManager.OpenAsync(new FileSystemBackend(repo), new GhostieSyncOptions { Home = Path.Combine(_root, "laptop") }, keyOptions: keyOptions);
        await reopened.SyncAsync();
        Assert.Equal("keys/0000000000000000", Assert.Single(reopened.Keys.SkippedKeyFiles).ObjectName);
    }

    [Fact]
    public async Task DependencyInjection_RegistersBackendAndClient_AndValidatesAtStart()
    {
        var services = new ServiceCollection();
        services.AddGhostieSync(o => o.Home = Path.Combine(_root, "home")).AddFileSystemBackend(o => o.Path = Path.Combine(_root, "repo"));
        services.AddGhostieSync(); // safe twice
        await using ServiceProvider provider = services.BuildServiceProvider();

        GhostieSyncClient client = provider.GetRequiredService<GhostieSyncClient>();
        Assert.IsType<FileSystemBackend>(client.Backend);
        Assert.Single(services, d => d.ServiceType == typeof(GhostieSyncClient));

        var bad = new ServiceCollection();
        bad.AddGhostieSync(o => o.Home = "").AddFileSystemBackend(o => o.Path = "");
        await using ServiceProvider badProvider = bad.BuildServiceProvider();
        Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IOptions<FileSystemBackendOptions>>().Value);
        Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IOptions<GhostieSyncOptions>>().Value);
    }

    /// <summary>A readable stream of a byte pattern, optionally firing an action after some bytes.</summary>
    private sealed class PatternStream(long length, long afterBytes = long.MaxValue, Action? onReached = null) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - _position);
            for (int i = 0; i < n; i++)
            {
                buffer[offset + i] = (byte)((_position + i) % 251);
            }

            _position += n;
            if (_position >= afterBytes)
            {
                onReached?.Invoke();
            }

            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

public sealed class FileSystemConditionalTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-fsc-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task ReplaceIfUnchanged_RefusesAStaleVersion()
    {
        var backend = new FileSystemBackend(_root);
        await backend.PutAsync("h/x", new MemoryStream([1]));
        string v1 = (await backend.GetVersionAsync("h/x"))!;
        await Task.Delay(20);

        Assert.True(await backend.TryReplaceAsync("h/x", new MemoryStream([2, 2]), v1));
        Assert.False(await backend.TryReplaceAsync("h/x", new MemoryStream([3]), v1));
        Assert.False(await backend.TryReplaceAsync("h/none", new MemoryStream([3]), v1));
        Assert.Null(await backend.GetVersionAsync("h/none"));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "h"), ".tmp-*"));
    }
}
