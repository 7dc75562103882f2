using System.Text.Json;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Internal;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>The full sync protocol through moto_server: each device has its own S3 backend (its own client and
/// connections) on one bucket, as separate machines would.</summary>
public sealed class S3SyncTests(MotoFixture server) : IClassFixture<MotoFixture>
{
    [Fact]
    public async Task TwoDevices_PushPullAndConverge_ThroughS3()
    {
        await using var cluster = await S3Cluster.CreateAsync(server);
        S3Device laptop = await cluster.AddDeviceAsync("laptop");
        S3Device phone = await cluster.AddDeviceAsync("phone");

        MemoryRecord first = laptop.Add("the deploy key lives in the vault");
        MemoryRecord second = laptop.Add("standup moved to 10:00");
        SyncResult pushed = await laptop.Manager.PushAsync();
        Assert.True(pushed.Success, Problems(pushed));
        Assert.Equal(2, pushed.Uploaded);

        SyncResult pulled = await phone.Manager.PullAsync();
        Assert.True(pulled.Success, Problems(pulled));
        Assert.Equal(2, pulled.Downloaded);
        Assert.Equal(first.Content, phone.Manager.Memories.Get(first.Id)?.Content);

        // Both edit the same memory offline: a conflict, detected on both sides and resolved to the same winner.
        phone.Edit(second.Id, "standup moved to 09:30");
        laptop.Edit(second.Id, "standup cancelled");
        phone.Add("buy milk");
        for (int round = 0; round < 2; round++)
        {
            foreach (S3Device device in cluster.Devices)
            {
                SyncResult result = await device.Manager.SyncAsync();
                Assert.True(result.Success, Problems(result));
            }
        }

        Assert.Equal(laptop.Snapshot(), phone.Snapshot());
        Assert.Equal(3, laptop.Snapshot().Count);
        Assert.Single(laptop.Manager.ListConflicts());
        Assert.Equal(laptop.Manager.ListConflicts().Select(c => c.Id), phone.Manager.ListConflicts().Select(c => c.Id));

        // What the provider sees: opaque names under the repository, no memory id, content or device name.
        List<string> keys = await server.RawKeysAsync(cluster.Bucket);
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.True(ObjectName.IsValid(k), k));
        Assert.DoesNotContain(keys, k => k.Contains("laptop", StringComparison.Ordinal) || k.Contains("phone", StringComparison.Ordinal));
        Assert.All(cluster.Backends, b => Assert.IsType<ConditionalS3Backend>(b));
        Assert.All(cluster.Backends, b => Assert.True(b.RequestCount > 0));
    }

    /// <summary>A smaller version of the core multi-device simulation (random adds, edits, deletes, offline periods,
    /// conflict resolutions and syncs in random order, fixed seeds), over moto.</summary>
    [Theory]
    [InlineData(1, 3, 70)]
    [InlineData(7, 2, 60)]
    public async Task RandomOperations_OverS3_AllDevicesConverge_NothingLost(int seed, int deviceCount, int operations)
    {
        var random = new Random(seed);
        await using var cluster = await S3Cluster.CreateAsync(server);
        var created = new List<PackEntry>();
        for (int i = 0; i < deviceCount; i++)
        {
            S3Device device = await cluster.AddDeviceAsync($"dev{i}");
            device.Manager.LocalVersionCommitted += created.Add;
        }

        var offline = new bool[deviceCount];
        for (int op = 0; op < operations; op++)
        {
            int d = random.Next(deviceCount);
            S3Device device = cluster.Devices[d];
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
                try
                {
                    await device.Manager.ResolveConflictAsync(conflicts[random.Next(conflicts.Count)].Id, (ConflictChoice)random.Next(3));
                }
                catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.NotFound)
                {
                }
            }
            else if (!offline[d])
            {
                SyncResult result = random.Next(3) switch
                {
                    0 => await device.Manager.PushAsync(),
                    1 => await device.Manager.PullAsync(),
                    _ => await device.Manager.SyncAsync(),
                };
                Assert.True(result.Success, Problems(result));
            }

            cluster.Time.Advance(TimeSpan.FromMilliseconds(random.Next(0, 50)));
        }

        for (int round = 0; round < 2; round++)
        {
            foreach (S3Device device in cluster.Devices)
            {
                SyncResult result = await device.Manager.SyncAsync();
                Assert.True(result.Success, Problems(result));
            }
        }

        S3Device first = cluster.Devices[0];
        foreach (S3Device device in cluster.Devices)
        {
            Assert.Equal(first.Snapshot(), device.Snapshot());
            Assert.Equal(first.Manager.ListConflicts().Select(c => c.Id), device.Manager.ListConflicts().Select(c => c.Id));
            foreach (PackEntry version in created)
            {
                VersionVector vector = VersionVector.From(version.VersionVector);
                Assert.True(device.Manager.RecordStates.TryGetValue(version.Id, out RecordState? record), $"{device.Id} lost memory {version.Id}");
                Assert.Contains(record.Versions, v => v.Vector.Includes(vector));
            }
        }

        Assert.NotEmpty(created);
    }

    private static string Problems(SyncResult result) => string.Join("; ", result.Problems.Select(p => p.Message));
}

