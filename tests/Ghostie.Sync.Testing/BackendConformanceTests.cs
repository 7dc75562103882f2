using System.Diagnostics;
using System.Security.Cryptography;

namespace Ghostie.Sync.Testing;

/// <summary>
/// The behaviour every storage backend must share, whatever the store behind it. A backend's test project derives
/// one class from this per server it is tested against and implements <see cref="CreateBackendAsync"/>. Remote
/// backends derive from <see cref="RemoteBackendConformanceTests"/>, which adds retries, throttling and errors.
/// </summary>
/// <remarks>Run derived classes without test parallelization inside their assembly
/// (<c>[assembly: CollectionBehavior(DisableTestParallelization = true)]</c>): the bounded-memory test samples the
/// process's managed heap.</remarks>
public abstract class BackendConformanceTests
{
    /// <summary>The size of the large-object test (64 MiB).</summary>
    protected const long LargeObjectSize = 64L * 1024 * 1024;

    /// <summary>How much the managed heap may grow while the large object is written and read back.</summary>
    protected virtual long LargeObjectMemoryBudget => 40L * 1024 * 1024;

    /// <summary>A backend over a fresh, empty store (a new bucket, container, folder or gist set) for one test.</summary>
    protected abstract Task<IStorageBackend> CreateBackendAsync();

    /// <summary>Whether this backend, on this server, offers conditional writes (<see cref="IConditionalStorageBackend"/>).</summary>
    protected abstract bool ExpectConditionalWrites { get; }

    /// <summary>Reads an object completely, or null when it is missing.</summary>
    /// <param name="backend">The backend.</param>
    /// <param name="name">The object name.</param>
    protected static Task<byte[]?> ReadAllAsync(IStorageBackend backend, string name) => StorageReads.ReadAllAsync(backend, name);

    /// <summary>Lists into a list.</summary>
    /// <param name="backend">The backend.</param>
    /// <param name="prefix">The prefix.</param>
    protected static Task<List<string>> ListAllAsync(IStorageBackend backend, string prefix) => StorageReads.ListAllAsync(backend, prefix);

    private static MemoryStream Bytes(byte[] data) => new(data, writable: false);

