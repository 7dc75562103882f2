using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Testing;

/// <summary>
/// The sync protocol end to end over a backend: devices with homes of their own, each with its own backend on one
/// store, push, pull, conflict and converge; and a randomized simulation with fixed seeds (many devices, random
/// interleavings) ends with the same memories everywhere and no version ever written lost. A backend's test project
/// derives one class per server and implements <see cref="CreateStoreAsync"/>; it may replace
/// <see cref="SimulationRuns"/> (a <c>public static new</c> property) to size the simulation for its server.
/// </summary>
public abstract class SyncProtocolConformanceTests
{
    /// <summary>Seed, device count, operations, workload, and whether the run's syncs must meet concurrent edits (a
    /// check that the seed exercises conflicts at all), of each simulation run (deriving classes may hide it with
    /// their own runs: <see cref="SimulationRunsAttribute"/> reads the property from the test class first).</summary>
    public static TheoryData<int, int, int, SimulationWorkload, bool> SimulationRuns => new()
    {
        { 7, 2, 60, SimulationWorkload.Full, true },
    };

    /// <summary>A fresh, empty store for one test: each call of the function returned opens one more backend on it
    /// (with a client of its own where the backend has one). The cluster disposes what it opens.</summary>
    protected abstract Task<Func<Task<IStorageBackend>>> CreateStoreAsync();

    /// <summary>Changes every device's options (pack sizes, say, so packs span a backend's chunks).</summary>
    /// <param name="options">The options the cluster made.</param>
    protected virtual void ConfigureDevice(GhostieSyncOptions options)
    {
    }

    /// <summary>Looks at the store behind the backend's back after the two-device test (raw names and bytes).</summary>
    /// <param name="cluster">The cluster, its devices and their backends.</param>
    /// <param name="plaintexts">Memory texts that must appear nowhere in the store.</param>
    protected virtual Task AssertStoreAsync(Cluster cluster, IReadOnlyList<string> plaintexts) => Task.CompletedTask;

