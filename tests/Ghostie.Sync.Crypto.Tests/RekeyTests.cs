using System.Text;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary><see cref="RepositoryKeys.RekeyAsync"/>: a new master key that shuts out every holder of the old one.</summary>
public sealed class RekeyTests : IDisposable
{
    private const string NewPassphrase = "a brand new passphrase after the theft";
    private readonly string _home = Path.Combine(Path.GetTempPath(), "ghostie-rekey-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    /// <summary>A backend that fails the first write or deletion <see cref="CrashOn"/> matches, as a crash there would.</summary>
    private sealed class CrashingBackend(IStorageBackend inner) : IStorageBackend
    {
        public Func<string, string, bool>? CrashOn { get; set; }

        public string DisplayName => inner.DisplayName;

        private void Check(string operation, string name)
        {
            if (CrashOn?.Invoke(operation, name) == true)
            {
                CrashOn = null;
                throw new IOException($"simulated crash at {operation} {name}");
            }
        }

        public Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
        {
            Check("put", name);
            return inner.PutAsync(name, content, cancellationToken);
        }

        public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);

        public IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
        {
            Check("delete", name);
            return inner.DeleteAsync(name, cancellationToken);
        }
    }

    private static async Task<int> CountAsync(IStorageBackend backend, string prefix)
    {
        int n = 0;
        await foreach (string _ in backend.ListAsync(prefix))
        {
            n++;
        }

        return n;
    }

    [Fact]
    public async Task Rekey_ShutsOutTheOldCacheAndPassphrase_NewObjectsUseAnEpochTheOldKeyCannotOpen_OldObjectsAndNamesStay()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await TestSupport.NewRepositoryAsync(backend);
        await keys.AddPassphraseAsync("printed recovery key words", "recovery");
        var lostCache = DeviceKeyCache.ForHome(_home);
        lostCache.Save(keys);
        using RepositoryKeys lost = (await lostCache.TryOpenAsync(backend, TestSupport.FastOptions()))!; // the thief's process, still running
        byte[] before = keys.Cipher.Seal("written before"u8, ObjectKind.Pack, "p/x/before");
        string name = keys.DeriveObjectName("", "device-prefix", "laptop"u8);

        RekeyResult result = await keys.RekeyAsync(NewPassphrase, "after the theft");
        byte[] after = keys.Cipher.Seal("written after"u8, ObjectKind.Pack, "p/x/after");

        Assert.Equal(result.Epoch, keys.CurrentEpoch);
        Assert.Equal(result.Epoch, keys.RekeyEpoch);
        Assert.Equal(1, await CountAsync(backend, "keys/")); // the recovery key went too: every old passphrase is out
        Assert.Equal(name, keys.DeriveObjectName("", "device-prefix", "laptop"u8));
        await Assert.ThrowsAsync<RepositoryRekeyedException>(() => lostCache.TryOpenAsync(backend, TestSupport.FastOptions()));
        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, TestSupport.Passphrase, TestSupport.FastOptions()));
        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, "printed recovery key words", TestSupport.FastOptions()));
        var unknown = Assert.Throws<GhostieSyncException>(() => lost.Cipher.Open(after, ObjectKind.Pack, "p/x/after"));
        Assert.Equal(GhostieErrorCode.NotFound, unknown.Code); // the epoch is not one it has, and it cannot load it:
        await Assert.ThrowsAsync<RepositoryRekeyedException>(() => lost.RefreshAsync());

        using RepositoryKeys other = await RepositoryKeys.UnlockAsync(backend, NewPassphrase, TestSupport.FastOptions());
        Assert.Equal("written before", Encoding.UTF8.GetString(other.Cipher.Open(before, ObjectKind.Pack, "p/x/before")));
        Assert.Equal("written after", Encoding.UTF8.GetString(other.Cipher.Open(after, ObjectKind.Pack, "p/x/after")));
        Assert.Equal(name, other.DeriveObjectName("", "device-prefix", "laptop"u8));
        Assert.Equal(keys.CurrentEpoch, other.CurrentEpoch);
        Assert.Equal("after the theft", Assert.Single(await other.ListKeyFilesAsync()).Label);
        lostCache.Save(other);
        using RepositoryKeys cachedAgain = (await lostCache.TryOpenAsync(backend, TestSupport.FastOptions()))!;
        Assert.Equal("written after", Encoding.UTF8.GetString(cachedAgain.Cipher.Open(after, ObjectKind.Pack, "p/x/after")));
    }

    [Fact]
    public async Task Rekey_CrashAfterTheNewKeyFile_ResumesWithTheSameKeyFile()
    {
        var backend = new CrashingBackend(new InMemoryStorageBackend());
        using RepositoryKeys keys = await TestSupport.NewRepositoryAsync(backend);
        byte[] before = keys.Cipher.Seal("written before"u8, ObjectKind.Pack, "p/x/before");
        backend.CrashOn = (op, name) => op == "put" && name == RepositoryKeys.KeyRingName;

        await Assert.ThrowsAsync<IOException>(() => keys.RekeyAsync(NewPassphrase));
        Assert.Equal(2, await CountAsync(backend, "keys/"));
        using (RepositoryKeys reopened = await RepositoryKeys.UnlockAsync(backend, TestSupport.Passphrase, TestSupport.FastOptions()))
        {
            Assert.Equal(keys.CurrentEpoch, reopened.CurrentEpoch); // nothing changed for the old key yet
        }

        RekeyResult result = await keys.RekeyAsync(NewPassphrase);

        Assert.Equal(1, await CountAsync(backend, "keys/"));
        using RepositoryKeys other = await RepositoryKeys.UnlockAsync(backend, NewPassphrase, TestSupport.FastOptions());
        Assert.Equal(result.KeyFileId, Assert.Single(await other.ListKeyFilesAsync()).Id);
        Assert.Equal("written before", Encoding.UTF8.GetString(other.Cipher.Open(before, ObjectKind.Pack, "p/x/before")));
    }

    [Fact]
    public async Task Rekey_CrashBeforeTheDeletions_OldKeyIsAlreadyOut_NewPassphraseFinishesIt()
    {
        var backend = new CrashingBackend(new InMemoryStorageBackend());
        using RepositoryKeys keys = await TestSupport.NewRepositoryAsync(backend);
        byte[] before = keys.Cipher.Seal("written before"u8, ObjectKind.Pack, "p/x/before");
        backend.CrashOn = (op, _) => op == "delete";

        await Assert.ThrowsAsync<IOException>(() => keys.RekeyAsync(NewPassphrase));
        await Assert.ThrowsAsync<RepositoryRekeyedException>(() => RepositoryKeys.UnlockAsync(backend, TestSupport.Passphrase, TestSupport.FastOptions()));
        using RepositoryKeys resumed = await RepositoryKeys.UnlockAsync(backend, NewPassphrase, TestSupport.FastOptions());
        Assert.Equal("written before", Encoding.UTF8.GetString(resumed.Cipher.Open(before, ObjectKind.Pack, "p/x/before")));

        RekeyResult result = await resumed.RekeyAsync(NewPassphrase);

        Assert.Equal(resumed.RekeyEpoch, result.Epoch);
        Assert.Equal(2, result.DeletedObjects); // the old key file and the old epoch object
        Assert.Equal(1, await CountAsync(backend, "keys/"));
        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, TestSupport.Passphrase, TestSupport.FastOptions()));
        using RepositoryKeys again = await RepositoryKeys.UnlockAsync(backend, NewPassphrase, TestSupport.FastOptions());
        Assert.Equal(result.KeyFileId, Assert.Single(await again.ListKeyFilesAsync()).Id);
    }
}
