namespace Ghostie.Sync.Tests;

public class SyncBasicsTests
{
    [Fact]
    public async Task TwoDevices_WriteOnBoth_SyncBoth_HoldIdenticalMemories()
    {
        using var cluster = new Cluster();
        Device laptop = await cluster.AddDeviceAsync("laptop");
        Device phone = await cluster.AddDeviceAsync("phone");
        laptop.Add("prefers tabs");
        laptop.Add("project uses .NET 10");
        phone.Add("lives in Lisbon");

        SyncResult first = await laptop.SyncAsync();
        SyncResult second = await phone.SyncAsync();
        SyncResult third = await laptop.SyncAsync();

        Assert.Equal(2, first.Uploaded);
        Assert.Equal((1, 2), (second.Uploaded, second.Downloaded));
        Assert.Equal(1, third.Downloaded);
        Assert.True(first.Success && second.Success && third.Success);
        Assert.Equal(3, laptop.Snapshot().Count);
        Assert.Equal(laptop.Snapshot(), phone.Snapshot());
    }

    [Fact]
    public async Task Edit_And_Delete_Propagate()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord keep = a.Add("v1");
        MemoryRecord drop = a.Add("to be deleted");
        await a.SyncAsync();
        await b.SyncAsync();

        b.Edit(keep.Id, "v2 from b");
        a.Manager.Memories.Delete(drop.Id);
        await b.SyncAsync();
        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Equal("v2 from b", a.Manager.Memories.Get(keep.Id)!.Content);
        Assert.Null(b.Manager.Memories.Get(drop.Id));
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Empty(a.ConflictIds());
        MemoryRecord written = a.Manager.Memories.Get(keep.Id)!;
        Assert.Equal(2, written.SyncMetadata!.Version);
        Assert.StartsWith("sha256:", written.SyncMetadata.SyncHash);
        Assert.Null(written.SyncMetadata.ConflictState);
    }

    [Fact]
    public async Task ConcurrentEdits_SameWinnerEverywhere_OneConflictRecordNamingBothDevices()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("alpha");
        Device b = await cluster.AddDeviceAsync("beta");
        MemoryRecord shared = a.Add("original");
        await a.SyncAsync();
        await b.SyncAsync();

        a.Edit(shared.Id, "edited on alpha");
        b.Edit(shared.Id, "edited on beta (later)");
        SyncResult ra = await a.SyncAsync();
        SyncResult rb = await b.SyncAsync();
        SyncResult ra2 = await a.SyncAsync();

        Assert.Equal(0, ra.NewConflicts);
        Assert.Equal(1, rb.NewConflicts);
        Assert.Equal(1, ra2.NewConflicts);
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Equal("edited on beta (later)", a.Manager.Memories.Get(shared.Id)!.Content); // later clock wins
        Assert.Equal("conflict", a.Manager.Memories.Get(shared.Id)!.SyncMetadata!.ConflictState);
        foreach (Device device in new[] { a, b })
        {
            Assert.Equal([shared.Id], device.ConflictIds());
            ConflictInfo conflict = Assert.Single(device.Manager.ListConflicts());
            Assert.Equal("beta", conflict.Current.DeviceId);
            ConflictVersionInfo other = Assert.Single(conflict.Others);
            Assert.Equal("alpha", other.DeviceId);
            Assert.Equal("edited on alpha", other.Record!.Content);
        }

        SyncStatus status = await a.Manager.GetStatusAsync();
        Assert.Equal(1, status.ConflictCount);
    }

    [Theory]
    [InlineData(ConflictChoice.KeepMine, "edited on alpha", 1)]
    [InlineData(ConflictChoice.KeepTheirs, "edited on beta (later)", 1)]
    [InlineData(ConflictChoice.KeepBoth, "edited on beta (later)", 2)]
    [InlineData(ConflictChoice.Merged, "merged text", 1)]
    public async Task ResolveConflict_ConvergesEverywhere_AndClearsTheConflict(ConflictChoice choice, string expected, int expectedMemories)
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("alpha");
        Device b = await cluster.AddDeviceAsync("beta");
        MemoryRecord shared = a.Add("original");
        await a.SyncAsync();
        await b.SyncAsync();
        a.Edit(shared.Id, "edited on alpha");
        b.Edit(shared.Id, "edited on beta (later)");
        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();

        MemoryRecord? merged = choice == ConflictChoice.Merged ? a.Manager.Memories.Get(shared.Id)! with { Content = "merged text", SyncMetadata = null } : null;
        IReadOnlyList<string> kept = await a.Manager.ResolveConflictAsync(shared.Id, choice, merged);
        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Equal(expectedMemories, kept.Count);
        foreach (Device device in new[] { a, b })
        {
            Assert.Empty(device.ConflictIds());
            Assert.Empty(device.Manager.ListConflicts());
            Assert.Equal(expected, device.Manager.Memories.Get(shared.Id)!.Content);
            Assert.Equal(expectedMemories, device.Snapshot().Count);
        }

        Assert.Equal(a.Snapshot(), b.Snapshot());
        if (choice == ConflictChoice.KeepBoth)
        {
            Assert.Equal("edited on alpha", a.Manager.Memories.Get(kept[1])!.Content);
        }
    }

    [Fact]
    public async Task ConcurrentEditAndDelete_IsAConflict_NotASilentLoss()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord shared = a.Add("original");
        await a.SyncAsync();
        await b.SyncAsync();

        a.Manager.Memories.Delete(shared.Id);
        b.Edit(shared.Id, "still needed");
        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Equal([shared.Id], a.ConflictIds());
        Assert.Equal([shared.Id], b.ConflictIds());
        Assert.Equal("still needed", a.Manager.Memories.Get(shared.Id)!.Content); // b's edit has the later clock
        Assert.True(Assert.Single(a.Manager.ListConflicts()).Others.Single().Deleted);
    }

    [Fact]
    public async Task Status_ReportsCountsDevicesAndLastSync()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("one");
        a.Add("two");
        await a.SyncAsync();
        b.Add("three");
        await b.SyncAsync();
        await a.SyncAsync();

        SyncStatus status = await a.Manager.GetStatusAsync();

        Assert.Equal("a", status.DeviceId);
        Assert.Equal(3, status.LocalCount);
        Assert.Equal(3, status.CloudCount);
        Assert.Equal(0, status.PendingPush);
        Assert.Equal(0, status.ConflictCount);
        Assert.Equal(["a", "b"], status.KnownDevices.Select(d => d.DeviceId));
        Assert.Equal(cluster.Time.GetUtcNow(), status.LastSync);
        Assert.Equal(a.Manager.Keys.RepositoryId, status.RepositoryId);
    }
}

