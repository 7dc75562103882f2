namespace Ghostie.Sync.Tests;

public class CompactionTests
{
    [Fact]
    public async Task ManyPushes_AreCompacted_RetiredPacksDeletedOnceAcknowledged_LateJoinerGetsEverything()
    {
        var storage = new InMemoryStorageBackend();
        using var cluster = new Cluster(storage); // compacts after 4 packs
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord edited = a.Add("edited many times");
        for (int i = 0; i < 12; i++)
        {
            a.Add($"memory {i}");
            a.Edit(edited.Id, $"edit {i}");
            await a.SyncAsync();
            await b.SyncAsync();
        }

        await a.SyncAsync(); // deletes what b has acknowledged
        int packs = 0;
        await foreach (string _ in storage.ListAsync("p/"))
        {
            packs++;
        }

        Device late = await cluster.AddDeviceAsync("late");
        await late.SyncAsync();

        Assert.InRange(packs, 1, 5);
        Assert.Equal(13, late.Snapshot().Count);
        Assert.Equal(a.Snapshot(), late.Snapshot());
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Equal("edit 11", late.Manager.Memories.Get(edited.Id)!.Content);
    }

    [Fact]
    public async Task RetiredPacks_AreKeptWhileAKnownDeviceHasNotAcknowledged()
    {
        var storage = new InMemoryStorageBackend();
        using var cluster = new Cluster(storage);
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        b.Add("b exists");
        await b.SyncAsync();
        await a.SyncAsync(); // a now knows b
        for (int i = 0; i < 8; i++)
        {
            a.Add($"memory {i}");
            await a.SyncAsync(); // b never syncs again: nothing may be deleted under it
        }

        int packs = 0;
        await foreach (string _ in storage.ListAsync("p/"))
        {
            packs++;
        }

        await b.SyncAsync();
        Assert.Equal(9, b.Snapshot().Count);
        Assert.True(packs >= 8, $"only {packs} packs: retired packs were deleted before b acknowledged them");
    }
}
