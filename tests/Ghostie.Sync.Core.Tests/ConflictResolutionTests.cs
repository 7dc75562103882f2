namespace Ghostie.Sync.Tests;

/// <summary>Each resolution does what it says; equal choices made at once are one choice, not a new conflict.</summary>
public class ConflictResolutionTests
{
    /// <summary>alpha and beta edit one memory concurrently; gamma, which wrote no version, sees the conflict.</summary>
    private static async Task<(Cluster Cluster, Device A, Device B, Device C, string Id)> ConflictOnThreeDevicesAsync()
    {
        var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("alpha");
        Device b = await cluster.AddDeviceAsync("beta");
        Device c = await cluster.AddDeviceAsync("gamma");
        MemoryRecord shared = a.Add("original");
        await a.SyncAsync();
        await b.SyncAsync();
        await c.SyncAsync();
        a.Edit(shared.Id, "alpha's edit");
        b.Edit(shared.Id, "beta's edit (later)");
        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();
        await c.SyncAsync();
        return (cluster, a, b, c, shared.Id);
    }

    [Fact]
    public async Task ResolveConflict_KeepMineOnADeviceWithNoVersionOfItsOwn_ThrowsNamingWhatToUseInstead_AndChangesNothing()
    {
        (Cluster cluster, _, _, Device c, string id) = await ConflictOnThreeDevicesAsync();
        using (cluster)
        {
            Assert.Single(c.Manager.ListConflicts());

            var error = await Assert.ThrowsAsync<GhostieSyncException>(() => c.Manager.ResolveConflictAsync(id, ConflictChoice.KeepMine));

            Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
            Assert.Contains("gamma", error.Message, StringComparison.Ordinal);
            Assert.Contains("alpha", error.Message, StringComparison.Ordinal);
            Assert.Contains("beta", error.Message, StringComparison.Ordinal);
            Assert.Contains("KeepTheirs", error.Message, StringComparison.Ordinal);
            Assert.Single(c.Manager.ListConflicts()); // still unresolved
            Assert.Equal(0, (await c.Manager.GetStatusAsync()).PendingPush);
        }
    }

    [Fact]
    public async Task ResolveConflict_ChoosingTheDeletion_DeletesTheMemory_AndDoesNotReportItAsKept()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord shared = a.Add("original");
        await a.SyncAsync();
        await b.SyncAsync();
        b.Edit(shared.Id, "still needed?");
        await b.SyncAsync();
        a.Manager.Memories.Delete(shared.Id);
        cluster.Time.Advance(TimeSpan.FromSeconds(1)); // later clock: the deletion is shown
        await a.SyncAsync();
        await b.SyncAsync();
        Assert.True(Assert.Single(b.Manager.ListConflicts()).Current.Deleted);

        IReadOnlyList<string> kept = await b.Manager.ResolveConflictAsync(shared.Id, ConflictChoice.KeepTheirs);
        await b.SyncAsync();
        await a.SyncAsync();

        Assert.Empty(kept);
        foreach (Device device in new[] { a, b })
        {
            Assert.Null(device.Manager.Memories.Get(shared.Id));
            Assert.Empty(device.Manager.ListConflicts());
        }
    }

    [Fact]
    public async Task ResolveConflict_SameChoiceOnTwoDevicesAtOnce_ConvergesWithoutANewConflict()
    {
        (Cluster cluster, Device a, Device b, Device c, string id) = await ConflictOnThreeDevicesAsync();
        using (cluster)
        {
            await b.SyncAsync();

            // Both keep beta's edit, neither having seen the other's resolution.
            await a.Manager.ResolveConflictAsync(id, ConflictChoice.KeepTheirs);
            await b.Manager.ResolveConflictAsync(id, ConflictChoice.KeepMine);
            await a.SyncAsync();
            await b.SyncAsync();
            await a.SyncAsync();
            await c.SyncAsync();

            foreach (Device device in new[] { a, b, c })
            {
                Assert.Empty(device.Manager.ListConflicts());
                Assert.Empty(device.ConflictIds());
                Assert.Equal(0, (await device.Manager.GetStatusAsync()).ConflictCount);
                MemoryRecord shown = device.Manager.Memories.Get(id)!;
                Assert.Equal("beta's edit (later)", shown.Content);
                Assert.Null(shown.SyncMetadata!.ConflictState);
            }

            // A later edit on either device supersedes both equal resolutions: still no conflict anywhere.
            a.Edit(id, "alpha edits after the resolution");
            await a.SyncAsync();
            await b.SyncAsync();
            await c.SyncAsync();
            foreach (Device device in new[] { a, b, c })
            {
                Assert.Empty(device.Manager.ListConflicts());
                Assert.Equal("alpha edits after the resolution", device.Manager.Memories.Get(id)!.Content);
            }
        }
    }

    [Fact]
    public async Task ConcurrentDeletionsOfOneMemory_AreNotAConflict()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord shared = a.Add("deleted on both");
        await a.SyncAsync();
        await b.SyncAsync();
        a.Manager.Memories.Delete(shared.Id);
        b.Manager.Memories.Delete(shared.Id);

        SyncResult ra = await a.SyncAsync();
        SyncResult rb = await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal(0, ra.NewConflicts + rb.NewConflicts);
        foreach (Device device in new[] { a, b })
        {
            Assert.Empty(device.Manager.ListConflicts());
            Assert.Empty(device.ConflictIds());
            Assert.Null(device.Manager.Memories.Get(shared.Id));
        }
    }

    [Fact]
    public async Task ConcurrentEditsToTheSameContent_AreNotAConflict_AndALaterEditSupersedesBoth()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord shared = a.Add("typo");
        await a.SyncAsync();
        await b.SyncAsync();
        a.Edit(shared.Id, "fixed");
        b.Edit(shared.Id, "fixed");
        await a.SyncAsync();
        SyncResult rb = await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal(0, rb.NewConflicts);
        Assert.Empty(a.Manager.ListConflicts());
        Assert.Empty(b.Manager.ListConflicts());

        b.Edit(shared.Id, "fixed, then improved on b");
        await b.SyncAsync();
        SyncResult ra = await a.SyncAsync();
        Assert.Equal(0, ra.NewConflicts);
        Assert.Empty(a.Manager.ListConflicts());
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Equal("fixed, then improved on b", a.Manager.Memories.Get(shared.Id)!.Content);
    }
}
