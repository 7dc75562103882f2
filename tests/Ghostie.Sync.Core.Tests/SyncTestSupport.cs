using System.Text.Json;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Tests;

/// <summary>A settable clock.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>A repository in memory and any number of devices, each with its own temporary Ghostie home.</summary>
internal sealed class Cluster : IDisposable
{
    public const string Passphrase = "cluster passphrase";
    private readonly List<Device> _devices = [];

    public Cluster(IStorageBackend? storage = null)
    {
        Storage = storage ?? new InMemoryStorageBackend();
        Root = Path.Combine(Path.GetTempPath(), "ghostie-core-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
    }

    public IStorageBackend Storage { get; }
    public string Root { get; }
    public ManualTime Time { get; } = new(DateTimeOffset.Parse("2026-11-21T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    public IReadOnlyList<Device> Devices => _devices;

    public static RepositoryKeyOptions KeyOptions() => new() { Pbkdf2Iterations = 1_000, AllowWeakKdfForTesting = true };

    public async Task<Device> AddDeviceAsync(string deviceId, IStorageBackend? through = null)
    {
        IStorageBackend backend = through ?? Storage;
        RepositoryKeys keys;
        try
        {
            keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, KeyOptions());
        }
        catch (GhostieSyncException ex) when (ex.Code == GhostieErrorCode.RepositoryNotInitialized)
        {
            keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "primary", KeyOptions());
        }

        var options = new GhostieSyncOptions { Home = Path.Combine(Root, deviceId), TimeProvider = Time, PackTargetBytes = 256 * 1024, CompactAfterPacks = 4 };
        new GhostieHome(options.Home).EnsureCreated(); // as setup does
        var device = new Device(deviceId, MemorySyncManager.Create(backend, keys, options, deviceId, deviceId + " name", ownsKeys: true), Time);
        _devices.Add(device);
        return device;
    }

    /// <summary>Disposes the device's manager and opens a new one on the same home, as a new process would
    /// (optionally with another device id: a second installation using the same id, say).</summary>
    public async Task ReopenAsync(Device device, string? deviceId = null, GhostieSyncOptions? options = null)
    {
        device.Manager.Dispose();
        RepositoryKeys keys = await RepositoryKeys.UnlockAsync(Storage, Passphrase, KeyOptions());
        options ??= new GhostieSyncOptions { Home = device.Home.Root, TimeProvider = Time, PackTargetBytes = 256 * 1024, CompactAfterPacks = 4 };
        device.Manager = MemorySyncManager.Create(Storage, keys, options, deviceId ?? device.Id, ownsKeys: true);
    }

    public void Dispose()
    {
        foreach (Device device in _devices)
        {
            device.Manager.Dispose();
        }

        Directory.Delete(Root, recursive: true);
    }
}

internal sealed class Device(string id, MemorySyncManager manager, ManualTime time)
{
    private int _counter;

    public string Id { get; } = id;
    public MemorySyncManager Manager { get; set; } = manager;
    public GhostieHome Home => Manager.Home;

    public MemoryRecord Add(string content, string category = "note")
    {
        time.Advance(TimeSpan.FromMilliseconds(7));
        var record = new MemoryRecord
        {
            Id = $"{Id}-{++_counter:D5}",
            Category = category,
            Content = content,
            DeviceId = Id,
            Timestamp = time.GetUtcNow(),
        };
        Manager.Memories.Save(record);
        return record;
    }

    public void Edit(string memoryId, string content)
    {
        time.Advance(TimeSpan.FromMilliseconds(7));
        MemoryRecord current = Manager.Memories.Get(memoryId) ?? throw new InvalidOperationException("no " + memoryId);
        Manager.Memories.Save(current with { Content = content });
    }

    public Task<SyncResult> SyncAsync() => Manager.SyncAsync();

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

    public string[] ConflictIds() =>
        Directory.Exists(Home.ConflictsPath)
            ? Directory.GetFiles(Home.ConflictsPath, "*.json").Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal).ToArray()
            : [];
}
