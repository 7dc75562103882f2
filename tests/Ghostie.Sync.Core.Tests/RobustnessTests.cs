using System.Text;

namespace Ghostie.Sync.Tests;

public class CrashConsistencyTests
{
    /// <summary>
    /// A push interrupted at its k-th request, for every k: the repository stays readable by another device, a
    /// retry completes, and the other device ends with exactly the pushed memories (nothing lost or duplicated).
    /// </summary>
    [Fact]
    public async Task Push_FailingAtEveryRequest_StaysReadable_RetryCompletes()
    {
        int requestsOfCleanPush = await CountPushRequestsAsync();
        Assert.InRange(requestsOfCleanPush, 4, 40);
        for (int k = 1; k <= requestsOfCleanPush; k++)
        {
            var faulty = new InstrumentedBackend(new InMemoryStorageBackend());
            using var cluster = new Cluster(faulty);
            Device a = await cluster.AddDeviceAsync("a");
            Device b = await cluster.AddDeviceAsync("b");
            a.Add("before 1");
            a.Add("before 2");
            await a.SyncAsync();
            for (int i = 0; i < 6; i++)
            {
                a.Add($"new {i} " + new string('x', 40_000)); // several chunks per pack
            }

            faulty.Reset();
            faulty.FailAt = k;
            await Assert.ThrowsAsync<GhostieSyncException>(() => a.Manager.PushAsync());
            faulty.FailAt = null;

            SyncResult meanwhile = await b.SyncAsync(); // readable at any moment
            Assert.True(meanwhile.Success, $"k={k}: " + string.Join("; ", meanwhile.Problems.Select(p => p.Message)));

            SyncResult retry = await a.SyncAsync();
            Assert.True(retry.Success, $"k={k}: " + string.Join("; ", retry.Problems.Select(p => p.Message)));
            await b.SyncAsync();
            Assert.Equal(8, b.Snapshot().Count);
            Assert.Equal(a.Snapshot(), b.Snapshot());
            Assert.Empty(b.ConflictIds());
            Assert.Equal(0, (await a.Manager.GetStatusAsync()).PendingPush);
        }
    }

    [Fact]
    public async Task Pull_FailingAtEveryRequest_RetryCompletes_NothingDuplicated()
    {
        for (int k = 1; k <= 12; k++)
        {
            var shared = new InMemoryStorageBackend();
            var faulty = new InstrumentedBackend(shared);
            using var cluster = new Cluster(shared);
            Device a = await cluster.AddDeviceAsync("a");
            Device b = await cluster.AddDeviceAsync("b", through: faulty);
            for (int i = 0; i < 5; i++)
            {
                a.Add($"m{i} " + new string('y', 30_000));
                await a.SyncAsync(); // several packs
            }

            faulty.Reset();
            faulty.FailAt = k;
            try
            {
                await b.Manager.PullAsync();
            }
            catch (GhostieSyncException)
            {
                // a failure outside the per-device isolation (the listing itself)
            }

            faulty.FailAt = null;
            SyncResult retry = await b.Manager.PullAsync();
            Assert.True(retry.Success, $"k={k}: " + string.Join("; ", retry.Problems.Select(p => p.Message)));
            Assert.Equal(a.Snapshot(), b.Snapshot());
            Assert.Equal(5, b.Snapshot().Count);
        }
    }

    [Fact]
    public async Task LostStateFile_IsRebuiltFromOutbox_NothingLost()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("committed but not pushed");
        await a.Manager.PullAsync(); // commits into the outbox, pushes nothing
        File.Delete(a.Home.StatePath); // as if the process died before the state was saved

        await a.Manager.PushAsync();
        await b.SyncAsync();

        Assert.Equal("committed but not pushed", Assert.Single(b.Snapshot()).Value.Split("\"content\":\"")[1].Split('"')[0]);
    }

    private static async Task<int> CountPushRequestsAsync()
    {
        var counting = new InstrumentedBackend(new InMemoryStorageBackend());
        using var cluster = new Cluster(counting);
        Device a = await cluster.AddDeviceAsync("a");
        await cluster.AddDeviceAsync("b");
        a.Add("before 1");
        a.Add("before 2");
        await a.SyncAsync();
        for (int i = 0; i < 6; i++)
        {
            a.Add($"new {i} " + new string('x', 40_000));
        }

        counting.Reset();
        await a.Manager.PushAsync();
        return counting.Requests;
    }
}

public class TamperingTests
{
    private static async Task<(Cluster Cluster, Device A, Device B, InMemoryStorageBackend Storage)> PushedAsync()
    {
        var storage = new InMemoryStorageBackend();
        var cluster = new Cluster(storage);
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("secret memory one");
        await a.SyncAsync();
        return (cluster, a, b, storage);
    }

