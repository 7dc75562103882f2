using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// Unreadable key files at valid key-file names are skipped and reported (docs/format.md, "Key file"), and key files
/// of two repositories under one <c>keys/</c> are refused on every path.
/// </summary>
public sealed class KeyFileSkipTests : IDisposable
{
    private const string Junk = "keys/0000000000000000";
    private readonly string _home = Path.Combine(Path.GetTempPath(), "ghostie-skip-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    private static async Task<InMemoryStorageBackend> RepositoryWithJunkAsync()
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        backend.SetRaw(Junk, "this is not a key file at all"u8.ToArray());
        return backend;
    }

    [Fact]
    public async Task Unlock_JunkAtAValidKeyFileName_IsSkipped_ReportedByName_AndLogged()
    {
        InMemoryStorageBackend backend = await RepositoryWithJunkAsync();
        var logger = new CapturingLogger();

        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions(logger));

        SkippedKeyFile skipped = Assert.Single(keys.SkippedKeyFiles);
        Assert.Equal("0000000000000000", skipped.Id);
        Assert.Equal(Junk, skipped.ObjectName);
        Assert.Contains("magic", skipped.Reason, StringComparison.Ordinal);
        Assert.Contains(logger.Lines, l => l.StartsWith("1008 ", StringComparison.Ordinal) && l.Contains("0000000000000000", StringComparison.Ordinal));
        Assert.NotEqual("0000000000000000", keys.CurrentKeyFileId);
    }

    [Fact]
    public async Task ListKeyFiles_SkipsTheJunkFile_AndReportsIt()
    {
        InMemoryStorageBackend backend = await RepositoryWithJunkAsync();
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());

        KeyFileInfo only = Assert.Single(await keys.ListKeyFilesAsync());

        Assert.Equal("primary", only.Label);
        Assert.Equal("0000000000000000", Assert.Single(keys.SkippedKeyFiles).Id);
    }

    [Fact]
    public async Task OpenFromDeviceCache_JunkSortedFirst_IsSkipped_NotAnIntegrityFailure()
    {
        InMemoryStorageBackend backend = await RepositoryWithJunkAsync();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        using (RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()))
        {
            cache.Save(keys);
        }

        using RepositoryKeys? reopened = await cache.TryOpenAsync(backend, FastOptions());

        Assert.NotNull(reopened);
        Assert.Equal(Junk, Assert.Single(reopened.SkippedKeyFiles).ObjectName);
    }

    [Fact]
    public async Task OpenFromDeviceCache_NoReadableKeyFile_ThrowsIntegrityNamingIt()
    {
        var backend = new InMemoryStorageBackend();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        string real;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            cache.Save(keys);
            real = RepositoryKeys.KeyFilePrefix + keys.CurrentKeyFileId;
        }

        backend.SetRaw(real, [1, 2, 3]);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => cache.TryOpenAsync(backend, FastOptions()));
        Assert.Equal(real, ex.ObjectName);
    }

    [Fact]
    public async Task RemoveKeyFile_ASkippedJunkFile_IsRemoved_AndDoesNotCountAsAKeyFile()
    {
        InMemoryStorageBackend backend = await RepositoryWithJunkAsync();
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());

        await keys.RemoveKeyFileAsync("0000000000000000");

        Assert.Null(backend.GetRaw(Junk));
        Assert.Empty(keys.SkippedKeyFiles);
        var last = await Assert.ThrowsAsync<GhostieSyncException>(() => keys.RemoveKeyFileAsync(keys.CurrentKeyFileId!));
        Assert.Equal(GhostieErrorCode.LastKeyFile, last.Code);
    }

    /// <summary>Backend A with the key file of another repository B copied in: two repositories mixed in one place.</summary>
    private static async Task<(InMemoryStorageBackend Mixed, string OwnKeyFile, string ForeignKeyFile, string OwnId, string ForeignId)> MixedAsync(string otherPassphrase)
    {
        var a = new InMemoryStorageBackend();
        var b = new InMemoryStorageBackend();
        string ownId, foreignId, own, foreign;
        using (RepositoryKeys ka = await NewRepositoryAsync(a))
        using (RepositoryKeys kb = await RepositoryKeys.InitializeAsync(b, otherPassphrase, "other", FastOptions()))
        {
            (ownId, foreignId) = (ka.RepositoryId, kb.RepositoryId);
            own = RepositoryKeys.KeyFilePrefix + ka.CurrentKeyFileId;
            foreign = RepositoryKeys.KeyFilePrefix + kb.CurrentKeyFileId;
        }

        a.SetRaw(foreign, b.GetRaw(foreign)!);
        return (a, own, foreign, ownId, foreignId);
    }

    [Theory]
    [InlineData(Passphrase)]
    [InlineData("the other repository's passphrase")]
    public async Task Unlock_KeyFilesOfTwoRepositories_IsRefused_NamingBoth_WhicheverPassphrase(string passphrase)
    {
        (InMemoryStorageBackend mixed, string own, string foreign, string ownId, string foreignId) = await MixedAsync("the other repository's passphrase");

        var ex = await Assert.ThrowsAsync<MixedRepositoriesException>(() => RepositoryKeys.UnlockAsync(mixed, passphrase, FastOptions()));

        Assert.Equal(GhostieErrorCode.IntegrityFailure, ex.Code);
        Assert.Equal([own], ex.KeyFilesByRepository[ownId]);
        Assert.Equal([foreign], ex.KeyFilesByRepository[foreignId]);
        Assert.Contains(own, ex.Message, StringComparison.Ordinal);
        Assert.Contains(foreign, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(passphrase, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenFromDeviceCache_KeyFilesOfTwoRepositories_IsRefused()
    {
        (InMemoryStorageBackend mixed, string own, string foreign, _, _) = await MixedAsync("another");
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        var clean = new InMemoryStorageBackend();
        foreach (string name in await mixed.ListAsync("").ToListAsync())
        {
            if (name != foreign)
            {
                clean.SetRaw(name, mixed.GetRaw(name)!);
            }
        }

        using (RepositoryKeys keys = await RepositoryKeys.UnlockAsync(clean, Passphrase, FastOptions()))
        {
            cache.Save(keys);
        }

        var ex = await Assert.ThrowsAsync<MixedRepositoriesException>(() => cache.TryOpenAsync(mixed, FastOptions()));
        Assert.Equal(2, ex.KeyFilesByRepository.Count);
        Assert.Contains(own, ex.Message, StringComparison.Ordinal);
    }
}
