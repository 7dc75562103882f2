using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Tests;

/// <summary>Revoking a lost device (docs/security.md, "Revoking a device"), end to end between three device homes, each
/// with its own folder backend on one repository folder.</summary>
public sealed class RevocationTests : IDisposable
{
    private const string NewPassphrase = "new passphrase after the laptop was stolen";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ghostie-revoke-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private Cluster NewCluster() => new(() => Task.FromResult<IStorageBackend>(new FileSystemBackend(_folder)));

    private static async Task<(Device A, Device B, Device Lost)> ThreeDevicesAsync(Cluster cluster)
    {
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        Device lost = await cluster.AddDeviceAsync("lost");
        foreach (Device device in new[] { a, b, lost, a, b, lost })
        {
            device.Add($"written on {device.Id}");
            await device.SyncAsync();
        }

        await a.SyncAsync();
        await b.SyncAsync();
        return (a, b, lost);
    }

    /// <summary>Every object of the repository (by storage name) with the key epoch its header names.</summary>
    private async Task<Dictionary<string, uint>> EpochsAsync(IStorageBackend backend)
    {
        var epochs = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (string prefix in new[] { "h/", "p/", "x/" })
        {
            await foreach (string name in backend.ListAsync(prefix))
            {
                byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(_folder, name));
                epochs[name] = ObjectCipher.ReadInfo(bytes, name).Epoch;
            }
        }

