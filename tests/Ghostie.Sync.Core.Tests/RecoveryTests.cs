namespace Ghostie.Sync.Tests;

/// <summary>Regression tests for the review of the protocol: lost state, interrupted pulls, stale files, torn outbox lines.</summary>
public class RecoveryTests
{
    private static async Task<List<string>> NamesAsync(IStorageBackend storage, string prefix)
    {
        var names = new List<string>();
        await foreach (string name in storage.ListAsync(prefix))
        {
            names.Add(name);
        }

        return names;
    }

    [Fact]
    public async Task LostState_DeviceRecoversItsOwnLog_AndItsNextEditIsNotDroppedElsewhere()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("v1");
        a.Add("untouched");
        await a.SyncAsync();
        a.Edit(m.Id, "v2");
        await a.SyncAsync();
        await b.SyncAsync();

        File.Delete(a.Home.StatePath); // lost, or restored from an old backup
        await cluster.ReopenAsync(a);
        a.Edit(m.Id, "v3 after the state was lost");
        SyncResult result = await a.SyncAsync();
        await b.SyncAsync();

        Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));
        Assert.Equal("v3 after the state was lost", b.Manager.Memories.Get(m.Id)!.Content);
        Assert.Empty(b.ConflictIds());
        Assert.Empty(a.ConflictIds());
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }

    [Fact]
    public async Task PullInterruptedBeforeItsStateWasSaved_LeavesNoSpuriousEditsOrConflicts()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        for (int i = 0; i < 5; i++)
        {
            a.Add($"memory {i}");
        }

        await a.SyncAsync();
        await b.Manager.PullAsync();
        File.Delete(b.Home.StatePath); // the files were written, the state that records them was not

        SyncResult again = await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal(0, again.Uploaded); // sync's own files are not mistaken for local edits
        Assert.Empty(a.ConflictIds());
        Assert.Empty(b.ConflictIds());
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }

    [Fact]
    public async Task EditOfAFileSyncCouldNotUpdate_BecomesAConflict_NotASilentOverwrite()
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
        await b.SyncAsync(); // cannot write v2 over the broken file
        File.WriteAllText(path, good.Replace("v1", "fixed by b, never saw v2", StringComparison.Ordinal));

        await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal([m.Id], a.ConflictIds());
        Assert.Equal([m.Id], b.ConflictIds());
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }

    [Fact]
    public async Task TornOutboxLine_DoesNotSwallowTheNextChange()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        File.WriteAllText(a.Home.OutboxPath, "{\"n\":1,\"e\":{\"id\":\"half-writ"); // a crash mid-append
        a.Add("after the crash");
        await a.Manager.PullAsync(); // commits into the outbox; nothing pushed
        await cluster.ReopenAsync(a); // the next run is a new process: it knows only the files

        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Single(b.Snapshot());
    }

    [Fact]
    public async Task LeftoverOlderHead_IsNotReportedAsRollback()
    {
        var storage = new InMemoryStorageBackend();
        using var cluster = new Cluster(storage);
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("one");
        await a.SyncAsync();
        string oldHead = (await NamesAsync(storage, "h/")).Single();
        byte[] oldBytes = storage.GetRaw(oldHead)!;
        a.Add("two");
        await a.SyncAsync();
        await b.SyncAsync();

        storage.SetRaw(oldHead, oldBytes); // as if a's delete of its old head never happened
        SyncResult result = await b.SyncAsync();

        Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));
        Assert.Equal(2, b.Snapshot().Count);
    }

    [Fact]
    public async Task MissingMemoriesFolder_IsRefused_NotReadAsMassDeletion()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("one");
        a.Add("two");
        await a.SyncAsync();
        await b.SyncAsync();
        Directory.Move(a.Home.MemoriesPath, a.Home.MemoriesPath + "-moved");

        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => a.SyncAsync());
        await b.SyncAsync();

        Assert.Equal(GhostieErrorCode.NotConfigured, ex.Code);
        Assert.Equal(2, b.Snapshot().Count);
    }

    [Fact]
    public async Task TwoInstallationsSharingADeviceId_AreRefused()
    {
        using var cluster = new Cluster();
        Device first = await cluster.AddDeviceAsync("same-id");
        first.Add("from the first machine");
        await first.SyncAsync();
        Device second = await cluster.AddDeviceAsync("same-id-elsewhere");
        await cluster.ReopenAsync(second, deviceId: "same-id");
        await second.SyncAsync(); // takes over the id's history (as after a reinstall)
        second.Add("from the second machine");
        await second.SyncAsync();
        first.Add("the first machine again");

        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => first.SyncAsync());

        Assert.Equal(GhostieErrorCode.DeviceIdInUse, ex.Code);
        Assert.Contains("same-id", ex.Message);
    }

    [Fact]
    public async Task TemporaryFilesOfAKilledProcess_AreRemovedByTheNextSync_LiveOnesAndOtherFilesKept()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        MemoryRecord kept = a.Add("a memory");
        DateTime now = cluster.Time.GetUtcNow().UtcDateTime;
        string Leftover(string folder, string file, TimeSpan age)
        {
            Directory.CreateDirectory(folder);
            string path = Path.Combine(folder, "." + file + ".0123456789ab.tmp");
            File.WriteAllText(path, "{\"content\": \"half-written plaintext\"");
            File.SetLastWriteTimeUtc(path, now - age);
            return path;
        }

        string oldMemory = Leftover(a.Home.MemoriesPath, "m1.json", TimeSpan.FromHours(2));
        string oldState = Leftover(a.Home.SyncPath, "sync_state.json", TimeSpan.FromMinutes(11));
        string oldConflict = Leftover(a.Home.ConflictsPath, "c1.json", TimeSpan.FromDays(3));
        string live = Leftover(a.Home.MemoriesPath, "m2.json", TimeSpan.FromMinutes(1));
        string notOurs = Path.Combine(a.Home.MemoriesPath, ".editor-swap.tmp");
        File.WriteAllText(notOurs, "x");
        File.SetLastWriteTimeUtc(notOurs, now - TimeSpan.FromDays(1));

        SyncResult result = await a.SyncAsync();

        Assert.True(result.Success);
        Assert.False(File.Exists(oldMemory));
        Assert.False(File.Exists(oldState));
        Assert.False(File.Exists(oldConflict));
        Assert.True(File.Exists(live)); // may belong to a write in progress
        Assert.True(File.Exists(notOurs));
        Assert.Contains("a memory", a.Snapshot()[kept.Id], StringComparison.Ordinal);
    }
}