/// <summary>A settable clock.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>A repository in a fresh moto bucket and devices with their own homes and their own S3 backends.</summary>
internal sealed class S3Cluster : IAsyncDisposable
{
    private const string Passphrase = "s3 cluster passphrase";
    private readonly S3ServerFixture _server;
    private readonly List<S3Device> _devices = [];
    private readonly List<S3Backend> _backends = [];

    private S3Cluster(S3ServerFixture server, string bucket)
    {
        _server = server;
        Bucket = bucket;
        Root = Path.Combine(Path.GetTempPath(), "ghostie-s3sync-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
    }

    public string Bucket { get; }

    public string Root { get; }

    public ManualClock Time { get; } = new(DateTimeOffset.Parse("2026-11-21T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    public IReadOnlyList<S3Device> Devices => _devices;

    public IReadOnlyList<S3Backend> Backends => _backends;

    public static async Task<S3Cluster> CreateAsync(S3ServerFixture server) => new(server, await server.CreateBucketAsync());

    public async Task<S3Device> AddDeviceAsync(string deviceId)
    {
        S3BackendOptions options = _server.Options(Bucket);
        options.Prefix = "repo";
        S3Backend backend = await S3Backend.CreateAsync(options);
        _backends.Add(backend);
        var keyOptions = new RepositoryKeyOptions { Pbkdf2Iterations = 1_000, AllowWeakKdfForTesting = true };
        RepositoryKeys keys;
        try
        {
            keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, keyOptions);
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.RepositoryNotInitialized)
        {
            keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "primary", keyOptions);
        }

        var syncOptions = new GhostieSyncOptions { Home = Path.Combine(Root, deviceId), TimeProvider = Time, PackTargetBytes = 256 * 1024, CompactAfterPacks = 4 };
        new GhostieHome(syncOptions.Home).EnsureCreated();
        var device = new S3Device(deviceId, MemorySyncManager.Create(backend, keys, syncOptions, deviceId, deviceId + " name", ownsKeys: true), Time);
        _devices.Add(device);
        return device;
    }

    public ValueTask DisposeAsync()
    {
        foreach (S3Device device in _devices)
        {
            device.Manager.Dispose();
        }

        foreach (S3Backend backend in _backends)
        {
            backend.Dispose();
        }

        Directory.Delete(Root, recursive: true);
        return ValueTask.CompletedTask;
    }
}

internal sealed class S3Device(string id, MemorySyncManager manager, ManualClock time)
{
    private int _counter;

    public string Id { get; } = id;

    public MemorySyncManager Manager { get; } = manager;

    public MemoryRecord Add(string content)
    {
        time.Advance(TimeSpan.FromMilliseconds(7));
        var record = new MemoryRecord { Id = $"{Id}-{++_counter:D5}", Category = "note", Content = content, DeviceId = Id, Timestamp = time.GetUtcNow() };
        Manager.Memories.Save(record);
        return record;
    }

    public void Edit(string memoryId, string content)
    {
        time.Advance(TimeSpan.FromMilliseconds(7));
        MemoryRecord current = Manager.Memories.Get(memoryId) ?? throw new InvalidOperationException("no " + memoryId);
        Manager.Memories.Save(current with { Content = content });
    }

    /// <summary>id → content of every memory file, ignoring sync_metadata.</summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (LocalMemoryFile file in Manager.Memories.Scan())
        {
            Assert.True(file.Record is not null, $"{file.Path}: {file.Problem}");
            result[file.Id] = JsonSerializer.Serialize(file.Record with { SyncMetadata = null });
        }

        return result;
    }
}