        return epochs;
    }

    [Fact]
    public async Task RevokedDevice_CannotOpenAnythingWrittenAfter_WithItsCachedKeyOrOldPassphrase_OthersKeepReadingEverything()
    {
        await using Cluster cluster = NewCluster();
        (Device a, Device b, Device lost) = await ThreeDevicesAsync(cluster);
        var lostCache = DeviceKeyCache.ForHome(lost.Home.Root);
        lostCache.Save(lost.Manager.Keys); // what the thief finds on the laptop
        RepositoryKeys lostKeys = lost.Manager.Keys; // and a process of it still running, keys in memory

        DeviceRevocation revocation = await a.Manager.RevokeDeviceAsync("lost", NewPassphrase);
        MemoryRecord after = a.Add("written after the revocation");
        await a.SyncAsync();
        await cluster.ReopenAsync(b, passphrase: NewPassphrase); // b needs the new passphrase once
        await b.SyncAsync();
        b.Add("b after the revocation");
        await b.SyncAsync();
        await a.SyncAsync();
        SyncResult onLost = await lost.SyncAsync();

        Assert.Equal(DeviceStatus.Revoked, revocation.Device.Status);
        Assert.True(revocation.Rekeyed);
        Assert.Equal(revocation.Epoch, a.Manager.Keys.CurrentEpoch);

        // Nothing written after the revocation opens with what the lost device holds.
        await Assert.ThrowsAsync<RepositoryRekeyedException>(() => lostCache.TryOpenAsync(a.Backend, Cluster.KeyOptions()));
        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(a.Backend, Cluster.Passphrase, Cluster.KeyOptions()));
        Dictionary<string, uint> epochs = await EpochsAsync(a.Backend);
        string[] newer = epochs.Where(e => e.Value == revocation.Epoch).Select(e => e.Key).ToArray();
        Assert.True(newer.Length >= 4, $"only {newer.Length} objects under the new epoch");
        foreach (string name in newer)
        {
            byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(_folder, name));
            Assert.ThrowsAny<GhostieSyncException>(() => lostKeys.Cipher.Open(bytes, name.StartsWith("h/", StringComparison.Ordinal) ? ObjectKind.Head : ObjectKind.Pack, name));
        }

        Assert.Null(lost.Manager.Memories.Get(after.Id));
        Assert.False(onLost.Success); // it cannot read the heads written since: reported, nothing applied
        Assert.Contains("written on a", lost.Snapshot().Values.First(v => v.Contains("written on a", StringComparison.Ordinal)), StringComparison.Ordinal); // what it had stays

        // The remaining devices read everything, old and new; both rewrote their packs under the new epoch.
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Equal(8, a.Snapshot().Count);
        Assert.Contains("lost-00001", a.Snapshot().Keys);
        Device late = await cluster.AddDeviceAsync("late", passphrase: NewPassphrase);
        await late.SyncAsync();
        Assert.Equal(a.Snapshot(), late.Snapshot());
        foreach (Device device in new[] { a, b, a, b })
        {
            await device.SyncAsync(); // acknowledgements go round: the retired old packs can go
        }

        string prefixA = (await a.Manager.ListDevicesAsync())[0].Prefix, prefixB = (await b.Manager.ListDevicesAsync())[0].Prefix;
        Dictionary<string, uint> now = await EpochsAsync(a.Backend);
        Assert.All(now.Where(e => e.Key.StartsWith("p/" + prefixA, StringComparison.Ordinal) || e.Key.StartsWith("p/" + prefixB, StringComparison.Ordinal)),
            e => Assert.Equal(revocation.Epoch, e.Value)); // retired old packs deleted once acknowledged
        Assert.Contains(await late.Manager.ListDevicesAsync(), d => d.DeviceId == "lost" && d.Status == DeviceStatus.Revoked);
    }

    [Fact]
    public async Task Revocation_CutShortDuringReencryption_ResumesWhereItStopped()
    {
        await using Cluster cluster = NewCluster();
        (Device a, Device b, _) = await ThreeDevicesAsync(cluster);
        byte[][] plain = [.. Enumerable.Range(0, 4).Select(i => System.Text.Encoding.UTF8.GetBytes($"handoff package {i}"))];
        string[] names = [.. Enumerable.Range(0, 4).Select(i => $"x/{new string('a', 32)}/{i:x24}")];
        for (int i = 0; i < names.Length; i++)
        {
            await a.Backend.PutAsync(names[i], new MemoryStream(a.Manager.Keys.Cipher.Seal(plain[i], ObjectKind.Handoff, names[i])));
        }

        using var cancel = new CancellationTokenSource();
        var stages = new List<string>();
        var progress = new Recorder(p =>
        {
            stages.Add(p.Stage);
            if (p.Stage == "reencrypt" && p.Done == 2)
            {
                cancel.Cancel(); // as a crash after two objects would
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Manager.RevokeDeviceAsync("lost", NewPassphrase, progress, cancel.Token));
        Dictionary<string, uint> cut = await EpochsAsync(a.Backend);
        uint target = a.Manager.Keys.RekeyEpoch;
        Assert.Equal(2, names.Count(n => cut[n] == target));

        // The process dies; the device comes back with the new passphrase (its old cached key no longer opens).
        await cluster.ReopenAsync(a, passphrase: NewPassphrase);
        DeviceRevocation resumed = await a.Manager.RevokeDeviceAsync("lost", NewPassphrase);

        Assert.Contains("rekey-key-ring", stages);
        Assert.False(resumed.Rekeyed); // the re-key was not done twice
        Assert.Equal(target, resumed.Epoch);
        Assert.Equal(2, resumed.Reencrypted);
        Dictionary<string, uint> done = await EpochsAsync(a.Backend);
        Assert.All(names, n => Assert.Equal(target, done[n]));
        await cluster.ReopenAsync(b, passphrase: NewPassphrase);
        for (int i = 0; i < names.Length; i++)
        {
            byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(_folder, names[i]));
            Assert.Equal(plain[i], b.Manager.Keys.Cipher.Open(bytes, ObjectKind.Handoff, names[i]));
        }

        Assert.True((await b.SyncAsync()).Success);
    }

    private sealed class Recorder(Action<SyncProgress> report) : IProgress<SyncProgress>
    {
        public void Report(SyncProgress value) => report(value);
    }
}
