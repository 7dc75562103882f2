namespace Ghostie.Sync.Tests;

/// <summary>
/// <see cref="MemorySyncManager.CheckAsync"/>: the cheap look a background scheduler takes at every interval. An idle
/// repository costs one listing and no download or write; a change on either side is noticed and sized.
/// </summary>
public sealed class SyncCheckTests
{
    [Fact]
    public async Task Check_NothingNew_MakesOneListing_DownloadsNothing_AndWritesNothing()
    {
        var storage = new InstrumentedBackend(new InMemoryStorageBackend());
        using var cluster = new Cluster(storage);
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        b.Add("from b");
        await b.SyncAsync();
        a.Add("from a");
        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();
        DateTime stateWritten = File.GetLastWriteTimeUtc(a.Home.StatePath);
        storage.Reset();

        SyncCheck check = await a.Manager.CheckAsync(SyncCheckScope.Estimate);

        Assert.False(check.HasWork);
        Assert.False(check.RemoteChanged);
        Assert.Equal(0, check.PendingChanges);
        Assert.Equal(0L, check.DownloadBytes);
        Assert.Equal((1, 0, 0, 0), (storage.Lists, storage.Gets, storage.Puts, storage.Deletes));
        Assert.Equal(stateWritten, File.GetLastWriteTimeUtc(a.Home.StatePath));
    }

    [Fact]
    public async Task Check_AnotherDevicePushed_IsNoticedByTheListing_AndEstimateSizesTheDownload()
    {
        var storage = new InstrumentedBackend(new InMemoryStorageBackend());
        using var cluster = new Cluster(storage);
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        await a.SyncAsync();
        for (int i = 0; i < 50; i++)
        {
            b.Add("memory " + i + " " + new string('x', 500));
        }

        await b.SyncAsync();
        storage.Reset();

        SyncCheck listing = await a.Manager.CheckAsync(SyncCheckScope.Listing);
        Assert.Equal((1, 0), (storage.Lists, storage.Gets));
        storage.Reset();
        SyncCheck estimate = await a.Manager.CheckAsync(SyncCheckScope.Estimate);

        Assert.True(listing.RemoteChanged);
        Assert.Equal(1, listing.ChangedDevices);
        Assert.Null(listing.DownloadBytes);
        Assert.Equal((1, 1), (storage.Lists, storage.Gets)); // the listing and b's head, no pack
        Assert.InRange(estimate.DownloadBytes!.Value, 1_000, 100_000); // one pack of 50 compressible memories
        Assert.Equal(0, estimate.PendingChanges);
        Assert.Empty(a.Manager.Memories.Scan()); // nothing was pulled

        await a.SyncAsync();
        Assert.False((await a.Manager.CheckAsync(SyncCheckScope.Estimate)).RemoteChanged);
    }

    [Fact]
    public async Task Check_LocalChanges_AreCountedAndSized_WithoutARequestForLocalScope()
    {
        var storage = new InstrumentedBackend(new InMemoryStorageBackend());
        using var cluster = new Cluster(storage);
        Device a = await cluster.AddDeviceAsync("a");
        MemoryRecord kept = a.Add("pushed");
        await a.SyncAsync();
        a.Add(new string('y', 4000));
        a.Manager.Memories.Delete(kept.Id);
        storage.Reset();

        SyncCheck check = await a.Manager.CheckAsync(SyncCheckScope.Local);

        Assert.Equal(0, storage.Requests);
        Assert.True(check.HasWork);
        Assert.False(check.RemoteChanged);
        Assert.Equal(2, check.PendingChanges);
        Assert.InRange(check.UploadBytes, 4000, 5000); // the new file; a deletion counts as nothing
        Assert.Equal(2, (await a.Manager.GetStatusAsync()).PendingPush);
    }

    [Fact]
    public async Task Check_OwnHeadDeletedFromStorage_ReportsWorkSoASyncWritesItAgain()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        a.Add("one");
        await a.SyncAsync();
        await foreach (string name in cluster.Storage.ListAsync("h/"))
        {
            await cluster.Storage.DeleteAsync(name);
        }

        SyncCheck check = await a.Manager.CheckAsync();

        Assert.True(check.RemoteChanged);
        Assert.Equal(0, check.ChangedDevices);
    }
}
