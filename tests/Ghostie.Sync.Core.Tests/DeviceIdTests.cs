using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>
/// One device id, two installations: setup refuses an id another installation writes under (unless told to take it
/// over), and a home that got locked out anyway gets a new id with <see cref="MemorySyncManager.RenameDeviceAsync"/>,
/// keeping its memories and unpushed changes.
/// </summary>
public sealed class DeviceIdTests : IDisposable
{
    private readonly InMemoryStorageBackend _storage = new();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-devid-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-21T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly List<MemorySyncManager> _managers = [];

    public void Dispose()
    {
        foreach (MemorySyncManager manager in _managers)
        {
            manager.Dispose();
        }

        Directory.Delete(_root, recursive: true);
    }

    private GhostieSyncOptions Options(string home) => new() { Home = Path.Combine(_root, home), TimeProvider = _time };

    private async Task<MemorySyncManager> SetupAsync(string home, string deviceId, bool takeOver = false)
    {
        var configuration = new SyncConfiguration { Backend = "memory", DeviceId = deviceId, DeviceName = deviceId };
        MemorySyncManager manager = await MemorySyncManager.SetupAsync(_storage, configuration, Cluster.Passphrase, Options(home), Cluster.KeyOptions(),
            takeOverDeviceId: takeOver);
        _managers.Add(manager);
        return manager;
    }

    private MemoryRecord Add(MemorySyncManager manager, string content)
    {
        _time.Advance(TimeSpan.FromMilliseconds(10));
        var record = new MemoryRecord
        {
            Id = "m" + Guid.CreateVersion7(_time.GetUtcNow()).ToString("N"),
            Category = "note",
            Content = content,
            DeviceId = manager.DeviceId,
            Timestamp = _time.GetUtcNow(),
        };
        manager.Memories.Save(record);
        return record;
    }

    private static Dictionary<string, string> Contents(MemorySyncManager manager) =>
        manager.Memories.Scan().ToDictionary(f => f.Id, f => f.Record!.Content, StringComparer.Ordinal);

    [Fact]
    public async Task Setup_DeviceIdAnotherInstallationWritesUnder_IsRefusedWithATypedError_AndNothingIsCreated()
    {
        MemorySyncManager first = await SetupAsync("first", "laptop");
        Add(first, "pushed by the first home");
        await first.PushAsync();

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => SetupAsync("second", "laptop"));

        Assert.Equal(GhostieErrorCode.DeviceIdInUse, error.Code);
        Assert.Contains("'laptop'", error.Message, StringComparison.Ordinal);
        Assert.Contains("another device id", error.Message, StringComparison.Ordinal);
        Assert.False(new GhostieHome(Path.Combine(_root, "second")).IsConfigured);
        Assert.True((await first.SyncAsync()).Success); // the first home is untouched
    }

    [Fact]
    public async Task Setup_SameHomeAgain_WithItsOwnDeviceId_IsNotRefused()
    {
        MemorySyncManager first = await SetupAsync("first", "laptop");
        Add(first, "pushed");
        await first.PushAsync();
        first.Dispose();
        _managers.Remove(first);

        MemorySyncManager again = await SetupAsync("first", "laptop");

        Assert.True((await again.SyncAsync()).Success);
    }

    [Fact]
    public async Task LockedOutHome_GetsTypedError_ThenRenameDevice_KeepsItsMemoriesAndUnpushedChanges_AndPushesThem()
    {
        MemorySyncManager original = await SetupAsync("original", "laptop");
        MemoryRecord shared = Add(original, "pushed before the second home");
        await original.PushAsync();

        MemorySyncManager intruder = await SetupAsync("intruder", "laptop", takeOver: true);
        Assert.True((await intruder.SyncAsync()).Success); // adopts the original's history as its own

        MemoryRecord committed = Add(original, "committed to the outbox, never pushed");
        await original.PullAsync(); // commits it
        Add(intruder, "pushed by the intruder");
        await intruder.SyncAsync(); // a newer head of 'laptop' by another installation
        MemoryRecord uncommitted = Add(original, "not even committed");
        original.Memories.Save(original.Memories.Get(shared.Id)! with { Content = "edited on the original" });

        var locked = await Assert.ThrowsAsync<GhostieSyncException>(() => original.PushAsync());
        Assert.Equal(GhostieErrorCode.DeviceIdInUse, locked.Code);
        Assert.Contains("RenameDeviceAsync", locked.Message, StringComparison.Ordinal);

        await original.RenameDeviceAsync("laptop-2", "Laptop (second id)");
        Assert.Equal("laptop-2", original.DeviceId);
        Assert.Equal("laptop-2", new GhostieHome(Path.Combine(_root, "original")).ReadConfiguration().DeviceId);
        SyncResult pushed = await original.SyncAsync();
        Assert.True(pushed.Success, string.Join("; ", pushed.Problems.Select(p => p.Message)));
        Assert.Equal(0, (await original.GetStatusAsync()).PendingPush);

        SyncResult pulled = await intruder.SyncAsync();
        Assert.True(pulled.Success, string.Join("; ", pulled.Problems.Select(p => p.Message)));
        await original.SyncAsync();
        Dictionary<string, string> expected = Contents(original);
        Assert.Equal(expected, Contents(intruder));
        Assert.Equal("edited on the original", expected[shared.Id]);
        Assert.Equal("committed to the outbox, never pushed", expected[committed.Id]);
        Assert.Equal("not even committed", expected[uncommitted.Id]);
        Assert.Contains("pushed by the intruder", expected.Values);
        Assert.Empty(original.ListConflicts());
        Assert.Empty(intruder.ListConflicts());
        Assert.Contains((await intruder.GetStatusAsync()).KnownDevices, d => d.DeviceId == "laptop-2" && !d.IsThisDevice);
    }

    [Fact]
    public async Task RenameDevice_ToAnIdAlreadyInTheRepository_IsRefused_AndChangesNothing()
    {
        MemorySyncManager a = await SetupAsync("a", "laptop");
        MemorySyncManager b = await SetupAsync("b", "phone");
        Add(b, "phone's");
        await b.PushAsync();
        Add(a, "laptop's");

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => a.RenameDeviceAsync("phone"));

        Assert.Equal(GhostieErrorCode.DeviceIdInUse, error.Code);
        Assert.Equal("laptop", a.DeviceId);
        Assert.Equal("laptop", new GhostieHome(Path.Combine(_root, "a")).ReadConfiguration().DeviceId);
        Assert.True((await a.SyncAsync()).Success);
    }
}
