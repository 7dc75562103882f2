using System.Text.Json;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Tests;

/// <summary>
/// The state is saved as a small delta (a line of <c>sync/state.jsonl</c>), compacted into <c>sync_state.json</c>
/// now and then; and the racy-stamp rule of the stat cache (docs/performance.md, "The stat cache").
/// </summary>
public class StateJournalTests
{
    private static readonly TimeSpan PastRacyWindow = TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task SyncWithNothingToDo_DoesNotRewriteTheStateFile_AndAppendsALineOfNoRecord()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        for (int i = 0; i < 300; i++)
        {
            a.Add($"memory {i}");
        }

        await a.SyncAsync();
        await Task.Delay(PastRacyWindow);
        await a.SyncAsync(); // reads the files whose stamps were racy once more, and trusts them from now on
        string journal = Path.Combine(a.Home.SyncPath, "state.jsonl");
        byte[] stateBefore = File.ReadAllBytes(a.Home.StatePath);
        DateTime stateWritten = File.GetLastWriteTimeUtc(a.Home.StatePath);
        long journalBefore = File.Exists(journal) ? new FileInfo(journal).Length : 0;

        SyncResult result = await a.SyncAsync();

        Assert.True(result.Success);
        Assert.Equal(stateWritten, File.GetLastWriteTimeUtc(a.Home.StatePath));
        Assert.Equal(stateBefore, File.ReadAllBytes(a.Home.StatePath));
        string last = File.ReadLines(journal).Last();
        using JsonDocument line = JsonDocument.Parse(last);
        Assert.Empty(line.RootElement.GetProperty("state").GetProperty("records").EnumerateObject());
        Assert.True(new FileInfo(journal).Length - journalBefore < stateBefore.Length / 20,
            $"a save with nothing changed appended {new FileInfo(journal).Length - journalBefore} bytes; the whole state is {stateBefore.Length}");
    }

    [Fact]
    public async Task EditOfOneMemory_SavesOnlyThatRecord()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        MemoryRecord first = a.Add("first");
        for (int i = 0; i < 50; i++)
        {
            a.Add($"memory {i}");
        }

        await a.SyncAsync();
        await Task.Delay(PastRacyWindow);
        await a.SyncAsync();

        a.Edit(first.Id, "first, edited");
        await a.SyncAsync();

        string journal = Path.Combine(a.Home.SyncPath, "state.jsonl");
        using JsonDocument line = JsonDocument.Parse(File.ReadLines(journal).Last());
        Assert.Equal([first.Id], line.RootElement.GetProperty("state").GetProperty("records").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task TornLastLine_IsIgnored_AndLinesOfAnOlderJournal_AreNotApplied()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        MemoryRecord m = a.Add("one");
        await a.SyncAsync();
        a.Edit(m.Id, "two");
        await a.SyncAsync();
        string journal = Path.Combine(a.Home.SyncPath, "state.jsonl");
        Assert.True(File.Exists(journal));

        // A line of a journal the base file does not name (a compaction that crashed before deleting it) that would
        // drop every version of the memory, and a line torn by a crash (no newline).
        string stale = """{"g":"0000000000000000","state":{"format":2,"journal":"0000000000000000","records":{"X":{"v":[]}}}}""";
        File.AppendAllText(journal, stale.Replace("\"X\"", "\"" + m.Id + "\"", StringComparison.Ordinal) + "\n");
        File.AppendAllText(journal, """{"g":"abc","state":{"format":2,"rec""");
        await cluster.ReopenAsync(a);

        a.Edit(m.Id, "three");
        SyncResult result = await a.SyncAsync();
        await b.SyncAsync();

        Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));
        Assert.Equal("three", b.Manager.Memories.Get(m.Id)!.Content);
        Assert.Empty(b.ConflictIds());
        Assert.Equal(0, (await a.Manager.GetStatusAsync()).PendingPush);
    }

    [Fact]
    public async Task GrownJournal_IsCompactedIntoTheStateFile()
    {
        long saved = SyncStateStore.CompactMinimumBytes;
        SyncStateStore.CompactMinimumBytes = 1;
        try
        {
            using var cluster = new Cluster();
            Device a = await cluster.AddDeviceAsync("a");
            Device b = await cluster.AddDeviceAsync("b");
            MemoryRecord m = a.Add("v0");
            await a.SyncAsync();
            string journal = Path.Combine(a.Home.SyncPath, "state.jsonl");
            var sizes = new List<long>();
            for (int i = 1; i <= 12; i++)
            {
                a.Edit(m.Id, $"v{i}");
                await a.SyncAsync();
                sizes.Add(File.Exists(journal) ? new FileInfo(journal).Length : 0);
            }

            await cluster.ReopenAsync(a);
            await b.SyncAsync();

            Assert.Contains(0L, sizes); // compacted (journal deleted) at least once ...
            Assert.Contains(sizes, s => s > 0); // ... and appended to in between
            Assert.Equal("v12", b.Manager.Memories.Get(m.Id)!.Content);
            Assert.Equal(0, (await a.Manager.GetStatusAsync()).PendingPush);
        }
        finally
        {
            SyncStateStore.CompactMinimumBytes = saved;
        }
    }

    [Fact]
    public async Task WithoutCtimeAndInode_AnEditKeepingSizeAndTimeRightAfterASync_IsCaughtByTheRacyRule()
    {
        bool statx = FileStat.UseStatx;
        FileStat.UseStatx = false; // as on a system without statx: only size and modification time compare
        try
        {
            using var cluster = new Cluster();
            Device a = await cluster.AddDeviceAsync("a");
            Device b = await cluster.AddDeviceAsync("b");
            MemoryRecord m = a.Add("gggg");
            await a.SyncAsync(); // the file was written a moment ago: its stamp is racy
            string path = a.Home.MemoryPath(m.Id);
            DateTime written = File.GetLastWriteTimeUtc(path);

            File.WriteAllText(path, File.ReadAllText(path).Replace("gggg", "hhhh", StringComparison.Ordinal));
            File.SetLastWriteTimeUtc(path, written); // an edit in the same clock tick: same size, same time
            await a.SyncAsync();
            await b.SyncAsync();

            Assert.Equal("hhhh", b.Manager.Memories.Get(m.Id)!.Content);
        }
        finally
        {
            FileStat.UseStatx = statx;
        }
    }

    [Fact]
    public void RacyRule_FineAndCoarseTimestamps_AndTheFuture()
    {
        DateTime now = new(2026, 12, 7, 10, 0, 0, 500, DateTimeKind.Utc);
        FileStat Fine(TimeSpan age) => new(true, 10, (now - age).Ticks + 1234, (now - age).Ticks + 1234, 42);
        FileStat Coarse(TimeSpan age) => new(true, 10, (now - age).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, 0, 0);

        Assert.True(Fine(TimeSpan.FromMilliseconds(20)).IsRacy(now));
        Assert.False(Fine(TimeSpan.FromMilliseconds(300)).IsRacy(now));
        Assert.True(Coarse(TimeSpan.FromMilliseconds(1500)).IsRacy(now)); // a 1-2 s clock: could still be written again in the same tick
        Assert.False(Coarse(TimeSpan.FromSeconds(5)).IsRacy(now));
        Assert.True(Fine(TimeSpan.FromHours(-3)).IsRacy(now)); // clock skew: in the future until the clock passes it

        var record = new RecordState();
        record.Stamp(Fine(TimeSpan.FromMilliseconds(20)), now);
        Assert.True(record.SameFile(Fine(TimeSpan.FromMilliseconds(20))));
        Assert.False(record.Unchanged(Fine(TimeSpan.FromMilliseconds(20)))); // racy: read once more
        record.Stamp(Fine(TimeSpan.FromMilliseconds(20)), now + TimeSpan.FromSeconds(1));
        Assert.True(record.Unchanged(Fine(TimeSpan.FromMilliseconds(20))));
        Assert.False(record.Unchanged(Fine(TimeSpan.FromMilliseconds(20)) with { Inode = 43 })); // replaced by a rename
        Assert.False(record.Unchanged(Fine(TimeSpan.FromMilliseconds(20)) with { ChangeTicks = now.Ticks })); // mtime put back
    }
}
