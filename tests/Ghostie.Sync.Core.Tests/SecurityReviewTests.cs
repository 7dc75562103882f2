using System.Text;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Tests;

/// <summary>Findings of the security review of the sync layer; each test failed before its fix unless it says otherwise.</summary>
public sealed class SecurityReviewTests
{
    /// <summary>Delegates to another backend and runs a hook before each put.</summary>
    private sealed class SpyBackend(IStorageBackend inner, Action<string> beforePut) : IStorageBackend
    {
        public string DisplayName => "spy";

        public Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
        {
            beforePut(name);
            return inner.PutAsync(name, content, cancellationToken);
        }

        public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);

        public IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
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

    [Fact]
    public async Task PlaintextPackCopiesInSyncTmp_AreOwnerOnly_AndGoneAfterThePush()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var cluster = new Cluster();
        string? tmp = null;
        var modes = new List<(string What, UnixFileMode Mode)>();
        var spy = new SpyBackend(cluster.Storage, name =>
        {
            if (tmp is not null && !OperatingSystem.IsWindows() && name.StartsWith("p/", StringComparison.Ordinal))
            {
                modes.Add(("folder", File.GetUnixFileMode(tmp)));
                foreach (string file in Directory.GetFiles(tmp))
                {
                    modes.Add((file, File.GetUnixFileMode(file)));
                }
            }
        });
        Device a = await cluster.AddDeviceAsync("a", spy);
        tmp = Path.Combine(a.Home.SyncPath, "tmp");
        a.Add("a private memory");

        await a.SyncAsync();

