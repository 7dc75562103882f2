using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Tests;

/// <summary>The whole sync protocol with its repository in a PostgreSQL repository: devices push, pull and converge,
/// and a smaller version of the core multi-device simulation ends in the same state everywhere, nothing lost.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSyncTests(PostgresFixture postgres)
{
    private static void AssertSuccess(SyncResult result) =>
        Assert.True(result.Success, string.Join("; ", result.Problems.Select(p => p.Message)));

    [Fact]
    public async Task TwoDevices_PushPullEditConflictAndDelete_Converge()
    {
        using PostgresBackend storage = postgres.NewBackend();
        using var cluster = new Cluster(storage);
        Device laptop = await cluster.AddDeviceAsync("laptop");
        // The phone has a backend (and connection pool) of its own on the same repository, as a second machine would.
        await using var phoneStorage = new PostgresBackend(postgres.Options(storage.Repository));
        Device phone = await cluster.AddDeviceAsync("phone", phoneStorage);

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

        // What the database holds: opaque names, and ciphertext only (no memory text, no device name).
        List<object?> rows = await postgres.Server.QueryAsync(
            $"SELECT name FROM ghostie.objects WHERE repository = '{storage.Repository}' ORDER BY name COLLATE \"C\"", PostgresFixture.Database);
        List<string> names = await storage.ListAsync("").ToListAsync();
        Assert.NotEmpty(names);
        Assert.Equal(names, rows.Cast<string>());
        Assert.DoesNotContain(names, n => n.Contains("laptop", StringComparison.Ordinal) || n.Contains("phone", StringComparison.Ordinal));
        List<object?> plaintextHits = await postgres.Server.QueryAsync(
            $"SELECT count(*) FROM ghostie.chunks WHERE repository = '{storage.Repository}' AND (position('laptop memory'::bytea IN data) > 0 OR position('phone'::bytea IN data) > 0)",
            PostgresFixture.Database);
        Assert.Equal(0L, plaintextHits.Single());
    }

    [Theory]
    [InlineData(11, 3, 120)]
    [InlineData(5, 2, 80)]
    public async Task RandomOperations_OverPostgres_AllDevicesConverge_NothingLost(int seed, int deviceCount, int operations)
    {
        var random = new Random(seed);
        using PostgresBackend storage = postgres.NewBackend();
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
