using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Testing;

namespace Ghostie.Sync.Tests;

/// <summary>What is particular to the Azure backend, against Azurite: block uploads, paging, prefixes, conditions on
/// large objects, container creation, request counting.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobBackendTests(AzuriteFixture azurite)
{
    private const int Block = AzureBlobBackendOptions.MinBlockSize * 4; // 64 KiB

    private static MemoryStream Bytes(byte[] data) => new(data, writable: false);

    private static byte[] Random(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static Task<byte[]?> ReadAsync(IStorageBackend backend, string name) => backend.ReadAllAsync(name);

    private static Task<List<string>> ListAsync(IStorageBackend backend, string prefix) => backend.ListAsync(prefix).ToListAsync();

    private Task<AzureBlobBackend> SmallBlocksAsync(RecordingHandler recorder) => azurite.NewBackendAsync(o =>
    {
        o.BlockSize = Block;
        o.SinglePutThreshold = Block;
        o.HttpMessageHandler = recorder;
    });

    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(1000, 1, 0)]
    [InlineData(Block, 1, 0)]
    [InlineData(Block + 1, 0, 2)]
    [InlineData((3 * Block) + 77, 0, 4)]
    public async Task Put_UsesOnePutBlobUpToTheThreshold_AndStagedBlocksAbove(int size, int putBlobs, int blocks)
    {
        using var recorder = new RecordingHandler();
        using AzureBlobBackend backend = await SmallBlocksAsync(recorder);
        byte[] data = Random(size, size);

        await backend.PutAsync("o/x", Bytes(data));

        Assert.Equal(blocks, recorder.Count("PUT", "comp=block&"));
        Assert.Equal(blocks > 0 ? 1 : 0, recorder.Count("PUT", "comp=blocklist"));
        Assert.Equal(putBlobs, recorder.Requests.Count(r => r.StartsWith("PUT ", StringComparison.Ordinal) && !r.Contains("comp=", StringComparison.Ordinal)));
        Assert.Equal(putBlobs + blocks + (blocks > 0 ? 1 : 0), backend.RequestCount);
        Assert.Equal(data, await ReadAsync(backend, "o/x"));
    }

    private static bool IsPut(HttpRequestMessage request) => request.Method == HttpMethod.Put;

    private static bool IsBlockList(HttpRequestMessage request) =>
        request.Method == HttpMethod.Put && request.RequestUri!.Query.Contains("comp=blocklist", StringComparison.Ordinal);

    private Task<AzureBlobBackend> LosingAsync(AnswerLosingHandler losing) => azurite.NewBackendAsync(o =>
    {
        o.BlockSize = Block;
        o.SinglePutThreshold = Block;
        o.HttpMessageHandler = losing;
        o.Retry = new BackendRetryOptions { TimeProvider = new RecordingTimeProvider(), JitterSeed = 5 };
    });

    [Theory]
    [InlineData(10)]
    [InlineData((2 * Block) + 3)]
    public async Task TryCreate_FirstAnswerLost_RetryStillReportsCreated(int size)
    {
        using var losing = new AnswerLosingHandler();
        using AzureBlobBackend backend = await LosingAsync(losing);
        byte[] data = Random(size, size);

        losing.LoseNextMatching = size > Block ? IsBlockList : IsPut;
        Assert.True(await backend.TryCreateAsync("c/one", Bytes(data)));

        Assert.Equal(1, losing.Lost);
        Assert.Equal(data, await ReadAsync(backend, "c/one"));
        Assert.False(await backend.TryCreateAsync("c/one", Bytes([1])));
    }

    [Theory]
    [InlineData(10)]
    [InlineData((2 * Block) + 3)]
    public async Task TryReplace_FirstAnswerLost_RetryStillReportsReplaced(int size)
    {
        using var losing = new AnswerLosingHandler();
        using AzureBlobBackend backend = await LosingAsync(losing);
        Assert.True(await backend.TryCreateAsync("r/one", Bytes([1])));
        string version = Assert.IsType<string>(await backend.GetVersionAsync("r/one"));
        byte[] data = Random(size, size);

        losing.LoseNextMatching = size > Block ? IsBlockList : IsPut;
        Assert.True(await backend.TryReplaceAsync("r/one", Bytes(data), version));

        Assert.Equal(1, losing.Lost);
        Assert.Equal(data, await ReadAsync(backend, "r/one"));
        Assert.False(await backend.TryReplaceAsync("r/one", Bytes([3]), version));
    }

    [Fact]
    public async Task Put_LargeObject_BlockListAnswerLost_RetryCommitsTheSameBlocks()
    {
        using var losing = new AnswerLosingHandler();
        using AzureBlobBackend backend = await LosingAsync(losing);
        byte[] data = Random((3 * Block) + 5, 17);

        losing.LoseNextMatching = IsBlockList;
        await backend.PutAsync("p/big", Bytes(data));

        Assert.Equal(1, losing.Lost);
        Assert.Equal(data, await ReadAsync(backend, "p/big"));
    }

    [Fact]
    public async Task Delete_FirstAnswerLost_StillReportsDeleted()
    {
        using var losing = new AnswerLosingHandler();
        using AzureBlobBackend backend = await LosingAsync(losing);
        await backend.PutAsync("d/1", Bytes([1]));

        losing.LoseNextMatching = r => r.Method == HttpMethod.Delete;
        Assert.True(await backend.DeleteAsync("d/1"));

        Assert.Equal(1, losing.Lost);
        Assert.Null(await ReadAsync(backend, "d/1"));
        Assert.False(await backend.DeleteAsync("d/1"));

        // A first attempt that never reached the service proves nothing: a missing blob is still reported missing.
        losing.RefuseNext = true;
        Assert.False(await backend.DeleteAsync("d/1"));
    }

    [Theory]
    [InlineData(5)]
    [InlineData((2 * Block) + 9)]
    public async Task TryReplace_RacingInstances_WithOneVersion_ExactlyOneWins_AndItsBytesStand(int size)
    {
        using AzureBlobBackend first = await azurite.NewBackendAsync();
        var devices = Enumerable.Range(0, 6).Select(_ =>
        {
            AzureBlobBackendOptions options = azurite.Options(first.Container);
            options.BlockSize = Block;
            options.SinglePutThreshold = Block;
            return new AzureBlobBackend(options);
        }).ToList();
        try
        {
            Assert.True(await first.TryCreateAsync("x/shared", Bytes([0])));
            string version = Assert.IsType<string>(await first.GetVersionAsync("x/shared"));
            byte[][] contents = Enumerable.Range(0, devices.Count).Select(i => Random(size, 100 + i)).ToArray();

            bool[] won = await Task.WhenAll(devices.Select((d, i) => d.TryReplaceAsync("x/shared", Bytes(contents[i]), version)));

            int winner = Assert.Single(Enumerable.Range(0, won.Length), i => won[i]);
            Assert.Equal(contents[winner], await ReadAsync(first, "x/shared"));
        }
        finally
        {
            devices.ForEach(d => d.Dispose());
        }
    }

    [Fact]
    public async Task TryCreate_SameBytesCreatedByAnotherWriterBeforeRetry_ReportsFalse()
    {
        using var losing = new AnswerLosingHandler();
        using AzureBlobBackend backend = await LosingAsync(losing);
        using var other = new AzureBlobBackend(azurite.Options(backend.Container));

        losing.InsteadOfNext = async () => Assert.True(await other.TryCreateAsync("c/claim", Bytes([7, 7, 7])));
        Assert.False(await backend.TryCreateAsync("c/claim", Bytes([7, 7, 7])));
        Assert.Equal(1, losing.Lost);
    }

    [Fact]
    public async Task Listing_PagesWithTheMarker_AtASmallPageSize()
    {
        using var recorder = new RecordingHandler();
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o =>
        {
            o.ListPageSize = 7;
            o.HttpMessageHandler = recorder;
        });
        var names = Enumerable.Range(0, 30).Select(i => $"p/{i * 37 % 101:x2}").ToList();
        foreach (string name in names.Concat(["q/1", "q/2", "pz"]))
        {
            await backend.PutAsync(name, Bytes([1]));
        }

        List<string> listed = await ListAsync(backend, "p/");

        Assert.Equal(names.Order(StringComparer.Ordinal), listed);
        Assert.Equal(5, recorder.Count("GET", "comp=list"));
        Assert.Equal(4, recorder.Count("GET", "marker="));
        Assert.Equal(33, (await ListAsync(backend, "")).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LongestPrefixAndName_WithEveryAllowedCharacter_RoundTrip_UnderSharedKeyAndSas(bool sas)
    {
        using AzureBlobBackend owner = await azurite.NewBackendAsync();
        string prefix = string.Concat(Enumerable.Repeat("Ab.9-_x/", 64))[..511] + "Z";
        string name = string.Concat(Enumerable.Repeat("z9/", 21)) + "a";
        AzureBlobBackendOptions options = azurite.Options(owner.Container);
        options.Prefix = prefix;
        if (sas)
        {
            options.AccountKey = null;
            options.SasToken = AccountSas.Create(Servers.AzuriteAccount, Servers.AzuriteKey, "rwdl", new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero));
        }

        using var backend = new AzureBlobBackend(options);
        Assert.True(await backend.TryCreateAsync(name, Bytes([1, 2])));
        string version = Assert.IsType<string>(await backend.GetVersionAsync(name));
        Assert.True(await backend.TryReplaceAsync(name, Bytes([3]), version));

        Assert.Equal(new byte[] { 3 }, await ReadAsync(backend, name));
        Assert.Equal([name], await ListAsync(backend, "z9/"));
        Assert.True(await backend.DeleteAsync(name));
        Assert.Empty(await ListAsync(owner, ""));
    }

    [Fact]
    public async Task Prefix_KeepsRepositoriesApartInOneContainer()
    {
        using AzureBlobBackend whole = await azurite.NewBackendAsync();
        AzureBlobBackendOptions Under(string prefix)
        {
            AzureBlobBackendOptions options = azurite.Options(whole.Container);
            options.Prefix = prefix;
            return options;
        }

        using var alice = new AzureBlobBackend(Under("ghostie/alice"));
        using var bob = new AzureBlobBackend(Under("ghostie/bob"));
        await alice.PutAsync("h/1", Bytes([1]));
        await bob.PutAsync("h/1", Bytes([2]));
        await bob.PutAsync("h/2", Bytes([3]));

        Assert.Equal(["h/1"], await ListAsync(alice, ""));
        Assert.Equal(["h/1", "h/2"], await ListAsync(bob, "h/"));
        Assert.Equal(new byte[] { 1 }, await ReadAsync(alice, "h/1"));
        Assert.Equal(["ghostie/alice/h/1", "ghostie/bob/h/1", "ghostie/bob/h/2"], await ListAsync(whole, ""));
        Assert.True(await alice.DeleteAsync("h/1"));
        Assert.Equal(new byte[] { 2 }, await ReadAsync(bob, "h/1"));
        Assert.Contains("prefix 'ghostie/bob'", bob.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConditionalWrites_OfLargeObjects_PutTheConditionOnTheBlockList()
    {
        using var recorder = new RecordingHandler();
        using AzureBlobBackend backend = await SmallBlocksAsync(recorder);
        byte[] first = Random((2 * Block) + 5, 1);
        byte[] second = Random((2 * Block) + 9, 2);

        Assert.True(await backend.TryCreateAsync("k/big", Bytes(first)));
        Assert.False(await backend.TryCreateAsync("k/big", Bytes(second)));
        Assert.Equal(first, await ReadAsync(backend, "k/big"));

        string? version = await backend.GetVersionAsync("k/big");
        Assert.NotNull(version);
        Assert.True(await backend.TryReplaceAsync("k/big", Bytes(second), version));
        Assert.False(await backend.TryReplaceAsync("k/big", Bytes(first), version));
        Assert.Equal(second, await ReadAsync(backend, "k/big"));
        Assert.False(await backend.TryReplaceAsync("k/gone", Bytes(first), version));
        Assert.Null(await backend.GetVersionAsync("k/gone"));
        Assert.Equal(5, recorder.Count("PUT", "comp=blocklist"));
    }

    [Fact]
    public async Task RacingLargeCreates_ExactlyOneWins_TheOthersReturnFalse()
    {
        using var recorder = new RecordingHandler();
        using AzureBlobBackend backend = await SmallBlocksAsync(recorder);
        byte[][] contents = [.. Enumerable.Range(0, 6).Select(i => Random((3 * Block) + i, 10 + i))];

        bool[] won = await Task.WhenAll(contents.Select(c => Task.Run(() => backend.TryCreateAsync("k/race", Bytes(c)))));

        Assert.Equal(1, won.Count(w => w));
        Assert.Equal(contents[Array.IndexOf(won, true)], await ReadAsync(backend, "k/race"));
    }

    [Fact]
    public async Task Download_BrokenMidway_ResumesFromTheOffset_UnderTheETag()
    {
        using var breaking = new BreakingHandler(breakAfter: 100_000, breaks: 2);
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o => o.HttpMessageHandler = breaking);
        byte[] data = Random(300_000, 8);
        await backend.PutAsync("d/1", Bytes(data));

        Assert.Equal(data, await ReadAsync(backend, "d/1"));

        Assert.Equal(["bytes=100000-"], breaking.Ranges);
        Assert.Equal(3, backend.RequestCount);
        Assert.Equal(data, await ReadAsync(backend, "d/1")); // the second break, on a fresh download
    }

    [Fact]
    public async Task Download_BrokenWhileTheBlobIsReplaced_FailsClearly_NeverSplices()
    {
        AzureBlobBackend? other = null;
        using var breaking = new BreakingHandler(breakAfter: 50_000, breaks: 1, onBreak: () => other!.PutAsync("d/2", Bytes(Random(200_000, 2))));
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o => o.HttpMessageHandler = breaking);
        using AzureBlobBackend sameContainer = new(azurite.Options(backend.Container));
        other = sameContainer;
        await backend.PutAsync("d/2", Bytes(Random(200_000, 1)));

        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => ReadAsync(backend, "d/2"));

        Assert.Equal(GhostieErrorCode.BackendUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("'d/2'", error.Message, StringComparison.Ordinal);
        Assert.Single(breaking.Ranges);
    }

    [Fact]
    public async Task CancelledBlockUpload_KeepsThePreviousObject()
    {
        using var recorder = new RecordingHandler();
        using AzureBlobBackend backend = await SmallBlocksAsync(recorder);
        await backend.PutAsync("c/o", Bytes([7, 7]));
        using var cts = new CancellationTokenSource();
        var source = new GeneratedStream(10L * Block, seed: 5, triggerAt: (3L * Block) + 10, trigger: cts.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("c/o", source, cts.Token));

        Assert.True(recorder.Count("PUT", "comp=block&") >= 3);
        Assert.Equal(0, recorder.Count("PUT", "comp=blocklist"));
        Assert.Equal(new byte[] { 7, 7 }, await ReadAsync(backend, "c/o"));
    }

    [Fact]
    public async Task MissingContainer_IsCreatedOnFirstUse_OnlyWhenAsked()
    {
        string container = azurite.NewContainerName("lazy");
        using var strict = new AzureBlobBackend(azurite.Options(container));
        var error = await Assert.ThrowsAsync<GhostieSyncException>(() => strict.PutAsync("a/b", Bytes([1])));
        Assert.Equal(GhostieErrorCode.StorageNotFound, error.Code);
        Assert.Contains($"Azure container '{container}' at {azurite.ServiceUri.ToString().TrimEnd('/')}", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);

        AzureBlobBackendOptions options = azurite.Options(container);
        options.CreateContainerIfMissing = true;
        using var lenient = new AzureBlobBackend(options);
        await lenient.PutAsync("a/b", Bytes([1]));
        Assert.Equal(3, lenient.RequestCount); // the refused put, the container, the put again
        Assert.Equal(new byte[] { 1 }, await ReadAsync(strict, "a/b"));
        Assert.False(await lenient.CreateContainerIfNotExistsAsync());
        Assert.True(await lenient.DeleteContainerAsync());
        Assert.False(await lenient.DeleteContainerAsync());
    }

    [Fact]
    public async Task ConnectionString_WithBlobEndpointAndKey_Works()
    {
        using AzureBlobBackend created = await azurite.NewBackendAsync();
        var options = new AzureBlobBackendOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={Servers.AzuriteAccount};AccountKey={Servers.AzuriteKey};BlobEndpoint={azurite.ServiceUri};",
            Container = created.Container,
        };
        using var backend = new AzureBlobBackend(options);

        await backend.PutAsync("cs/1", Bytes([4, 2]));

        Assert.Equal(new byte[] { 4, 2 }, await ReadAsync(created, "cs/1"));
        Assert.Equal(created.DisplayName, backend.DisplayName);
    }

    [Fact]
    public async Task RequestCount_CountsRetriesToo()
    {
        using var faults = new FaultInjectingHandler();
        var clock = new RecordingTimeProvider();
        using AzureBlobBackend backend = await azurite.NewBackendAsync(o =>
        {
            o.HttpMessageHandler = faults;
            o.Retry = new BackendRetryOptions { TimeProvider = clock, JitterSeed = 1 };
        });
        faults.FailNext(2, Fault.Status(System.Net.HttpStatusCode.ServiceUnavailable, ("x-ms-error-code", "ServerBusy"), ("Retry-After", "4")));

        await backend.PutAsync("r/1", Bytes([1]));

        Assert.Equal(3, backend.RequestCount);
        Assert.Equal([TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(4)], clock.Waits);
    }
}
