using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Vectors.Local;
using Microsoft.Extensions.Time.Testing;

namespace Ghostie.Sync.Vectors.Tests;

/// <summary>Two device homes sharing one folder repository: the index travels as encrypted objects.</summary>
public sealed class VectorSyncTests : IDisposable
{
    private const string Passphrase = "vector sync test passphrase 7";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ghostie-vsync-" + Guid.NewGuid().ToString("N")[..10]);

    public VectorSyncTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task PushPull_TwoDeviceHomes_SecondDeviceGetsTheIndexWithoutReembeddingOrRebuilding()
    {
        var backend = new FileSystemBackend(Path.Combine(_root, "repo"));
        using MemorySyncManager laptop = await SetupAsync(backend, "laptop");
        using MemorySyncManager phone = await SetupAsync(backend, "phone");
        float[][] vectors = TestData.Clustered(600, 32, 8, seed: 41);
        var laptopOptions = Options(laptop, LocalIndexKind.Hnsw);
        using LocalVectorCollection source = await TestData.FillAsync(vectors, laptopOptions, "memories");

        VectorPushResult pushed = await new LocalVectorSync(backend, laptop.Keys, laptop.DeviceId).PushAsync(source);

        // The phone's store starts empty, in its own home; it adopts the copy, graph included.
        LocalVectorStoreOptions phoneOptions = Options(phone, LocalIndexKind.Hnsw);
        phoneOptions.Directory = Path.Combine(phone.Home.Root, "vectors");
        using var phoneStore = new LocalVectorStore(phoneOptions);
        LocalVectorCollection target = await phoneStore.GetOrCreateCollectionAsync("memories", source.Model);
        VectorPullResult pulled = await new LocalVectorSync(backend, phone.Keys, phone.DeviceId).PullAsync(target);

        Assert.Equal(1, pulled.Devices);
        Assert.Equal(600, pulled.Upserted);
        Assert.True(target.HasGraph);
        foreach (float[] query in TestData.Clustered(10, 32, 8, seed: 42))
        {
            Assert.Equal(source.Search(query).Select(r => (r.Record.Key, r.Score)), target.Search(query).Select(r => (r.Record.Key, r.Score)));
        }

        Assert.Matches("^v/[a-z2-7]{16}/[a-z2-7]{24}$", pushed.ObjectName);
        await phoneStore.SaveAsync();
        Assert.True(File.Exists(Path.Combine(phone.Home.Root, "vectors", "memories.gvx")));
    }

