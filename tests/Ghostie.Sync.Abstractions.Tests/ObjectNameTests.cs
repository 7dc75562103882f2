namespace Ghostie.Sync.Tests;

public class ObjectNameTests
{
    [Theory]
    [InlineData("keys/0011223344556677")]
    [InlineData("a")]
    [InlineData("d/abc/packs/z9")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123")] // 64 characters
    public void IsValid_AcceptsShortLowercaseNames(string name)
    {
        Assert.True(ObjectName.IsValid(name));
        ObjectName.Validate(name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Keys/upper")]
    [InlineData("/leading")]
    [InlineData("trailing/")]
    [InlineData("double//slash")]
    [InlineData("with space")]
    [InlineData("dot.json")]
    [InlineData("dash-name")]
    [InlineData("unicode/é")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234")] // 65 characters
    public void Validate_RejectsOtherNames_WithInvalidArgumentNamingThem(string? name)
    {
        Assert.False(ObjectName.IsValid(name));
        var ex = Assert.Throws<GhostieSyncException>(() => ObjectName.Validate(name, "objectName"));
        Assert.Equal(GhostieErrorCode.InvalidArgument, ex.Code);
        Assert.Contains(name ?? "(null)", ex.Message);
        Assert.Contains("objectName", ex.Message);
    }
}

public class InMemoryStorageBackendTests
{
    [Fact]
    public async Task PutGetListDelete_BehaveAsTheContractSays()
    {
        var backend = new InMemoryStorageBackend();
        await backend.PutAsync("b/2", new MemoryStream([2]));
        await backend.PutAsync("a/1", new MemoryStream([1]));
        await backend.PutAsync("b/1", new MemoryStream([]));
        await backend.PutAsync("a/1", new MemoryStream([9, 9])); // overwrite

        Assert.Equal(["b/1", "b/2"], await backend.ListAsync("b/").ToListAsync());
        Assert.Equal(["a/1", "b/1", "b/2"], await backend.ListAsync("").ToListAsync());
        await using (Stream? s = await backend.GetAsync("a/1"))
        {
            using var copy = new MemoryStream();
            await s!.CopyToAsync(copy);
            Assert.Equal([9, 9], copy.ToArray());
        }

        Assert.Null(await backend.GetAsync("missing"));
        Assert.True(await backend.DeleteAsync("a/1"));
        Assert.False(await backend.DeleteAsync("a/1"));
        Assert.Equal(2, backend.Count);
    }

    [Fact]
    public async Task Put_CancelledBeforeCompletion_StoresNothing()
    {
        var backend = new InMemoryStorageBackend();
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backend.PutAsync("x", new MemoryStream([1]), cts.Token));
        Assert.Equal(0, backend.Count);
    }

    [Fact]
    public async Task Put_InvalidName_IsRejected()
    {
        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => new InMemoryStorageBackend().PutAsync("Bad Name", new MemoryStream()));
        Assert.Equal(GhostieErrorCode.InvalidArgument, ex.Code);
    }
}

public class GhostieSyncExceptionTests
{
    [Fact]
    public void Exceptions_CarryCodesAndActionableMessages()
    {
        var integrity = new IntegrityException("packs/x", "chunk 2 failed authentication");
        var unsupported = new UnsupportedFormatException("Object 'packs/x'", 3, 1);
        var wrong = new WrongPassphraseException(2);

        Assert.Equal(GhostieErrorCode.IntegrityFailure, integrity.Code);
        Assert.Contains("packs/x", integrity.Message);
        Assert.False(integrity.IsTransient);
        Assert.Equal("Object 'packs/x': unsupported format v3; this version reads up to v1. Upgrade Ghostie.Sync to read it.", unsupported.Message);
        Assert.Equal((3, 1), (unsupported.FoundVersion, unsupported.MaxSupportedVersion));
        Assert.Equal(GhostieErrorCode.WrongPassphrase, wrong.Code);
        Assert.Contains("2 key file(s)", wrong.Message);
        Assert.True(new GhostieSyncException(GhostieErrorCode.BackendUnavailable, "x", isTransient: true).IsTransient);
    }
}

public class ConditionalWriteTests
{
    [Fact]
    public async Task InMemory_CreateOnly_And_ReplaceIfUnchanged()
    {
        IConditionalStorageBackend backend = new InMemoryStorageBackend();

        Assert.True(await backend.TryCreateAsync("h/x", new MemoryStream([1])));
        Assert.False(await backend.TryCreateAsync("h/x", new MemoryStream([2])));
        string v1 = (await backend.GetVersionAsync("h/x"))!;
        Assert.True(await backend.TryReplaceAsync("h/x", new MemoryStream([3]), v1));
        Assert.False(await backend.TryReplaceAsync("h/x", new MemoryStream([4]), v1)); // stale version
        Assert.False(await backend.TryReplaceAsync("h/missing", new MemoryStream([5]), v1));
        Assert.Null(await backend.GetVersionAsync("h/missing"));
        await using Stream? s = await backend.GetAsync("h/x");
        Assert.Equal(3, s!.ReadByte());
    }
}
