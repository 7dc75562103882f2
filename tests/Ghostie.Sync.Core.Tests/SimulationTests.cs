using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Tests;

/// <summary>
/// Several devices doing random work (add, edit, delete, going offline, syncing in random order) with fixed seeds.
/// After everyone syncs: identical memories everywhere, every surviving concurrent version kept as exactly one
/// conflict record per device, and no version that was ever written lost (each is included in what remains).
/// The large version of this lives in benchmarks/; this one stays small and fast.
/// </summary>
public class SimulationTests
{
    [Theory]
    [InlineData(1, 3, 300)]
    [InlineData(2, 4, 300)]
    [InlineData(3, 5, 250)]
    public async Task RandomOperations_AllDevicesConverge_NothingLost(int seed, int deviceCount, int operations)
    {
        var random = new Random(seed);
        using var cluster = new Cluster();
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
            List<string> ids = device.Snapshot().Keys.ToList();
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
                SyncResult result = random.Next(3) switch
                {
                    0 => await device.Manager.PushAsync(),
                    1 => await device.Manager.PullAsync(),
                    _ => await device.SyncAsync(),
                };
                Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));
                conflictsSeen += result.NewConflicts;
            }

            cluster.Time.Advance(TimeSpan.FromMilliseconds(random.Next(0, 50)));
        }

        // Everyone comes online and syncs until nothing moves (two rounds suffice: one to publish, one to receive).
        for (int round = 0; round < 2; round++)
        {
            foreach (Device device in cluster.Devices)
            {
                SyncResult result = await device.SyncAsync();
                Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));
            }
        }

        Device first = cluster.Devices[0];
        SortedDictionary<string, string> expected = first.Snapshot();
        foreach (Device device in cluster.Devices)
        {
            Assert.Equal(expected, device.Snapshot());
            Assert.Equal(first.ConflictIds(), device.ConflictIds());
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
        Assert.True(conflictsSeen > 0, "the simulation should exercise concurrent edits");
    }

    private static string Frontier(Device device) =>
        string.Join("\n", device.Manager.RecordStates.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => r.Key + "=" + string.Join("|", r.Value.Versions.Select(v => v.Vector + v.Hash + v.Origin))));
}