        Assert.True(modes.Count >= 3, "the pack is sealed from a plaintext temporary file, beside its sealed copy");
        Assert.All(modes.Where(m => m.What == "folder"), m => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, m.Mode));
        Assert.All(modes.Where(m => m.What != "folder"), m => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, m.Mode));
        Assert.Empty(Directory.GetFiles(tmp));
    }

    [Fact]
    public async Task HeadOfAFutureFormatWithAnotherShape_IsReportedAsUnsupported_NotAsDamaged()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("one");
        await a.SyncAsync();
        string head = (await NamesAsync(cluster.Storage, "h/")).Single();
        using (RepositoryKeys keys = await RepositoryKeys.UnlockAsync(cluster.Storage, Cluster.Passphrase, Cluster.KeyOptions()))
        {
            byte[] future = Encoding.UTF8.GetBytes("""{"format":3,"device_id":{"a":"b"},"packs":"elsewhere"}""");
            await cluster.Storage.PutAsync(head, new MemoryStream(keys.Cipher.Seal(future, ObjectKind.Head, head)));
        }

        SyncResult result = await b.SyncAsync();

        SyncProblem problem = Assert.Single(result.Problems);
        Assert.Equal(GhostieErrorCode.UnsupportedFormat, problem.Code);
        Assert.Contains("unsupported format v3; this version reads up to v1", problem.Message);
    }

    [Fact]
    public async Task StateFileOfAFutureFormat_IsRefused_NotSilentlyDowngraded()
    {
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        a.Add("one");
        await a.SyncAsync();
        string statePath = a.Home.StatePath;
        string json = File.ReadAllText(statePath);
        Assert.Contains("\"format\":2", json);
        File.WriteAllText(statePath, json.Replace("\"format\":2", "\"format\":3", StringComparison.Ordinal));

        var ex = await Assert.ThrowsAsync<UnsupportedFormatException>(() => cluster.ReopenAsync(a));

        Assert.Contains("unsupported format v3; this version reads up to v2", ex.Message);
        Assert.Contains("\"format\":3", File.ReadAllText(statePath)); // left as the newer version wrote it
    }

    [Fact]
    public async Task EpochObjectDeletedByTheProvider_ObjectsSealedUnderItAreReported_NothingIsLost()
    {
        // Regression guard (passed before the review): the provider deletes the epoch a device's new objects use.
        using var cluster = new Cluster();
        Device a = await cluster.AddDeviceAsync("a");
        Device b = await cluster.AddDeviceAsync("b");
        a.Add("before rotation");
        await a.SyncAsync();
        await b.SyncAsync();
        using (RepositoryKeys keys = await RepositoryKeys.UnlockAsync(cluster.Storage, Cluster.Passphrase, Cluster.KeyOptions()))
        {
            await keys.RotateEpochAsync();
        }

        await cluster.ReopenAsync(a); // a seals under the new epoch from now on
        a.Add("after rotation");
        await a.SyncAsync();
        string newest = (await NamesAsync(cluster.Storage, RepositoryKeys.EpochPrefix)).Count == 2
            ? (await NamesAsync(cluster.Storage, RepositoryKeys.EpochPrefix)).Single(n => ((InMemoryStorageBackend)cluster.Storage).GetRaw(n) is not null && IsNewest(n))
            : throw new InvalidOperationException("expected two epochs");
        await cluster.Storage.DeleteAsync(newest);

        SyncResult result = await b.SyncAsync();

        SyncProblem problem = Assert.Single(result.Problems);
        Assert.Contains(newest, problem.Message, StringComparison.Ordinal); // the epoch is named as its object, epochs/<8 hex>
        Assert.Single(b.Snapshot()); // what b had stays; nothing half-applied
        Assert.Equal(2, a.Snapshot().Count); // a keeps its local copy

        bool IsNewest(string name)
        {
            using RepositoryKeys k = RepositoryKeys.UnlockAsync(cluster.Storage, Cluster.Passphrase, Cluster.KeyOptions()).GetAwaiter().GetResult();
            return name == RepositoryKeys.EpochPrefix + k.CurrentEpoch.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    [Fact]
    public async Task ManyManagersInOneProcess_OnDifferentHomes_SyncingConcurrentlyThroughOneBackend_Converge()
    {
        // Regression guard (passed before the review): no static state shared between managers.
        using var cluster = new Cluster();
        Device[] devices = [await cluster.AddDeviceAsync("a"), await cluster.AddDeviceAsync("b"), await cluster.AddDeviceAsync("c")];
        for (int round = 0; round < 3; round++)
        {
            foreach (Device device in devices)
            {
                for (int i = 0; i < 5; i++)
                {
                    device.Add($"{device.Id} round {round} memory {i}");
                }
            }

            SyncResult[] results = await Task.WhenAll(devices.Select(d => Task.Run(() => d.SyncAsync())));
            Assert.All(results, r => Assert.Empty(r.Problems));
        }

        foreach (Device device in devices.Concat(devices))
        {
            Assert.Empty((await device.SyncAsync()).Problems);
        }

        Assert.All(devices, d => Assert.Equal(45, d.Snapshot().Count));
        Assert.Equal(devices[0].Snapshot(), devices[1].Snapshot());
        Assert.Equal(devices[0].Snapshot(), devices[2].Snapshot());
    }
}

public sealed class MemoryRecordPrintingTests
{
    [Fact]
    public void ToString_ShowsIdAndCategory_NeverContentOrContext()
    {
        using var context = System.Text.Json.JsonDocument.Parse("""{"where":"the safe combination is 1234"}""");
        MemoryRecord record = MemoryRecord.Create("secrets", "my bank PIN is 4711", "laptop",
            DateTimeOffset.Parse("2026-11-21T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture), context.RootElement.Clone());

        string text = record.ToString();

        Assert.Contains(record.Id, text, StringComparison.Ordinal);
        Assert.Contains("secrets", text, StringComparison.Ordinal);
        Assert.DoesNotContain("4711", text, StringComparison.Ordinal);
        Assert.DoesNotContain("1234", text, StringComparison.Ordinal);
        Assert.DoesNotContain("4711", new LocalMemoryFile("p", record.Id, record, null, 0, 0).ToString(), StringComparison.Ordinal);
    }
}