    [Fact]
    public async Task Push_StoredBytes_HoldNoVectorInTheClearAndNoNames()
    {
        var backend = new FileSystemBackend(Path.Combine(_root, "repo"));
        using MemorySyncManager laptop = await SetupAsync(backend, "laptop");
        float[][] vectors = TestData.Clustered(200, 16, 4, seed: 43);
        using LocalVectorCollection source = await TestData.FillAsync(vectors, Options(laptop, LocalIndexKind.Exact), "secret-notes");
        string[] tempBefore = Directory.GetFiles(Path.GetTempPath(), "ghostie-vectors-*.tmp");

        VectorPushResult pushed = await new LocalVectorSync(backend, laptop.Keys, laptop.DeviceId).PushAsync(source);

        byte[] stored = await File.ReadAllBytesAsync(Path.Combine(_root, "repo", pushed.ObjectName));
        Assert.Equal(CipherSuite.ChaCha20Poly1305, ObjectCipher.ReadInfo(stored, pushed.ObjectName).Suite);
        Assert.Equal(ObjectKind.VectorData, ObjectCipher.ReadInfo(stored, pushed.ObjectName).Kind);
        // Every stored vector component (as the index holds it: unit-normalized float32), in pairs of 8 bytes, is absent.
        int found = 0;
        foreach (float[] vector in vectors)
        {
            float[] unit = TestData.Normalize(vector);
            for (int i = 0; i + 1 < unit.Length; i += 2)
            {
                byte[] pattern = [.. BitConverter.GetBytes(unit[i]), .. BitConverter.GetBytes(unit[i + 1])];
                found += stored.AsSpan().IndexOf(pattern) >= 0 ? 1 : 0;
            }
        }

        Assert.Equal(0, found);
        Assert.True(stored.AsSpan().IndexOf("secret-notes"u8) < 0);
        Assert.True(stored.AsSpan().IndexOf("k000001"u8) < 0);
        Assert.DoesNotContain("secret", pushed.ObjectName, StringComparison.Ordinal);
        // And the plaintext file the sync used is gone.
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), "ghostie-vectors-*.tmp").Except(tempBefore));
    }

    [Fact]
    public async Task PushPull_EditsOnBothDevices_ConvergeLastWriterWinsWithDeletes()
    {
        var backend = new FileSystemBackend(Path.Combine(_root, "repo"));
        using MemorySyncManager laptop = await SetupAsync(backend, "laptop");
        using MemorySyncManager phone = await SetupAsync(backend, "phone");
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var model = new EmbeddingModelInfo("m", 4);
        using var a = LocalVectorCollection.Create("memories", model, Options(laptop, LocalIndexKind.Exact, clock));
        using var b = LocalVectorCollection.Create("memories", model, Options(phone, LocalIndexKind.Exact, clock));
        var syncA = new LocalVectorSync(backend, laptop.Keys, laptop.DeviceId);
        var syncB = new LocalVectorSync(backend, phone.Keys, phone.DeviceId);
        await a.UpsertAsync([new VectorRecord("x", new float[] { 1, 0, 0, 0 }), new VectorRecord("y", new float[] { 0, 1, 0, 0 }), new VectorRecord("z", new float[] { 0, 0, 1, 0 })]);
        await syncA.PushAsync(a);
        await syncB.PullAsync(b);
        Assert.Equal(3, await b.CountAsync());

        clock.Advance(TimeSpan.FromSeconds(1));
        await a.UpsertAsync([new VectorRecord("x", new float[] { 0, 0, 0, 1 }, new Dictionary<string, string> { ["by"] = "laptop" })]);
        clock.Advance(TimeSpan.FromSeconds(1));
        await b.UpsertAsync([new VectorRecord("x", new float[] { 1, 1, 0, 0 }, new Dictionary<string, string> { ["by"] = "phone" })]); // later: wins
        await b.DeleteAsync("y");
        clock.Advance(TimeSpan.FromSeconds(1));
        await a.UpsertAsync([new VectorRecord("w", new float[] { 1, 1, 1, 1 })]);
        await syncA.PushAsync(a);
        await syncB.PushAsync(b);
        await syncA.PullAsync(a);
        await syncB.PullAsync(b);

        foreach (LocalVectorCollection c in new[] { a, b })
        {
            Assert.Equal(["w", "x", "z"], c.GetKeys().Order(StringComparer.Ordinal));
            Assert.Equal("phone", (await c.GetAsync("x"))!.Data!["by"]);
        }

        Assert.Equal(a.Search(new float[] { 1, 1, 0, 0 }).Select(r => (r.Record.Key, r.Score)), b.Search(new float[] { 1, 1, 0, 0 }).Select(r => (r.Record.Key, r.Score)));
    }

    [Fact]
    public async Task Pull_ACopyOfAnotherModel_IsSkippedAndReported_TheOthersStillMerge()
    {
        var backend = new FileSystemBackend(Path.Combine(_root, "repo"));
        using MemorySyncManager laptop = await SetupAsync(backend, "laptop");
        using MemorySyncManager tablet = await SetupAsync(backend, "tablet");
        using MemorySyncManager phone = await SetupAsync(backend, "phone");

        // The laptop changed its embedding model; the tablet still uses the phone's.
        using LocalVectorCollection upgraded = await TestData.FillAsync(TestData.Uniform(30, 12, 45), Options(laptop, LocalIndexKind.Exact), "memories", model: "newer-model");
        using LocalVectorCollection same = await TestData.FillAsync(TestData.Uniform(40, 8, 46), Options(tablet, LocalIndexKind.Exact), "memories");
        VectorPushResult laptopCopy = await new LocalVectorSync(backend, laptop.Keys, laptop.DeviceId).PushAsync(upgraded);
        await new LocalVectorSync(backend, tablet.Keys, tablet.DeviceId).PushAsync(same);
        using var target = LocalVectorCollection.Create("memories", same.Model, Options(phone, LocalIndexKind.Exact));

        VectorPullResult pulled = await new LocalVectorSync(backend, phone.Keys, phone.DeviceId).PullAsync(target);

        Assert.Equal(1, pulled.Devices);
        Assert.Equal(40, pulled.Upserted);
        Assert.Equal(40, await target.CountAsync());
        SkippedVectorCopy skipped = Assert.Single(pulled.SkippedModels);
        Assert.Equal(laptopCopy.ObjectName, skipped.ObjectName);
        Assert.Equal(new EmbeddingModelInfo("newer-model", 12), skipped.Model);
    }

    [Fact]
    public async Task Pull_TamperedObject_IsReportedAndNothingOfItMerged()
    {
        var backend = new FileSystemBackend(Path.Combine(_root, "repo"));
        using MemorySyncManager laptop = await SetupAsync(backend, "laptop");
        using MemorySyncManager phone = await SetupAsync(backend, "phone");
        using LocalVectorCollection source = await TestData.FillAsync(TestData.Uniform(50, 8, 44), Options(laptop, LocalIndexKind.Exact), "memories");
        VectorPushResult pushed = await new LocalVectorSync(backend, laptop.Keys, laptop.DeviceId).PushAsync(source);
        string path = Path.Combine(_root, "repo", pushed.ObjectName);
        byte[] bytes = await File.ReadAllBytesAsync(path);
        bytes[^20] ^= 1;
        await File.WriteAllBytesAsync(path, bytes);
        using var target = LocalVectorCollection.Create("memories", source.Model, Options(phone, LocalIndexKind.Exact));

        VectorPullResult pulled = await new LocalVectorSync(backend, phone.Keys, phone.DeviceId).PullAsync(target);

        DamagedVectorCopy damaged = Assert.Single(pulled.Damaged);
        Assert.Equal(pushed.ObjectName, damaged.ObjectName);
        Assert.Equal(GhostieErrorCode.IntegrityFailure, damaged.Code);
        Assert.Contains(pushed.ObjectName, damaged.Message, StringComparison.Ordinal);
        Assert.False(pulled.Success);
        Assert.Equal(0, pulled.Devices);
        Assert.Equal(0, await target.CountAsync());
    }

    [Fact]
    public async Task Pull_OneDamagedCopyAmongSeveral_TheOthersStillMerge_AndTheCountsAreKept()
    {
        var backend = new FileSystemBackend(Path.Combine(_root, "repo"));
        using MemorySyncManager phone = await SetupAsync(backend, "phone");
        var pushed = new List<(VectorPushResult Push, int Count)>();
        int seed = 60;
        foreach (string device in new[] { "laptop", "tablet", "desktop" })
        {
            using MemorySyncManager manager = await SetupAsync(backend, device);
            int count = 10 + pushed.Count;
            using LocalVectorCollection copy = await TestData.FillAsync(TestData.Uniform(count, 8, seed++), Options(manager, LocalIndexKind.Exact), "memories", keyPrefix: device + "-");
            pushed.Add((await new LocalVectorSync(backend, manager.Keys, manager.DeviceId).PushAsync(copy), count));
        }

        // The copy the pull reads first is the damaged one: it must not block the devices after it.
        var (bad, badCount) = pushed.OrderBy(p => p.Push.ObjectName, StringComparer.Ordinal).First();
        string path = Path.Combine(_root, "repo", bad.ObjectName);
        byte[] bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(path, bytes);
        using var target = LocalVectorCollection.Create("memories", new EmbeddingModelInfo("test-model", 8), Options(phone, LocalIndexKind.Exact));

        VectorPullResult pulled = await new LocalVectorSync(backend, phone.Keys, phone.DeviceId).PullAsync(target);

        Assert.Equal(2, pulled.Devices);
        int good = pushed.Sum(p => p.Count) - badCount;
        Assert.Equal(good, pulled.Upserted);
        Assert.Equal(good, await target.CountAsync());
        Assert.Equal(bad.ObjectName, Assert.Single(pulled.Damaged).ObjectName);
    }

    private static LocalVectorStoreOptions Options(MemorySyncManager device, LocalIndexKind kind, TimeProvider? clock = null)
    {
        var options = new LocalVectorStoreOptions { IndexKind = kind, DeviceId = device.DeviceId, TimeProvider = clock ?? TimeProvider.System };
        options.Hnsw.EfConstruction = 64;
        return options;
    }

    private async Task<MemorySyncManager> SetupAsync(IStorageBackend backend, string device)
    {
        var configuration = new SyncConfiguration { Backend = "folder", DeviceId = device, DeviceName = device };
        configuration.Settings["path"] = Path.Combine(_root, "repo");
        var options = new GhostieSyncOptions { Home = Path.Combine(_root, "home-" + device) };
        return await MemorySyncManager.SetupAsync(backend, configuration, Passphrase, options);
    }
}
