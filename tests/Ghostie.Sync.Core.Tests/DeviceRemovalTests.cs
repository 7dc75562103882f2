using Ghostie.Sync.Backends.FileSystem;

namespace Ghostie.Sync.Tests;

/// <summary>Listing and removing devices (docs/sync-protocol.md, "Removing a device"), end to end between three device
/// homes, each with its own folder backend on one repository folder.</summary>
public sealed class DeviceRemovalTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ghostie-devrm-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private Cluster NewCluster() => new(() => Task.FromResult<IStorageBackend>(new FileSystemBackend(_folder)));

    private int Objects(string prefix)
    {
        string path = Path.Combine(_folder, prefix.TrimEnd('/'));
        return Directory.Exists(path) ? Directory.GetFiles(path, "*", SearchOption.AllDirectories).Count(f => !Path.GetFileName(f).StartsWith('.')) : 0;
    }

    private static async Task<(Device A, Device B, Device C)> ThreeDevicesAsync(Cluster cluster)
    {
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        Device c = await cluster.AddDeviceAsync("c");
        foreach (Device device in new[] { a, b, c })
        {
            device.Add($"written on {device.Id}");
            await device.SyncAsync();
        }

        foreach (Device device in new[] { a, b, c })
        {
            await device.SyncAsync();
        }

        return (a, b, c);
    }

    [Fact]
    public async Task ListDevices_ShowsEveryDeviceThatWrote_ThisOneFirst_WithNamesAndTimes()
    {
        await using Cluster cluster = NewCluster();
        (Device a, _, _) = await ThreeDevicesAsync(cluster);
        Device late = await cluster.AddDeviceAsync("late");
        late.Add("late one");
        await late.SyncAsync();

        IReadOnlyList<DeviceInfo> devices = await a.Manager.ListDevicesAsync(); // 'late' is not applied on a yet: read, not applied

        Assert.Equal(["a", "b", "c", "late"], devices.Select(d => d.DeviceId));
        Assert.True(devices[0].IsThisDevice);
        Assert.All(devices.Skip(1), d => Assert.False(d.IsThisDevice));
        Assert.All(devices, d => Assert.True(d.HasHead));
        Assert.All(devices, d => Assert.Equal(DeviceStatus.Active, d.Status));
        Assert.Equal("late name", devices[3].DeviceName);
        Assert.NotNull(devices[3].LastSeen);
        Assert.Equal(3, a.Snapshot().Count); // listing applied nothing
    }

    [Fact]
    public async Task RemoveDevice_ThisDeviceOrAnUnknownId_IsRefused_AndWritesNothing()
    {
        await using Cluster cluster = NewCluster();
        (Device a, _, _) = await ThreeDevicesAsync(cluster);
        int heads = Objects("h/");

        var self = await Assert.ThrowsAsync<GhostieSyncException>(() => a.Manager.RemoveDeviceAsync("a"));
        var unknown = await Assert.ThrowsAsync<GhostieSyncException>(() => a.Manager.RemoveDeviceAsync("C"));

        Assert.Equal(GhostieErrorCode.InvalidArgument, self.Code);
        Assert.Contains("this device", self.Message, StringComparison.Ordinal);
        Assert.Equal(GhostieErrorCode.NotFound, unknown.Code);
        Assert.Contains("'C'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("'c'", unknown.Message, StringComparison.Ordinal); // names the known ids
        Assert.Equal(heads, Objects("h/"));
        Assert.All(await a.Manager.ListDevicesAsync(), d => Assert.Equal(DeviceStatus.Active, d.Status));
    }

    [Fact]
    public async Task RemovedDevice_NoLongerBlocksDeletionOfRetiredPacks_OnEveryDevice()
    {
        await using Cluster cluster = NewCluster(); // compacts after 4 packs
        (Device a, Device b, Device c) = await ThreeDevicesAsync(cluster);
        string prefixA = (await a.Manager.ListDevicesAsync())[0].Prefix;
        for (int i = 0; i < 10; i++)
        {
            a.Add($"memory {i}");
            await a.SyncAsync();
            await b.SyncAsync(); // c is dead: it never acknowledges a's compactions
        }

        await a.SyncAsync();
        int before = Objects("p/" + prefixA);
        int live = LivePacks(a);
        Assert.True(before > live, $"{before} packs of a's, {live} live: the test needs retired packs held back by c");

        // The removal is made on b and reaches a through b's head.
        DeviceInfo removed = await b.Manager.RemoveDeviceAsync("c");
        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal(DeviceStatus.Removed, removed.Status);
        Assert.Equal("b", removed.RemovedBy);
        Assert.Equal(LivePacks(a), Objects("p/" + prefixA));
        Assert.Contains(await a.Manager.ListDevicesAsync(), d => d.DeviceId == "c" && d.Status == DeviceStatus.Removed && d.RemovedBy == "b");

        // Its history up to the removal stays: a late joiner still receives c's memory.
        Device late = await cluster.AddDeviceAsync("late");
        await late.SyncAsync();
        Assert.Equal(a.Snapshot(), late.Snapshot());
        Assert.Contains("c-00001", late.Snapshot().Keys);
        _ = c;
    }

    [Fact]
    public async Task RemovedDevice_ThatComesBack_GetsAClearError_AndOthersIgnoreWhatItWrites_UntilRenamed()
    {
        await using Cluster cluster = NewCluster();
        (Device a, Device b, Device c) = await ThreeDevicesAsync(cluster);
        await a.Manager.RemoveDeviceAsync("c");
        await b.SyncAsync();

        // c, offline during the removal, pushes first (a push does not read others' heads), then pulls.
        MemoryRecord sneaked = c.Add("written after the removal");
        await c.Manager.PushAsync();
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => c.SyncAsync());
        var again = await Assert.ThrowsAsync<GhostieSyncException>(() => c.Manager.PushAsync()); // remembered

        Assert.Equal(GhostieErrorCode.DeviceRemoved, error.Code);
        Assert.Contains("removed from the repository by device 'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("rename-device", error.Message, StringComparison.Ordinal);
        Assert.Equal(GhostieErrorCode.DeviceRemoved, again.Code);
        Assert.Equal("written after the removal", c.Manager.Memories.Get(sneaked.Id)!.Content); // untouched

        SyncResult onA = await a.SyncAsync();
        SyncResult onB = await b.SyncAsync();
        Assert.Contains(onA.Problems, p => p.Code == GhostieErrorCode.DeviceRemoved && p.Subject == "device 'c'");
        Assert.Contains(onB.Problems, p => p.Code == GhostieErrorCode.DeviceRemoved);
        Assert.Null(a.Manager.Memories.Get(sneaked.Id));
        Assert.Null(b.Manager.Memories.Get(sneaked.Id));
        Assert.True((await a.SyncAsync()).Success); // reported once, not downloaded again

        // Its way back: a new id. Its change arrives under it.
        await c.Manager.RenameDeviceAsync("c2");
        await c.SyncAsync();
        await a.SyncAsync();
        Assert.Equal("written after the removal", a.Manager.Memories.Get(sneaked.Id)!.Content);
    }

    [Fact]
    public async Task RemovedDevice_WhoseObjectsAreGone_IsNotReportedMissing()
    {
        await using Cluster cluster = NewCluster();
        (Device a, Device b, _) = await ThreeDevicesAsync(cluster);
        string prefixC = (await a.Manager.ListDevicesAsync()).Single(d => d.DeviceId == "c").Prefix;
        Directory.Delete(Path.Combine(_folder, "h", prefixC), recursive: true);
        Assert.Contains((await b.SyncAsync()).Problems, p => p.Subject == "c"); // missing, before the removal

        await a.Manager.RemoveDeviceAsync("c");
        SyncResult onB = await b.SyncAsync();

        Assert.True(onB.Success, string.Join("; ", onB.Problems.Select(p => p.Message)));
        Assert.Contains("c-00001", b.Snapshot().Keys);
    }

    private static int LivePacks(Device device) => device.Manager.LivePackCount;
}