public class ReviewFixTests
{
    private static async Task<(Cluster, Device, Device, string)> ConflictedAsync()
    {
        var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("alpha");
        Device b = await cluster.AddDeviceAsync("beta");
        MemoryRecord shared = a.Add("original");
        await a.SyncAsync();
        await b.SyncAsync();
        a.Edit(shared.Id, "alpha 1");
        b.Edit(shared.Id, "beta 1"); // later clock: beta's version is shown everywhere
        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();
        return (cluster, a, b, shared.Id);
    }

    [Fact]
    public async Task Resolve_AfterAnUnpushedLocalEditOfTheShownVersion_KeepsThatEdit()
    {
        (Cluster cluster, Device a, Device b, string id) = await ConflictedAsync();
        using (cluster)
        {
            b.Edit(id, "beta 2, not pushed yet");

            await b.Manager.ResolveConflictAsync(id, ConflictChoice.KeepMine);
            await b.SyncAsync();
            await a.SyncAsync();

            Assert.Equal("beta 2, not pushed yet", a.Manager.Memories.Get(id)!.Content);
            Assert.Empty(a.ConflictIds());
            Assert.Equal(a.Snapshot(), b.Snapshot());
        }
    }

    [Fact]
    public async Task LocalEdit_OnTheDeviceWhoseVersionLost_SupersedesBoth_AndCountersNeverRepeat()
    {
        (Cluster cluster, Device a, Device b, string id) = await ConflictedAsync();
        using (cluster)
        {
            a.Edit(id, "alpha 2, made after seeing both");

            var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => a.Manager.ResolveConflictAsync(id, ConflictChoice.KeepMine));
            Assert.Equal(GhostieErrorCode.NotFound, ex.Code); // the edit already settled it
            await a.SyncAsync();
            await b.SyncAsync();

            Assert.Equal("alpha 2, made after seeing both", b.Manager.Memories.Get(id)!.Content);
            Assert.Empty(b.ConflictIds());
            Internal.VersionInfo only = Assert.Single(a.Manager.RecordStates[id].Versions);
            Assert.Equal(3, only.VersionVector["alpha"]); // alpha:2 was taken by "alpha 1"
        }
    }

    [Fact]
    public async Task PathLikeIds_AreRejected()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");

        Assert.Equal(GhostieErrorCode.InvalidArgument, Assert.Throws<GhostieSyncException>(() => a.Manager.GetConflict("../x")).Code);
        Assert.Throws<GhostieSyncException>(() => a.Home.MemoryPath("../../etc/passwd"));
    }

    [Fact]
    public async Task WrittenFiles_KeepNonAsciiTextReadable()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("café <b> 日本語");
        await a.SyncAsync();
        await b.SyncAsync();

        string text = File.ReadAllText(Directory.GetFiles(b.Home.MemoriesPath).Single());
        Assert.Contains("café <b> 日本語", text);
    }
}