    private static async Task<List<string>> NamesAsync(IStorageBackend storage, string prefix)
    {
        var names = new List<string>();
        await foreach (string name in storage.ListAsync(prefix))
        {
            names.Add(name);
        }

        return names;
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    public async Task ModifiedOrTruncatedPack_IsReportedByName_AndNotApplied(string how)
    {
        (Cluster cluster, Device _, Device b, InMemoryStorageBackend storage) = await PushedAsync();
        using (cluster)
        {
            string pack = (await NamesAsync(storage, "p/")).Single();
            byte[] raw = storage.GetRaw(pack)!;
            storage.SetRaw(pack, how == "flip" ? Flip(raw, raw.Length / 2) : raw[..^10]);

            SyncResult result = await b.SyncAsync();

            SyncProblem problem = Assert.Single(result.Problems);
            Assert.Equal(GhostieErrorCode.IntegrityFailure, problem.Code);
            Assert.Contains(pack, problem.Message);
            Assert.Empty(b.Snapshot());
        }
    }

    [Fact]
    public async Task PackSwappedWithAnotherValidPack_IsReportedByName()
    {
        (Cluster cluster, Device a, Device b, InMemoryStorageBackend storage) = await PushedAsync();
        using (cluster)
        {
            a.Add("second");
            await a.SyncAsync();
            List<string> packs = await NamesAsync(storage, "p/");
            byte[] first = storage.GetRaw(packs[0])!;
            storage.SetRaw(packs[0], storage.GetRaw(packs[1])!);
            storage.SetRaw(packs[1], first);

            SyncResult result = await b.SyncAsync();

            Assert.Contains(result.Problems, p => p.Code == GhostieErrorCode.IntegrityFailure && packs.Any(p.Message.Contains));
        }
    }

    [Fact]
    public async Task ModifiedHead_IsReportedByName()
    {
        (Cluster cluster, Device _, Device b, InMemoryStorageBackend storage) = await PushedAsync();
        using (cluster)
        {
            string head = (await NamesAsync(storage, "h/")).Single();
            storage.SetRaw(head, Flip(storage.GetRaw(head)!, 60));

            SyncResult result = await b.SyncAsync();

            Assert.Contains(head, Assert.Single(result.Problems).Message);
            Assert.Empty(b.Snapshot());
        }
    }

    [Fact]
    public async Task HeadReplayedUnderAnotherName_FailsAuthentication()
    {
        (Cluster cluster, Device _, Device b, InMemoryStorageBackend storage) = await PushedAsync();
        using (cluster)
        {
            string head = (await NamesAsync(storage, "h/")).Single();
            string moved = head[..^4] + "abcd";
            storage.SetRaw(moved, storage.GetRaw(head)!);
            await storage.DeleteAsync(head);

            SyncResult result = await b.SyncAsync();

            Assert.Equal(GhostieErrorCode.IntegrityFailure, Assert.Single(result.Problems).Code);
        }
    }

    [Fact]
    public async Task OlderHeadServedAfterNewer_IsReportedAsRollback_AndNotApplied()
    {
        (Cluster cluster, Device a, Device b, InMemoryStorageBackend storage) = await PushedAsync();
        using (cluster)
        {
            string oldHead = (await NamesAsync(storage, "h/")).Single();
            byte[] oldBytes = storage.GetRaw(oldHead)!;
            await b.SyncAsync();
            a.Add("newer");
            await a.SyncAsync();
            await b.SyncAsync();
            a.Add("newest");
            await a.SyncAsync();

            // The provider rolls a's head back to the first one.
            foreach (string h in (await NamesAsync(storage, "h/")).Where(n => n.Split('/')[1] == oldHead.Split('/')[1]))
            {
                await storage.DeleteAsync(h);
            }

            storage.SetRaw(oldHead, oldBytes);
            SyncResult result = await b.SyncAsync();

            SyncProblem problem = Assert.Single(result.Problems);
            Assert.Equal(GhostieErrorCode.Rollback, problem.Code);
            Assert.Contains("rollback", problem.Message);
            Assert.Equal(2, b.Snapshot().Count); // what it had; nothing from the old head re-applied, "newest" not seen
        }
    }

    [Fact]
    public async Task StoredBytes_RevealNoDeviceIdMemoryIdOrContent()
    {
        (Cluster cluster, Device a, Device _, InMemoryStorageBackend storage) = await PushedAsync();
        using (cluster)
        {
            MemoryRecord memory = a.Add("zebra-unique-content-marker");
            await a.SyncAsync();
            foreach (string name in await NamesAsync(storage, ""))
            {
                Assert.True(name.Length <= 64 && ObjectName.IsValid(name), name);
                string all = name + Encoding.Latin1.GetString(storage.GetRaw(name)!);
                Assert.DoesNotContain("zebra", all);
                Assert.DoesNotContain(memory.Id, all);
                Assert.DoesNotContain("a name", all);
                Assert.DoesNotContain("note", all);
            }
        }
    }

    private static byte[] Flip(byte[] raw, int at)
    {
        byte[] copy = (byte[])raw.Clone();
        copy[at] ^= 0x20;
        return copy;
    }
}
