using Ghostie.Sync.Vectors.Local;

namespace Ghostie.Sync.Vectors.Tests;

public sealed class PersistenceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ghostie-vectors-" + Guid.NewGuid().ToString("N")[..10]);

    public PersistenceTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(LocalIndexKind.Hnsw, VectorQuantization.None)]
    [InlineData(LocalIndexKind.Exact, VectorQuantization.None)]
    [InlineData(LocalIndexKind.Hnsw, VectorQuantization.Int8)]
    public async Task SaveLoad_RoundTrip_SameRecordsSameGraphSameAnswers(LocalIndexKind kind, VectorQuantization quantization)
    {
        float[][] vectors = TestData.Clustered(1200, 32, 12, seed: 21);
        var options = new LocalVectorStoreOptions { IndexKind = kind, Quantization = quantization };
        options.Hnsw.EfConstruction = 64;
        using LocalVectorCollection original = await TestData.FillAsync(vectors, options);
        await original.DeleteAsync(TestData.Key(7));
        string path = Path.Combine(_dir, "test.gvx");

        await original.SaveAsync(path);
        Assert.False(original.IsDirty);
        using LocalVectorCollection loaded = await LocalVectorCollection.LoadAsync(path, options);

        Assert.Equal(original.Model, loaded.Model);
        Assert.Equal(original.Quantization, loaded.Quantization);
        Assert.Equal(original.HasGraph, loaded.HasGraph);
        Assert.Equal(await original.CountAsync(), await loaded.CountAsync());
        Assert.Null(await loaded.GetAsync(TestData.Key(7)));
        VectorRecord record = (await loaded.GetAsync(TestData.Key(8)))!;
        Assert.Equal((await original.GetAsync(TestData.Key(8)))!.Vector.ToArray(), record.Vector.ToArray());
        Assert.Equal("0", record.Data!["parity"]);
        foreach (float[] query in TestData.Clustered(20, 32, 12, seed: 22))
        {
            var a = original.Search(query, new VectorSearchOptions { Top = 10 });
            var b = loaded.Search(query, new VectorSearchOptions { Top = 10 });
            Assert.Equal(a.Select(r => (r.Record.Key, r.Score)), b.Select(r => (r.Record.Key, r.Score)));
        }

        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories)); // the temporary file was renamed
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public async Task Load_FlippedByte_IntegrityFailureNamingTheFile()
    {
        string path = await SaveSampleAsync();
        byte[] bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x40; // inside the vectors
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => LocalVectorCollection.LoadAsync(path));

        Assert.Equal(GhostieErrorCode.IntegrityFailure, error.Code);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(5000)]
    public async Task Load_Truncated_IntegrityFailure(int cut)
    {
        string path = await SaveSampleAsync();
        byte[] bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..^cut]);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => LocalVectorCollection.LoadAsync(path));
        Assert.Equal(GhostieErrorCode.IntegrityFailure, error.Code);
    }

    [Fact]
    public async Task Load_DamagedLength_IntegrityFailureNotACrash()
    {
        string path = await SaveSampleAsync();
        byte[] bytes = await File.ReadAllBytesAsync(path);
        BitConverter.TryWriteBytes(bytes.AsSpan(12), int.MaxValue); // the record count
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => LocalVectorCollection.LoadAsync(path));
        Assert.Equal(GhostieErrorCode.IntegrityFailure, error.Code);
    }

    [Fact]
    public async Task Load_NewerFormatVersion_UnsupportedFormat()
    {
        string path = await SaveSampleAsync();
        byte[] bytes = await File.ReadAllBytesAsync(path);
        bytes[4] = 2;
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => LocalVectorCollection.LoadAsync(path));
        Assert.Equal(GhostieErrorCode.UnsupportedFormat, error.Code);
    }

    [Fact]
    public async Task Store_SaveThenReopen_LoadsTheFileInsteadOfStartingEmpty()
    {
        float[][] vectors = TestData.Uniform(100, 12, 23);
        var model = new EmbeddingModelInfo("m", 12);
        using (var store = new LocalVectorStore(new LocalVectorStoreOptions { Directory = _dir }))
        {
            var collection = await store.GetOrCreateCollectionAsync("notes", model);
            await collection.UpsertAsync(vectors.Select((v, i) => new VectorRecord(TestData.Key(i), v)));
            await store.SaveAsync();
        }

        Assert.True(File.Exists(Path.Combine(_dir, "notes.gvx")));
        using var reopened = new LocalVectorStore(new LocalVectorStoreOptions { Directory = _dir });
        IVectorStore contract = reopened;
        IVectorCollection again = await contract.GetOrCreateCollectionAsync("notes", model);
        Assert.Equal(100, await again.CountAsync());
        await Assert.ThrowsAsync<VectorModelMismatchException>(() => reopened.GetOrCreateCollectionAsync("notes", new EmbeddingModelInfo("m", 13)));
        Assert.True(await reopened.DeleteCollectionAsync("notes"));
        Assert.False(File.Exists(Path.Combine(_dir, "notes.gvx")));
    }

    [Theory]
    [InlineData(1)]   // max level raised above the entry point's level
    [InlineData(-1)]  // entry point removed from a non-empty graph
    public async Task Load_HostileGraphHeader_WithAValidChecksum_IsAnIntegrityFailure(int change)
    {
        string path = await SaveSampleAsync();
        byte[] bytes = await File.ReadAllBytesAsync(path);
        // The graph header: M = 16, efConstruction = 200, seed = 100, entry, max level (i32, little-endian).
        byte[] header = [16, 0, 0, 0, 200, 0, 0, 0, 100, 0, 0, 0];
        int at = bytes.AsSpan().IndexOf(header);
        Assert.True(at > 0, "graph header not found");
        if (change > 0)
        {
            int maxLevel = BitConverter.ToInt32(bytes, at + 16);
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 16), maxLevel + change);
        }
        else
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(at + 12), -1);
        }

        // A deliberate forgery, not damage: the checksum is recomputed so only the structure checks can catch it.
        System.Security.Cryptography.SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32), bytes.AsSpan(bytes.Length - 32));
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => LocalVectorCollection.LoadAsync(path));
        Assert.Equal(GhostieErrorCode.IntegrityFailure, error.Code);
        Assert.DoesNotContain("checksum", error.Message, StringComparison.Ordinal);
    }

    private async Task<string> SaveSampleAsync()
    {
        var options = new LocalVectorStoreOptions { IndexKind = LocalIndexKind.Hnsw };
        using LocalVectorCollection collection = await TestData.FillAsync(TestData.Clustered(300, 16, 4, seed: 24), options);
        string path = Path.Combine(_dir, "sample.gvx");
        await collection.SaveAsync(path);
        return path;
    }
}
