using System.Text;

namespace Ghostie.Sync.Tests;

/// <summary>
/// A device's head never disappears legitimately (no operation removes one: a push replaces it, compaction retires
/// packs only). A head that is gone, deleted by hand or by a storage or sync tool, is a device's history that other
/// devices can no longer receive: reported, naming the device, on devices that had seen it and on new ones.
/// </summary>
public class MissingHistoryTests
{
    private static string PrefixOf(Device device) => device.Manager.Keys.DeriveObjectName("", "device-prefix", Encoding.UTF8.GetBytes(device.Id));

    private static async Task DeleteHeadsAsync(IStorageBackend storage, Device device)
    {
        var names = new List<string>();
        await foreach (string name in storage.ListAsync("h/" + PrefixOf(device) + "/"))
        {
            names.Add(name);
        }

        Assert.NotEmpty(names);
        foreach (string name in names)
        {
            await storage.DeleteAsync(name);
        }
    }

    private static async Task<int> CountAsync(IStorageBackend storage, string prefix)
    {
        int count = 0;
        await foreach (string _ in storage.ListAsync(prefix))
        {
            count++;
        }

        return count;
    }

    [Fact]
    public async Task Pull_HeadOfADeviceSeenBefore_IsGone_ReportsItNamingTheDevice_AndKeepsItsMemories()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        for (int i = 0; i < 3; i++)
        {
            a.Add($"from a {i}");
        }

        await a.SyncAsync();
        await b.SyncAsync();
        await DeleteHeadsAsync(cluster.Storage, a);

        SyncResult result = await b.SyncAsync();

        SyncProblem problem = Assert.Single(result.Problems);
        Assert.False(result.Success);
        Assert.Equal("a", problem.Subject);
        Assert.Equal(GhostieErrorCode.Rollback, problem.Code);
        Assert.Contains("device 'a'", problem.Message, StringComparison.Ordinal);
        Assert.Contains("h/" + PrefixOf(a) + "/", problem.Message, StringComparison.Ordinal);
        Assert.Equal(3, b.Snapshot().Count); // nothing deleted because of it
        Assert.Contains((await b.Manager.GetStatusAsync()).KnownDevices, d => d.DeviceId == "a");

        // Reported on every sync until the head is back, not only once.
        Assert.Single((await b.Manager.PullAsync()).Problems);
    }

    [Fact]
    public async Task Pull_NewDevice_HistoryOfADeviceOthersHaveSeen_IsMissing_ReportsItNamingTheDevice()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        var fromA = new List<MemoryRecord>();
        for (int i = 0; i < 8; i++)
        {
            fromA.Add(a.Add($"from a {i}"));
        }

        await a.SyncAsync();
        await b.SyncAsync();
        for (int i = 0; i < 11; i++)
        {
            b.Add($"from b {i}");
        }

        b.Edit(fromA[0].Id, "edited on b"); // b's version of it includes a's edit
        await b.SyncAsync();
        await DeleteHeadsAsync(cluster.Storage, a);

        Device c = await cluster.AddDeviceAsync("c");
        SyncResult result = await c.SyncAsync();

        Assert.Equal(12, c.Snapshot().Count); // 12 of the 20 memories: the other 8 are only in a's history
        SyncProblem problem = Assert.Single(result.Problems);
        Assert.Equal("a", problem.Subject);
        Assert.Contains("device 'a'", problem.Message, StringComparison.Ordinal);
        Assert.Contains("device 'b'", problem.Message, StringComparison.Ordinal); // who has seen it
        Assert.Contains("h/" + PrefixOf(a) + "/", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pull_NewDevice_OnlyAnAcknowledgementNamesTheMissingDevice_ReportsItsPrefixAndWhoSawIt()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("from a");
        await a.SyncAsync();
        await b.SyncAsync();
        b.Add("from b");
        await b.SyncAsync(); // b's head acknowledges a's
        await DeleteHeadsAsync(cluster.Storage, a);

        Device c = await cluster.AddDeviceAsync("c");
        SyncResult result = await c.SyncAsync();

        SyncProblem problem = Assert.Single(result.Problems);
        Assert.Equal("device prefix " + PrefixOf(a), problem.Subject);
        Assert.Contains("device 'b'", problem.Message, StringComparison.Ordinal);
        Assert.Single(c.Snapshot());
    }

    [Fact]
    public async Task Pull_NewestHeadGone_AnOlderLeftoverHeadStillThere_IsReportedAsRollback()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("first");
        await a.SyncAsync();
        string prefix = "h/" + PrefixOf(a) + "/";
        var storage = (InMemoryStorageBackend)cluster.Storage;
        string oldHead = (await ListAsync(storage, prefix)).Single();
        byte[] oldBytes = storage.GetRaw(oldHead)!;
        a.Add("second");
        await a.SyncAsync();
        storage.SetRaw(oldHead, oldBytes); // a crash left the older head beside the newer one
        await b.SyncAsync(); // applies the newer
        await b.SyncAsync(); // reads the older once and remembers it as a leftover
        foreach (string head in (await ListAsync(storage, prefix)).Where(n => n != oldHead))
        {
            await storage.DeleteAsync(head);
        }

        SyncResult result = await b.SyncAsync();

        SyncProblem problem = Assert.Single(result.Problems);
        Assert.Equal(GhostieErrorCode.Rollback, problem.Code);
        Assert.Contains("'a'", problem.Message, StringComparison.Ordinal);
        Assert.Equal(2, b.Snapshot().Count);
    }

    [Fact]
    public async Task Sync_DeviceWhoseOwnHeadIsGone_WritesItAgainEvenWithNothingToPush_SoOthersGetItsHistory()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        for (int i = 0; i < 5; i++)
        {
            a.Add($"from a {i}");
        }

        await a.SyncAsync();
        await DeleteHeadsAsync(cluster.Storage, a);

        SyncResult owner = await a.SyncAsync(); // nothing new to push

        Assert.Contains(owner.Problems, p => p.Code == GhostieErrorCode.Rollback && p.Subject == "this device");
        Assert.Equal(1, await CountAsync(cluster.Storage, "h/" + PrefixOf(a) + "/"));
        Device c = await cluster.AddDeviceAsync("c");
        SyncResult joined = await c.SyncAsync();
        Assert.True(joined.Success, string.Join("; ", joined.Problems.Select(p => p.Message)));
        Assert.Equal(5, c.Snapshot().Count);
    }

    [Fact]
    public async Task Pull_HeadRestored_ProblemGoesAway()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("from a");
        await a.SyncAsync();
        await b.SyncAsync();
        var storage = (InMemoryStorageBackend)cluster.Storage;
        string head = (await ListAsync(storage, "h/" + PrefixOf(a) + "/")).Single();
        byte[] bytes = storage.GetRaw(head)!;
        await storage.DeleteAsync(head);
        Assert.Single((await b.SyncAsync()).Problems);

        storage.SetRaw(head, bytes); // restored from a backup

        SyncResult result = await b.SyncAsync();
        Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));
    }

    private static async Task<List<string>> ListAsync(IStorageBackend storage, string prefix)
    {
        var names = new List<string>();
        await foreach (string name in storage.ListAsync(prefix))
        {
            names.Add(name);
        }

        return names;
    }
}