    private static async Task DisposeIfNeededAsync(IStorageBackend backend)
    {
        switch (backend)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    [Fact]
    public async Task BinaryRoundTrip_EveryByteValue_AndRandomData()
    {
        IStorageBackend backend = await CreateBackendAsync();
        byte[] everyByte = Enumerable.Range(0, 512).Select(i => (byte)i).ToArray();
        byte[] random = new byte[300_001];
        new Random(42).NextBytes(random);

        await backend.PutAsync("c/bytes", Bytes(everyByte));
        await backend.PutAsync("c/random/data", Bytes(random));

        Assert.Equal(everyByte, await ReadAllAsync(backend, "c/bytes"));
        Assert.Equal(random, await ReadAllAsync(backend, "c/random/data"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task EmptyObject_IsStoredListedAndReadAsEmpty()
    {
        IStorageBackend backend = await CreateBackendAsync();
        await backend.PutAsync("c/empty", Bytes([]));

        byte[]? read = await ReadAllAsync(backend, "c/empty");
        Assert.NotNull(read);
        Assert.Empty(read);
        Assert.Equal(["c/empty"], await ListAllAsync(backend, "c/"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task MissingObject_ReadsAsNull_DeletesAsFalse()
    {
        IStorageBackend backend = await CreateBackendAsync();
        Assert.Null(await backend.GetAsync("never/written"));
        Assert.False(await backend.DeleteAsync("never/written"));
        Assert.Empty(await ListAllAsync(backend, "never/"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task Overwrite_ReplacesWholeObject_LongerThenShorter()
    {
        IStorageBackend backend = await CreateBackendAsync();
        byte[] first = new byte[10_000];
        new Random(1).NextBytes(first);
        byte[] longer = new byte[250_000];
        new Random(2).NextBytes(longer);
        byte[] shorter = [1, 2, 3];

        await backend.PutAsync("c/o", Bytes(first));
        await backend.PutAsync("c/o", Bytes(longer));
        Assert.Equal(longer, await ReadAllAsync(backend, "c/o"));
        await backend.PutAsync("c/o", Bytes(shorter));
        Assert.Equal(shorter, await ReadAllAsync(backend, "c/o"));
        Assert.Equal(["c/o"], await ListAllAsync(backend, "c/"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task DeleteTwice_TrueThenFalse_AndGone()
    {
        IStorageBackend backend = await CreateBackendAsync();
        await backend.PutAsync("c/d", Bytes([9]));
        await backend.PutAsync("c/keep", Bytes([8]));

        Assert.True(await backend.DeleteAsync("c/d"));
        Assert.False(await backend.DeleteAsync("c/d"));
        Assert.Null(await backend.GetAsync("c/d"));
        Assert.Equal(["c/keep"], await ListAllAsync(backend, "c/"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task Listing_PastOneThousand_ByPrefix_InOrdinalOrder()
    {
        IStorageBackend backend = await CreateBackendAsync();
        var many = Enumerable.Range(0, 1_050).Select(i => $"l/a/{i * 7919 % 100_000:x5}").ToList();
        var other = Enumerable.Range(0, 20).Select(i => $"l/b/{i:x2}").ToList();
        var all = many.Concat(other).Append("lz").Append("m/1").ToList();
        await Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (name, ct) => await backend.PutAsync(name, Bytes([(byte)name.Length]), ct));

        List<string> expectedMany = [.. many.Order(StringComparer.Ordinal)];
        Assert.Equal(expectedMany, await ListAllAsync(backend, "l/a/"));
        Assert.Equal([.. many.Concat(other).Order(StringComparer.Ordinal)], await ListAllAsync(backend, "l/"));
        Assert.Equal([.. all.Order(StringComparer.Ordinal)], await ListAllAsync(backend, ""));
        Assert.Equal([.. many.Where(n => n.StartsWith("l/a/0", StringComparison.Ordinal)).Order(StringComparer.Ordinal)],
            await ListAllAsync(backend, "l/a/0"));
        Assert.Empty(await ListAllAsync(backend, "l/c/"));
        Assert.Equal(["lz"], await ListAllAsync(backend, "lz"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task LargeObject_64MiB_IsStreamedInBoundedMemory()
    {
        IStorageBackend backend = await CreateBackendAsync();
        byte[] expectedHash = GeneratedStream.HashOf(LargeObjectSize, seed: 7);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(2);
            }
        });

        await using (var source = new GeneratedStream(LargeObjectSize, seed: 7))
        {
            await backend.PutAsync("big/object", source);
            Assert.Equal(LargeObjectSize, source.BytesRead);
        }

        byte[] actualHash;
        long length = 0;
        await using (Stream? read = await backend.GetAsync("big/object"))
        {
            Assert.NotNull(read);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = new byte[81920];
            int n;
            while ((n = await read.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                length += n;
            }

            actualHash = hash.GetCurrentHash();
        }

        await sampling.CancelAsync();
        await sampler;
        Assert.Equal(LargeObjectSize, length);
        Assert.Equal(expectedHash, actualHash);
        long growth = peak - baseline;
        Assert.True(growth < LargeObjectMemoryBudget,
            $"The managed heap grew by {growth / (1024 * 1024)} MiB while a {LargeObjectSize / (1024 * 1024)} MiB object was written and read (budget {LargeObjectMemoryBudget / (1024 * 1024)} MiB): the backend buffers whole objects.");
        Assert.True(await backend.DeleteAsync("big/object"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task Cancellation_BeforeStart_ThrowsForEveryVerb()
    {
        IStorageBackend backend = await CreateBackendAsync();
        await backend.PutAsync("c/x", Bytes([1]));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("c/y", Bytes([2]), cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.GetAsync("c/x", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.DeleteAsync("c/x", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (string _ in backend.ListAsync("c/", cancelled.Token))
            {
            }
        });
        Assert.Equal(["c/x"], await ListAllAsync(backend, "c/"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task Cancellation_DuringUpload_LeavesNoObject()
    {
        IStorageBackend backend = await CreateBackendAsync();
        using var cts = new CancellationTokenSource();
        var source = new GeneratedStream(24L * 1024 * 1024, seed: 3, triggerAt: 1024 * 1024, trigger: cts.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("c/cancelled", source, cts.Token));

        Assert.Null(await backend.GetAsync("c/cancelled"));
        Assert.Empty(await ListAllAsync(backend, "c/"));
        await backend.PutAsync("c/after", Bytes([5]));
        Assert.Equal(new byte[] { 5 }, await ReadAllAsync(backend, "c/after"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task InvalidNames_AreRejectedWithATypedError()
    {
        IStorageBackend backend = await CreateBackendAsync();
        foreach (string bad in new[] { "", "/lead", "trail/", "a//b", "UPPER", "a b", "../x", new string('a', 65) })
        {
            var error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.PutAsync(bad, Bytes([1])));
            Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
            error = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => backend.GetAsync(bad));
            Assert.Equal(GhostieErrorCode.InvalidArgument, error.Code);
        }

        Assert.Empty(await ListAllAsync(backend, ""));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task ConcurrentWriters_OfDifferentObjects_AllLand()
    {
        IStorageBackend backend = await CreateBackendAsync();
        var names = Enumerable.Range(0, 32).Select(i => $"w/{i:d2}").ToList();
        await Task.WhenAll(names.Select(n => backend.PutAsync(n, Bytes(System.Text.Encoding.ASCII.GetBytes(n)))));

        foreach (string n in names)
        {
            Assert.Equal(System.Text.Encoding.ASCII.GetBytes(n), await ReadAllAsync(backend, n));
        }

        Assert.Equal(names, await ListAllAsync(backend, "w/"));
        await DisposeIfNeededAsync(backend);
    }

    [Fact]
    public async Task ConditionalWrites_WhereOffered_CreateOnceAndReplaceOnlyUnchanged()
    {
        IStorageBackend backend = await CreateBackendAsync();
        Assert.Equal(ExpectConditionalWrites, backend is IConditionalStorageBackend);
        if (backend is not IConditionalStorageBackend conditional)
        {
            // Without the capability the protocol relies on single-writer names; plain overwrite must still work.
            await backend.PutAsync("k/1", Bytes([1]));
            await backend.PutAsync("k/1", Bytes([2]));
            Assert.Equal(new byte[] { 2 }, await ReadAllAsync(backend, "k/1"));
            await DisposeIfNeededAsync(backend);
            return;
        }

        Assert.Null(await conditional.GetVersionAsync("k/1"));
        Assert.True(await conditional.TryCreateAsync("k/1", Bytes([1])));
        Assert.False(await conditional.TryCreateAsync("k/1", Bytes([2])));
        Assert.Equal(new byte[] { 1 }, await ReadAllAsync(backend, "k/1"));

        string? v1 = await conditional.GetVersionAsync("k/1");
        Assert.NotNull(v1);
        Assert.True(await conditional.TryReplaceAsync("k/1", Bytes([3]), v1));
        Assert.False(await conditional.TryReplaceAsync("k/1", Bytes([4]), v1));
        Assert.Equal(new byte[] { 3 }, await ReadAllAsync(backend, "k/1"));
        Assert.False(await conditional.TryReplaceAsync("k/none", Bytes([5]), v1));
        Assert.Null(await backend.GetAsync("k/none"));

        int winners = (await Task.WhenAll(Enumerable.Range(0, 16).Select(i => conditional.TryCreateAsync("k/race", Bytes([(byte)i]))))).Count(won => won);
        Assert.Equal(1, winners);
        await DisposeIfNeededAsync(backend);
    }
}
