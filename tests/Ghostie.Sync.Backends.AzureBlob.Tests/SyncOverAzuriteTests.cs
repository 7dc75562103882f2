using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Tests;

/// <summary>The whole sync protocol with its repository in an Azurite container: devices push, pull and converge,
/// and a smaller version of the core multi-device simulation ends in the same state everywhere, nothing lost.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SyncOverAzuriteTests(AzuriteFixture azurite)
{
    private static void AssertSuccess(SyncResult result) =>
        Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));

    [Fact]
    public async Task TwoDevices_PushPullEditConflictAndDelete_Converge()
    {
        using AzureBlobBackend storage = await azurite.NewBackendAsync(o => o.Prefix = "ghostie/shared");
        using var cluster = new Cluster(storage);
        Device laptop = await cluster.AddDeviceAsync("laptop");
        Device phone = await cluster.AddDeviceAsync("phone");

        List<MemoryRecord> added = [.. Enumerable.Range(0, 25).Select(i => laptop.Add($"laptop memory {i}"))];
        AssertSuccess(await laptop.SyncAsync());
        AssertSuccess(await phone.SyncAsync());
        Assert.Equal(laptop.Snapshot(), phone.Snapshot());
        Assert.Equal(25, phone.Snapshot().Count);

        // Both edit one memory offline; the phone also adds and deletes.
        laptop.Edit(added[3].Id, "laptop's edit");
        phone.Edit(added[3].Id, "phone's edit");
        phone.Add("from the phone");
        phone.Manager.Memories.Delete(added[7].Id);
        AssertSuccess(await laptop.SyncAsync());
        AssertSuccess(await phone.SyncAsync());
        AssertSuccess(await laptop.SyncAsync());

        Assert.Equal(laptop.Snapshot(), phone.Snapshot());
        Assert.Equal(25, laptop.Snapshot().Count);
        Assert.DoesNotContain(added[7].Id, laptop.Snapshot().Keys);
        Assert.Equal([added[3].Id], laptop.ConflictIds());
        Assert.Equal(laptop.ConflictIds(), phone.ConflictIds());

        // The repository is really in the container, under the prefix only.
        using var whole = new AzureBlobBackend(azurite.Options(storage.Container));
        List<string> names = await whole.ListAsync("").ToListAsync();

        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.StartsWith("ghostie/shared/", n, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(11, 3, 120)]
    public async Task RandomOperations_OverAzurite_AllDevicesConverge_NothingLost(int seed, int deviceCount, int operations)
    {
        var random = new Random(seed);
        using AzureBlobBackend storage = await azurite.NewBackendAsync();
        using var cluster = new Cluster(storage);
        var created = new List<PackEntry>();
        for (int i = 0; i < deviceCount; i++)
        {
            Device device = await cluster.AddDeviceAsync($"dev{i}");
            device.Manager.LocalVersionCommitted += created.Add;
        }

        int conflictsSeen = 0;
        for (int op = 0; op < operations; op++)
        {
            Device device = cluster.Devices[random.Next(deviceCount)];
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
                SyncResult result = random.Next(3) switch
                {
                    0 => await device.Manager.PushAsync(),
                    1 => await device.Manager.PullAsync(),
                    _ => await device.SyncAsync(),
                };
                AssertSuccess(result);
                conflictsSeen += result.NewConflicts;
            }

            cluster.Time.Advance(TimeSpan.FromMilliseconds(random.Next(0, 50)));
        }

        for (int round = 0; round < 2; round++)
        {
            foreach (Device device in cluster.Devices)
            {
                AssertSuccess(await device.SyncAsync());
            }
        }

        Device first = cluster.Devices[0];
        foreach (Device device in cluster.Devices)
        {
            Assert.Equal(first.Snapshot(), device.Snapshot());
            Assert.Equal(first.ConflictIds(), device.ConflictIds());
            foreach (PackEntry version in created)
            {
                Assert.True(device.Manager.RecordStates.TryGetValue(version.Id, out RecordState? record), $"{device.Id} lost memory {version.Id}");
                Assert.Contains(record.Versions, v => v.Vector.Includes(VersionVector.From(version.VersionVector)));
            }
        }

        Assert.NotEmpty(created);
        Assert.True(conflictsSeen > 0, "the simulation should exercise concurrent edits");
    }
}
