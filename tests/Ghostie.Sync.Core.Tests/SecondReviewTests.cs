namespace Ghostie.Sync.Tests;

/// <summary>Regression tests for the second review of the protocol.</summary>
public class SecondReviewTests
{
    [Fact]
    public async Task MissingMemoriesFolder_InANewProcess_IsStillRefused()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("one");
        a.Add("two");
        await a.SyncAsync();
        await b.SyncAsync();
        Directory.Move(a.Home.MemoriesPath, a.Home.MemoriesPath + "-moved");
        await cluster.ReopenAsync(a);

        await Assert.ThrowsAsync<GhostieSyncException>(() => a.SyncAsync());
        await b.SyncAsync();

        Assert.Equal(2, b.Snapshot().Count);
        Assert.False(Directory.Exists(a.Home.MemoriesPath));
    }

    [Fact]
    public async Task StateRestoredFromAnOlderBackup_NextEditStillReachesOthers()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("v1");
        await a.SyncAsync();
        byte[] backup = File.ReadAllBytes(a.Home.StatePath);
        a.Edit(m.Id, "v2");
        await a.SyncAsync();
        a.Edit(m.Id, "v3");
        await a.SyncAsync();
        await b.SyncAsync();

        File.WriteAllBytes(a.Home.StatePath, backup); // the home is restored from last week's backup
        await cluster.ReopenAsync(a);
        a.Edit(m.Id, "v4 after the restore");
        SyncResult result = await a.SyncAsync();
        await b.SyncAsync();

        Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));
        Assert.Equal("v4 after the restore", b.Manager.Memories.Get(m.Id)!.Content);
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Empty(b.ConflictIds());
    }

    [Fact]
    public async Task CompleteLastOutboxLineWithoutNewline_IsKept()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("first");
        await a.Manager.PullAsync(); // committed to the outbox, not pushed
        string outbox = File.ReadAllText(a.Home.OutboxPath);
        File.WriteAllText(a.Home.OutboxPath, outbox.TrimEnd('\n')); // the crash hit just before the newline
        await cluster.ReopenAsync(a);
        a.Add("second");
        await a.Manager.PullAsync(); // appended after the unterminated line, still not pushed
        await cluster.ReopenAsync(a);

        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Equal(2, b.Snapshot().Count);
    }

    [Fact]
    public async Task DeletedMemoryRestoredFromABackup_SyncsAgain()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("keep me");
        await a.SyncAsync();
        await b.SyncAsync();
        string copy = File.ReadAllText(b.Home.MemoryPath(m.Id)); // written by sync, with its sync_hash
        a.Manager.Memories.Delete(m.Id);
        await a.SyncAsync();
        await b.SyncAsync();
        Assert.Empty(b.Snapshot());

        File.WriteAllText(b.Home.MemoryPath(m.Id), copy); // restored by hand
        await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal("keep me", a.Manager.Memories.Get(m.Id)!.Content);
    }

    [Fact]
    public async Task RevertingToTheLosingText_ResolvesTheConflictInItsFavour()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("alpha");
        Device b = await cluster.AddDeviceAsync("beta");
        MemoryRecord m = a.Add("original");
        await a.SyncAsync();
        await b.SyncAsync();
        a.Edit(m.Id, "alpha text");
        b.Edit(m.Id, "beta text"); // later clock: shown everywhere
        await a.SyncAsync();
        await b.SyncAsync();
        await a.SyncAsync();

        a.Edit(m.Id, "alpha text"); // the user puts alpha's text back by hand
        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Equal("alpha text", b.Manager.Memories.Get(m.Id)!.Content);
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Empty(a.ConflictIds());
        Assert.Empty(b.ConflictIds());
    }
}

public class PendingContentTests
{
    [Fact]
    public async Task WinnerRefusedByABrokenFile_KeepsItsContent_ConflictRecordsMatchOnBothDevices()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("v1");
        await a.SyncAsync();
        await b.SyncAsync();
        string path = b.Home.MemoryPath(m.Id);
        string good = File.ReadAllText(path);
        File.WriteAllText(path, "{ broken by an editor");
        a.Edit(m.Id, "v2 from a");
        await a.SyncAsync();
        await b.SyncAsync(); // v2 cannot be written over the broken file: kept aside
        File.WriteAllText(path, good.Replace("v1", "fixed by b", StringComparison.Ordinal));

        await b.SyncAsync();
        await a.SyncAsync();

        static string Describe(Device d) => string.Join("|", d.Manager.ListConflicts().Select(c =>
            $"{c.Current.DeviceId}:{c.Current.Record?.Content}/" + string.Join(",", c.Others.Select(o => $"{o.DeviceId}:{o.Record?.Content}"))));
        Assert.Equal(Describe(a), Describe(b));
        Assert.Contains("v2 from a", Describe(b));
        await b.Manager.ResolveConflictAsync(m.Id, ConflictChoice.KeepTheirs);
        await b.SyncAsync();
        await a.SyncAsync();
        Assert.Equal("v2 from a", b.Manager.Memories.Get(m.Id)!.Content);
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }
}
