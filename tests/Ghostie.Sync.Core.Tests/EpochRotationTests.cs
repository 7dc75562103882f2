using Ghostie.Sync.Crypto;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>Scheduled key rotation (<see cref="GhostieSyncOptions.EpochRotationInterval"/>) on a fake clock.</summary>
public sealed class EpochRotationTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-rotate-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly InMemoryStorageBackend _storage = new();

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private async Task<MemorySyncManager> DeviceAsync(string id, TimeSpan? interval = null)
    {
        RepositoryKeyOptions keyOptions = TestKeys.FastOptions(_time);
        RepositoryKeys keys = await _storage.ListAsync("keys/").AnyAsync()
            ? await RepositoryKeys.UnlockAsync(_storage, Cluster.Passphrase, keyOptions)
            : await RepositoryKeys.InitializeAsync(_storage, Cluster.Passphrase, "primary", keyOptions);
        var options = new GhostieSyncOptions { Home = Path.Combine(_root, id), TimeProvider = _time };
        if (interval is { } given)
        {
            options.EpochRotationInterval = given;
        }

        new GhostieHome(options.Home).EnsureCreated();
        return MemorySyncManager.Create(_storage, keys, options, id, ownsKeys: true);
    }

    private static void Add(MemorySyncManager manager, string id, string content, DateTimeOffset at) =>
        manager.Memories.Save(new MemoryRecord { Id = id, Category = "note", Content = content, DeviceId = manager.DeviceId, Timestamp = at });

    private async Task<List<uint>> PackEpochsAsync()
    {
        var epochs = new List<uint>();
        await foreach (string name in _storage.ListAsync("p/"))
        {
            epochs.Add(ObjectCipher.ReadInfo(_storage.GetRaw(name)!, name).Epoch);
        }

        return epochs;
    }

    [Fact]
    public async Task Push_AfterTheInterval_StartsANewEpoch_OnceOnly_AndOtherDevicesReadIt()
    {
        using MemorySyncManager a = await DeviceAsync("a");
        using MemorySyncManager b = await DeviceAsync("b");
        uint first = a.Keys.CurrentEpoch;
        Add(a, "m1", "at the start", _time.GetUtcNow());
        await a.PushAsync();

        _time.Advance(TimeSpan.FromDays(29));
        Add(a, "m2", "29 days later", _time.GetUtcNow());
        await a.PushAsync();
        Assert.Equal(first, a.Keys.CurrentEpoch);

        _time.Advance(TimeSpan.FromDays(2));
        await a.SyncAsync(); // nothing to push: no rotation, no write
        Assert.Single(a.Keys.Epochs);
        Add(a, "m3", "31 days after the epoch", _time.GetUtcNow());
        await a.PushAsync();
        uint second = a.Keys.CurrentEpoch;

        _time.Advance(TimeSpan.FromDays(1));
        Add(a, "m4", "a day later", _time.GetUtcNow());
        await a.PushAsync();
        await b.SyncAsync();

        Assert.NotEqual(first, second);
        Assert.Equal(2, a.Keys.Epochs.Count);
        Assert.Equal(second, a.Keys.CurrentEpoch);
        Assert.Contains(second, await PackEpochsAsync()); // new data went to the fresh key
        Assert.Equal("31 days after the epoch", b.Memories.Get("m3")!.Content);
        Assert.Equal(second, b.Keys.CurrentEpoch); // b loaded the new epoch when it met it
        Assert.Equal(4, b.Memories.Scan().Count());
    }

    [Fact]
    public async Task Push_WithRotationTurnedOff_NeverRotates()
    {
        using MemorySyncManager a = await DeviceAsync("a", TimeSpan.Zero);
        uint first = a.Keys.CurrentEpoch;
        _time.Advance(TimeSpan.FromDays(400));
        Add(a, "m1", "much later", _time.GetUtcNow());

        await a.PushAsync();

        Assert.Equal(first, a.Keys.CurrentEpoch);
        Assert.Single(a.Keys.Epochs);
    }
}
