using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

public sealed class DeviceKeyCacheTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "ghostie-cache-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Fact]
    public async Task Save_ThenTryOpen_OpensWithoutPassphrase()
    {
        var backend = new InMemoryStorageBackend();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        byte[] sealedObject;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            sealedObject = keys.Cipher.Seal("cached"u8, ObjectKind.Pack, "packs/c");
            cache.Save(keys);
        }

        using RepositoryKeys? reopened = await cache.TryOpenAsync(backend, FastOptions());

        Assert.NotNull(reopened);
        Assert.Null(reopened.CurrentKeyFileId);
        Assert.Equal("cached"u8.ToArray(), reopened.Cipher.Open(sealedObject, ObjectKind.Pack, "packs/c"));
        Assert.Equal(Path.Combine(_home, "keys", "master.key"), cache.FilePath);
    }

    [UnixFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Save_CreatesOwnerOnlyFileAndFolder()
    {
        using RepositoryKeys keys = await NewRepositoryAsync();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);

        cache.Save(keys);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cache.FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(cache.FilePath)!));
        Assert.Equal(88, new FileInfo(cache.FilePath).Length);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(cache.FilePath)!)); // no temp file left behind
    }

    [UnixFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TryOpen_FileReadableByOthers_IsRefusedWithChmodAdvice()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        cache.Save(keys);
        File.SetUnixFileMode(cache.FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => cache.TryOpenAsync(backend, FastOptions()));

        Assert.Equal(GhostieErrorCode.InsecurePermissions, ex.Code);
        Assert.Contains("chmod 600", ex.Message);
    }

    [Fact]
    public async Task TryOpen_NoCache_ReturnsNull()
    {
        Assert.Null(await DeviceKeyCache.ForHome(_home).TryOpenAsync(new InMemoryStorageBackend(), FastOptions()));
    }

    [Fact]
    public async Task TryOpen_DamagedFile_ThrowsIntegrityWithAdvice()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        cache.Save(keys);
        byte[] raw = File.ReadAllBytes(cache.FilePath);
        raw[30] ^= 1;
        File.WriteAllBytes(cache.FilePath, raw);

        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => cache.TryOpenAsync(backend, FastOptions()));
        Assert.Equal(GhostieErrorCode.IntegrityFailure, ex.Code);
        Assert.Contains("Forget", ex.Message);
    }

    [Fact]
    public async Task TryOpen_CacheOfAnotherRepository_SaysSo()
    {
        using RepositoryKeys mine = await NewRepositoryAsync();
        var otherBackend = new InMemoryStorageBackend();
        using RepositoryKeys other = await NewRepositoryAsync(otherBackend);
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        cache.Save(mine);

        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => cache.TryOpenAsync(otherBackend, FastOptions()));
        Assert.Contains(mine.RepositoryId, ex.Message);
        Assert.Contains(other.RepositoryId, ex.Message);
    }

    [Fact]
    public async Task Forget_DeletesTheFile_AndPassphraseIsNeededAgain()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        cache.Save(keys);

        Assert.True(cache.Forget());

        Assert.False(File.Exists(cache.FilePath));
        Assert.Null(await cache.TryOpenAsync(backend, FastOptions()));
        Assert.False(cache.Forget());
    }

    [Fact]
    public async Task Cache_SurvivesPassphraseChange_BecauseTheMasterKeyIsUnchanged()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_home);
        cache.Save(keys);
        await keys.ChangePassphraseAsync("changed passphrase");

        using RepositoryKeys? reopened = await cache.TryOpenAsync(backend, FastOptions());
        Assert.NotNull(reopened);
        Assert.Equal(keys.RepositoryId, reopened.RepositoryId);
    }
}
