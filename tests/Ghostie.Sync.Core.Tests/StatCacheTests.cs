namespace Ghostie.Sync.Tests;

/// <summary>
/// The stat cache (size, modification time, change time, inode; docs/performance.md, "The stat cache"): an unchanged
/// file is never read again, and no change is missed because it kept what the cache compares. One class, so its
/// tests run one after the other (one of them switches statx off for the process).
/// </summary>
public class StatCacheTests
{
    private static readonly TimeSpan PastRacyWindow = TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task EditInPlaceKeepingSizeAndModificationTime_IsCommitted()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("aaaa");
        await Task.Delay(PastRacyWindow); // the stamp the sync takes is then not racy: only ctime can show the edit
        await a.SyncAsync();
        string path = a.Home.MemoryPath(m.Id);
        DateTime written = File.GetLastWriteTimeUtc(path);

        // Same size, modification time put back (touch -r, cp -p, rsync -t do this), same inode.
        File.WriteAllText(path, File.ReadAllText(path).Replace("aaaa", "bbbb", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(path, written);
        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Equal("bbbb", b.Manager.Memories.Get(m.Id)!.Content);
    }

    [Fact]
    public async Task FileReplacedByRenameWithTheSameSizeAndTime_IsCommitted()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("cccc");
        await Task.Delay(PastRacyWindow);
        await a.SyncAsync();
        string path = a.Home.MemoryPath(m.Id);
        DateTime written = File.GetLastWriteTimeUtc(path);

        string other = Path.Combine(a.Home.Root, "replacement.json");
        File.WriteAllText(other, File.ReadAllText(path).Replace("cccc", "dddd", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(other, written);
        File.Move(other, path, overwrite: true);
        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Equal("dddd", b.Manager.Memories.Get(m.Id)!.Content);
    }

    [Fact]
    public async Task TouchWithoutChange_MakesNoVersion()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        MemoryRecord m = a.Add("unchanged");
        await a.SyncAsync();
        string path = a.Home.MemoryPath(m.Id);
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddMinutes(5));

        SyncResult touched = await a.SyncAsync();
        SyncResult again = await a.SyncAsync();

        Assert.True(touched.Success, string.Join("; ", touched.Problems.Select(p => p.Message)));
        Assert.Equal(0, touched.Uploaded);
        Assert.Equal(0, touched.ObjectsWritten);
        Assert.Equal(0, again.ObjectsWritten);
        Assert.Equal(0, (await a.Manager.GetStatusAsync()).PendingPush);
    }

    [Fact]
    public async Task DeletedFile_IsCommittedAsADeletion()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("to delete");
        MemoryRecord kept = a.Add("kept");
        await a.SyncAsync();
        await b.SyncAsync();

        File.Delete(a.Home.MemoryPath(m.Id));
        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Null(b.Manager.Memories.Get(m.Id));
        Assert.Equal("kept", b.Manager.Memories.Get(kept.Id)!.Content);
    }

    [Fact]
    public async Task ModificationTimeInTheFuture_ClockSkew_AnEditKeepingItIsStillCommitted()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("eeee");
        string path = a.Home.MemoryPath(m.Id);
        DateTime future = DateTime.UtcNow.AddHours(3); // written by a machine whose clock is ahead
        File.SetLastWriteTimeUtc(path, future);
        await a.SyncAsync();

        File.WriteAllText(path, File.ReadAllText(path).Replace("eeee", "ffff", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(path, future);
        await a.SyncAsync();
        await b.SyncAsync();

        Assert.Equal("ffff", b.Manager.Memories.Get(m.Id)!.Content);
    }
}
