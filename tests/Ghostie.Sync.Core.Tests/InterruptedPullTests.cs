namespace Ghostie.Sync.Tests;

/// <summary>
/// A pull killed part-way (after it wrote some memory files, before it saved the state that records them) must not
/// change what the next sync does: an edit made afterwards follows the version the file showed, exactly as without
/// the kill, so it is no conflict; files the killed pull wrote or deleted are not mistaken for local edits.
/// </summary>
public class InterruptedPullTests
{
    private sealed class Killed() : Exception("killed mid-pull (simulated SIGKILL)");

    /// <summary>
    /// Pulls on <paramref name="device"/> and "kills" it as it starts to read the second pack of this pull: the home
    /// is copied at that instant (what a killed process leaves on disk), the pull is stopped, and the device is
    /// reopened on the copy, as the next process after a SIGKILL would be.
    /// </summary>
    /// <param name="cluster">The repository and its devices.</param>
    /// <param name="device">The device whose pull is killed.</param>
    /// <param name="through">The device's backend, to see its reads.</param>
    /// <param name="whileDown">Runs between the kill and the restart (a host editing a memory file meanwhile).</param>
    private static async Task PullKilledAtSecondPackAsync(Cluster cluster, Device device, InstrumentedBackend through, Action? whileDown = null)
    {
        string snapshot = device.Home.Root + "-at-kill";
        int packs = 0;
        through.BeforeGet = name =>
        {
            if (name.StartsWith("p/", StringComparison.Ordinal) && ++packs == 2)
            {
                CopyFolder(device.Home.Root, snapshot);
                throw new Killed();
            }
        };

        await Assert.ThrowsAsync<Killed>(() => device.Manager.PullAsync());
        through.BeforeGet = null;
        device.Manager.Dispose();
        Directory.Delete(device.Home.Root, recursive: true); // nothing the killed process did after the copy survives
        Directory.Move(snapshot, device.Home.Root);
        whileDown?.Invoke();
        await cluster.ReopenAsync(device);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (string folder in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, folder)));
        }

        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) == ".lock" || Path.GetFileName(Path.GetDirectoryName(file)) == "tmp")
            {
                continue; // held open by the running pull: its lock, and the pack it is reading in sync/tmp (swept at the next start)
            }

            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            File.Copy(file, target);
            File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(file));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // as 'ghostie memory edit' does: the old sync_metadata is dropped
    public async Task EditAfterAKilledPull_OfAMemoryTheKilledPullWrote_IsNoConflict(bool dropSyncMetadata)
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        var through = new InstrumentedBackend(cluster.Storage);
        Device b = await cluster.AddDeviceAsync("b", through);
        MemoryRecord first = a.Add("first, in the first pack");
        a.Add("second, in the first pack");
        await a.SyncAsync();
        a.Add("third, in the second pack");
        await a.SyncAsync();

        // Edited before sync runs again (by a host, or 'ghostie memory edit', which never opens the sync state).
        var files = new LocalMemoryStore(b.Home);
        await PullKilledAtSecondPackAsync(cluster, b, through, whileDown: () =>
        {
            MemoryRecord shown = files.Get(first.Id)!;
            Assert.Equal("first, in the first pack", shown.Content); // the kill came after the first pack
            files.Save(shown with { Content = "edited on b after the kill", SyncMetadata = dropSyncMetadata ? null : shown.SyncMetadata });
        });

        Console.Error.WriteLine("DBG known=" + b.Manager.RecordStates.ContainsKey(first.Id) + " fv=" + (b.Manager.RecordStates.TryGetValue(first.Id, out var rs) ? string.Join(",", rs.FileVector ?? new()) : "-") + " journal=" + File.Exists(Path.Combine(b.Home.SyncPath, "written.jsonl")));
        SyncResult next = await b.SyncAsync();
        Console.Error.WriteLine("DBG up=" + next.Uploaded + " conf=" + next.NewConflicts);
        await a.SyncAsync();

        Assert.True(next.Success, string.Join("; ", next.Problems.Select(p => p.Message)));
        Assert.Equal(0, next.NewConflicts);
        Assert.Empty(b.ConflictIds());
        Assert.Empty(a.ConflictIds());
        Assert.Equal("edited on b after the kill", a.Manager.Memories.Get(first.Id)!.Content);
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KilledPull_ThatUpdatedAMemoryTheDeviceKnew_NextSyncMakesNoSpuriousVersionOrConflict(bool editAfterwards)
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        var through = new InstrumentedBackend(cluster.Storage);
        Device b = await cluster.AddDeviceAsync("b", through);
        MemoryRecord m = a.Add("v1");
        await a.SyncAsync();
        await b.SyncAsync(); // b knows v1
        a.Edit(m.Id, "v2, in the second pack");
        await a.SyncAsync();
        a.Add("in the third pack");
        await a.SyncAsync();

        var files = new LocalMemoryStore(b.Home);
        await PullKilledAtSecondPackAsync(cluster, b, through, whileDown: () =>
        {
            MemoryRecord shown = files.Get(m.Id)!;
            Assert.Equal("v2, in the second pack", shown.Content);
            if (editAfterwards)
            {
                files.Save(shown with { Content = "v3 on b, made after seeing v2", SyncMetadata = null });
            }
        });

        SyncResult next = await b.SyncAsync();
        await a.SyncAsync();

        Assert.True(next.Success, string.Join("; ", next.Problems.Select(p => p.Message)));
        Assert.Equal(editAfterwards ? 1 : 0, next.Uploaded); // sync's own file is not a local edit
        Assert.Empty(b.ConflictIds());
        Assert.Empty(a.ConflictIds());
        Assert.Equal(editAfterwards ? "v3 on b, made after seeing v2" : "v2, in the second pack", a.Manager.Memories.Get(m.Id)!.Content);
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }

    [Fact]
    public async Task KilledBetweenNotingAWriteAndMakingIt_TheFileKeepsItsRealVersion_SoAConcurrentEditStillConflicts()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("v1");
        await a.SyncAsync();
        await b.SyncAsync();
        b.Manager.Dispose();
        // The process died after noting that it would write a (much newer) version of m over the file as it is, before
        // writing it; and while noting the next one (a torn line).
        var file = new FileInfo(b.Home.MemoryPath(m.Id));
        File.WriteAllText(Path.Combine(b.Home.SyncPath, "written.jsonl"),
            $"{{\"id\":\"{m.Id}\",\"h\":\"sha256:{new string('0', 64)}\",\"vv\":{{\"a\":5}},\"d\":false,\"m\":{file.LastWriteTimeUtc.Ticks},\"s\":{file.Length}}}\n{{\"id\":\"{m.Id}\",\"h\":\"sha");
        await cluster.ReopenAsync(b);

        a.Edit(m.Id, "v2 on a");
        await a.SyncAsync();
        b.Edit(m.Id, "edited on b, which never saw v2"); // follows v1, the version its file really shows
        await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal([m.Id], a.ConflictIds()); // not silently superseded by a version claiming to include a's edits
        Assert.Equal([m.Id], b.ConflictIds());
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.False(File.Exists(Path.Combine(b.Home.SyncPath, "written.jsonl"))); // the saved state covers it now
    }

    [Fact]
    public async Task KilledPull_ThatDeletedAMemory_NextSyncCommitsNoSecondDeletion()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        var through = new InstrumentedBackend(cluster.Storage);
        Device b = await cluster.AddDeviceAsync("b", through);
        MemoryRecord m = a.Add("to be deleted");
        await a.SyncAsync();
        await b.SyncAsync();
        a.Manager.Memories.Delete(m.Id);
        await a.SyncAsync();
        a.Add("in the third pack");
        await a.SyncAsync();

        await PullKilledAtSecondPackAsync(cluster, b, through);
        Assert.Null(b.Manager.Memories.Get(m.Id)); // the killed pull deleted the file
        SyncResult next = await b.SyncAsync();
        await a.SyncAsync();

        Assert.Equal(0, next.Uploaded); // the file sync deleted is not the user's deletion
        Assert.Empty(b.ConflictIds());
        Assert.Empty(a.ConflictIds());
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }
}