    private static void AssertSuccess(SyncResult result) =>
        Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));

    private async Task<Cluster> NewClusterAsync() => new(await CreateStoreAsync()) { ConfigureOptions = ConfigureDevice };

    [Fact]
    public async Task TwoDevices_PushPullEditConflictAndDelete_Converge()
    {
        await using Cluster cluster = await NewClusterAsync();
        Device laptop = await cluster.AddDeviceAsync("laptop");
        Device phone = await cluster.AddDeviceAsync("phone");
        var random = new Random(17);
        List<MemoryRecord> added = [.. Enumerable.Range(0, 60).Select(i =>
            laptop.Add($"laptop memory {i} " + new string([.. Enumerable.Range(0, random.Next(200, 3000)).Select(_ => (char)('a' + random.Next(26)))])))];

        SyncResult pushed = await laptop.Manager.PushAsync();
        AssertSuccess(pushed);
        Assert.Equal(60, pushed.Uploaded);
        SyncResult pulled = await phone.Manager.PullAsync();
        AssertSuccess(pulled);
        Assert.Equal(60, pulled.Downloaded);
        Assert.Equal(added[0].Content, phone.Manager.Memories.Get(added[0].Id)?.Content);
        Assert.Equal(laptop.Snapshot(), phone.Snapshot());

        // Both edit one memory offline; the phone also adds one and deletes one.
        laptop.Edit(added[7].Id, "edited on the laptop");
        phone.Edit(added[7].Id, "edited on the phone");
        MemoryRecord fromPhone = phone.Add("from the phone");
        Assert.True(phone.Manager.Memories.Delete(added[3].Id));
        for (int round = 0; round < 2; round++)
        {
            AssertSuccess(await laptop.SyncAsync());
            AssertSuccess(await phone.SyncAsync());
        }

        SortedDictionary<string, string> converged = laptop.Snapshot();
        Assert.Equal(converged, phone.Snapshot());
        Assert.Equal(60, converged.Count);
        Assert.Contains(fromPhone.Id, converged.Keys);
        Assert.DoesNotContain(added[3].Id, converged.Keys);
        Assert.Contains(laptop.Manager.Memories.Get(added[7].Id)!.Content, new[] { "edited on the laptop", "edited on the phone" });
        Assert.Equal([added[7].Id], laptop.ConflictIds());
        Assert.Equal(laptop.ConflictIds(), phone.ConflictIds());
        Assert.Equal(laptop.Manager.ListConflicts().Select(c => c.Id), phone.Manager.ListConflicts().Select(c => c.Id));

        // What the store holds, read through the backend: opaque names, and ciphertext only (no memory text, no device name).
        string[] plaintexts = ["laptop memory 1", "edited on the", "from the phone"];
        List<string> names = await StorageReads.ListAllAsync(cluster.Storage, "");
        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.True(ObjectName.IsValid(n), n));
        Assert.DoesNotContain(names, n => n.Contains("laptop", StringComparison.Ordinal) || n.Contains("phone", StringComparison.Ordinal));
        foreach (string name in names)
        {
            string text = System.Text.Encoding.Latin1.GetString((await StorageReads.ReadAllAsync(cluster.Storage, name))!);
            Assert.All(plaintexts, p => Assert.DoesNotContain(p, text, StringComparison.Ordinal));
        }

        await AssertStoreAsync(cluster, plaintexts);
    }

    /// <summary>
    /// Several devices doing random work with a fixed seed. After everyone syncs: identical memories everywhere, every
    /// surviving concurrent version kept as exactly one conflict record per device, and no version that was ever
    /// written lost (each is included in what remains). The large version of this lives in benchmarks/.
    /// </summary>
    [Theory]
    [SimulationRuns]
    public async Task RandomOperations_AllDevicesConverge_NothingLost(int seed, int deviceCount, int operations, SimulationWorkload workload, bool conflictsExpected)
    {
        var random = new Random(seed);
        await using Cluster cluster = await NewClusterAsync();
        var created = new List<PackEntry>();
        for (int i = 0; i < deviceCount; i++)
        {
            Device device = await cluster.AddDeviceAsync($"dev{i}");
            device.Manager.LocalVersionCommitted += created.Add;
        }

        var offline = new bool[deviceCount];
        int conflictsSeen = 0;
        for (int op = 0; op < operations; op++)
        {
            int d = random.Next(deviceCount);
            Device device = cluster.Devices[d];
            conflictsSeen += workload == SimulationWorkload.Full
                ? await FullStepAsync(random, op, device, offline, d)
                : await EditsAndSyncsStepAsync(random, op, device);
            cluster.Time.Advance(TimeSpan.FromMilliseconds(random.Next(0, 50)));
        }

        // Everyone comes online and syncs until nothing moves (two rounds suffice: one to publish, one to receive).
        for (int round = 0; round < 2; round++)
        {
            foreach (Device device in cluster.Devices)
            {
                AssertSuccess(await device.SyncAsync());
            }
        }

        Device first = cluster.Devices[0];
        SortedDictionary<string, string> expected = first.Snapshot();
        foreach (Device device in cluster.Devices)
        {
            Assert.Equal(expected, device.Snapshot());
            Assert.Equal(first.ConflictIds(), device.ConflictIds());
            Assert.Equal(first.Manager.ListConflicts().Select(c => c.Id), device.Manager.ListConflicts().Select(c => c.Id));
            Assert.Equal(Frontier(first), Frontier(device));
            foreach ((string id, RecordState record) in device.Manager.RecordStates)
            {
                // A conflict record exists exactly when concurrent versions of different contents survive (equal
                // ones, such as two concurrent deletions, are one choice), and lists each other content once.
                int contents = record.Versions.Select(v => v.Hash).Distinct(StringComparer.Ordinal).Count();
                Assert.Equal(contents > 1, File.Exists(device.Home.ConflictPath(id)));
                if (contents > 1)
                {
                    ConflictInfo conflict = device.Manager.GetConflict(id)!;
                    Assert.Equal(contents - 1, conflict.Others.Count);
                    Assert.Equal(record.Versions.DistinctBy(v => v.Hash).Select(v => v.Origin), new[] { conflict.Current.DeviceId }.Concat(conflict.Others.Select(o => o.DeviceId)));
                }

                Assert.Equal(!record.Winner.Deleted, File.Exists(device.Home.MemoryPath(id)));
            }

            // Nothing written was lost: every version ever committed is included in a surviving version.
            foreach (PackEntry version in created)
            {
                VersionVector vector = VersionVector.From(version.VersionVector);
                Assert.True(device.Manager.RecordStates.TryGetValue(version.Id, out RecordState? record), $"{device.Id} lost memory {version.Id}");
                Assert.Contains(record.Versions, v => v.Vector.Includes(vector));
            }
        }

        Assert.NotEmpty(created);
        Assert.True(conflictsSeen > 0 || !conflictsExpected, "the simulation should exercise concurrent edits");
    }

    /// <summary>One operation of <see cref="SimulationWorkload.Full"/>; the new conflicts a sync found.</summary>
    private static async Task<int> FullStepAsync(Random random, int op, Device device, bool[] offline, int d)
    {
        List<string> ids = [.. device.Snapshot().Keys];
        int kind = random.Next(100);
        if (kind < 30 || ids.Count == 0)
        {
            device.Add($"memory {op} by {device.Id} {random.Next()}");
        }
        else if (kind < 55)
        {
            device.Edit(ids[random.Next(ids.Count)], $"edit {op} by {device.Id} {random.Next()}");
        }
        else if (kind < 62)
        {
            device.Manager.Memories.Delete(ids[random.Next(ids.Count)]);
        }
        else if (kind < 70)
        {
            offline[d] = !offline[d];
        }
        else if (kind < 75 && device.Manager.ListConflicts() is { Count: > 0 } conflicts)
        {
            ConflictChoice choice = (ConflictChoice)random.Next(3);
            try
            {
                await device.Manager.ResolveConflictAsync(conflicts[random.Next(conflicts.Count)].Id, choice);
            }
            catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.NotFound)
            {
                // A local edit committed just before settled it already.
            }
            catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.InvalidArgument && choice == ConflictChoice.KeepMine)
            {
                // Keep mine on a device that wrote none of the versions: refused, nothing changed.
                Assert.Contains($"('{device.Id}') wrote none of the versions", ex.Message, StringComparison.Ordinal);
            }
        }
        else if (!offline[d])
        {
            return await RandomSyncAsync(random, device);
        }

        return 0;
    }

    /// <summary>One operation of <see cref="SimulationWorkload.EditsAndSyncs"/>; the new conflicts a sync found.</summary>
    private static async Task<int> EditsAndSyncsStepAsync(Random random, int op, Device device)
    {
        List<string> ids = [.. device.Snapshot().Keys];
        int kind = random.Next(100);
        if (kind < 35 || ids.Count == 0)
        {
            device.Add($"memory {op} by {device.Id}");
        }
        else if (kind < 60)
        {
            device.Edit(ids[random.Next(ids.Count)], $"edit {op} by {device.Id}");
        }
        else if (kind < 67)
        {
            device.Manager.Memories.Delete(ids[random.Next(ids.Count)]);
        }
        else
        {
            return await RandomSyncAsync(random, device);
        }

        return 0;
    }

    private static async Task<int> RandomSyncAsync(Random random, Device device)
    {
        SyncResult result = random.Next(3) switch
        {
            0 => await device.Manager.PushAsync(),
            1 => await device.Manager.PullAsync(),
            _ => await device.SyncAsync(),
        };
        AssertSuccess(result);
        return result.NewConflicts;
    }

    private static string Frontier(Device device) =>
        string.Join("\n", device.Manager.RecordStates.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => r.Key + "=" + string.Join("|", r.Value.Versions.Select(v => v.Vector + v.Hash + v.Origin))));
}
