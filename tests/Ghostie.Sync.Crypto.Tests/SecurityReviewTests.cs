using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>Findings of the security review of the crypto layer: each test failed before its fix.</summary>
public sealed class SecurityReviewTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ghostie-review-" + Guid.NewGuid().ToString("N"));

    public SecurityReviewTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Delegates to an in-memory backend; runs a hook before each write and can look at the temp folder then.</summary>
    private sealed class HookedBackend(InMemoryStorageBackend inner) : IConditionalStorageBackend
    {
        public InMemoryStorageBackend Inner => inner;

        public Func<string, Task>? BeforeWrite { get; set; }

        public string DisplayName => "hooked";

        public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
        {
            if (BeforeWrite is not null)
            {
                await BeforeWrite(name);
            }

            await inner.PutAsync(name, content, cancellationToken);
        }

        public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);

        public IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

        public Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default) => inner.TryCreateAsync(name, content, cancellationToken);

        public Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default) => inner.GetVersionAsync(name, cancellationToken);

        public async Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
        {
            if (BeforeWrite is not null)
            {
                await BeforeWrite(name);
            }

            return await inner.TryReplaceAsync(name, content, expectedVersion, cancellationToken);
        }
    }

    [Fact]
    public async Task Reencrypt_WritesNoPlaintextToDisk_OnlyTheNewSealedObject_OwnerOnly()
    {
        var backend = new HookedBackend(new InMemoryStorageBackend());
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        byte[] plaintext = RandomBytes(300_000, 7); // several chunks
        await backend.PutAsync("packs/big", new MemoryStream(keys.Cipher.Seal(plaintext, ObjectKind.Pack, "packs/big")));
        await keys.RotateEpochAsync();

        var seen = new List<(int Count, UnixFileMode Mode)>();
        backend.BeforeWrite = name =>
        {
            string[] files = Directory.GetFiles(_folder);
            seen.Add((files.Length, OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(files[0])));
            return Task.CompletedTask;
        };
        RepositoryKeys.TempDirectoryOverride.Value = _folder;
        try
        {
            ReencryptionResult result = await keys.ReencryptAsync(["packs/big"]);
            Assert.Equal(1, result.Reencrypted);
        }
        finally
        {
            RepositoryKeys.TempDirectoryOverride.Value = null;
        }

        // Before the fix a plaintext copy of the whole object sat in a second temporary file beside the sealed one.
        (int count, UnixFileMode mode) = Assert.Single(seen);
        Assert.Equal(1, count);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        }

        Assert.Empty(Directory.GetFiles(_folder));
        Assert.Equal(plaintext, keys.Cipher.Open(backend.Inner.GetRaw("packs/big")!, ObjectKind.Pack, "packs/big"));
    }

    [Fact]
    public async Task Reencrypt_TamperedLastChunk_ReportsIntegrity_NoTempFileLeft_ObjectUntouched()
    {
        var backend = new HookedBackend(new InMemoryStorageBackend());
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        byte[] sealedObject = keys.Cipher.Seal(RandomBytes(200_000, 3), ObjectKind.Pack, "packs/t");
        sealedObject[^3] ^= 1; // the last chunk: earlier chunks have already flowed into the new seal
        backend.Inner.SetRaw("packs/t", sealedObject);
        await keys.RotateEpochAsync();
        int writes = 0;
        backend.BeforeWrite = _ => { writes++; return Task.CompletedTask; };
        RepositoryKeys.TempDirectoryOverride.Value = _folder;
        try
        {
            var ex = await Assert.ThrowsAsync<IntegrityException>(() => keys.ReencryptAsync(["packs/t"]));
            Assert.Equal("packs/t", ex.ObjectName);
        }
        finally
        {
            RepositoryKeys.TempDirectoryOverride.Value = null;
        }

        Assert.Equal(0, writes);
        Assert.Empty(Directory.GetFiles(_folder));
        Assert.Equal(sealedObject, backend.Inner.GetRaw("packs/t"));
    }

    [Fact]
    public async Task Reencrypt_ObjectReplacedByAnotherDeviceMeanwhile_IsNotOverwrittenWithOldContent()
    {
        var backend = new HookedBackend(new InMemoryStorageBackend());
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        await backend.PutAsync("heads/x", new MemoryStream(keys.Cipher.Seal("old"u8.ToArray(), ObjectKind.Head, "heads/x")));
        await keys.RotateEpochAsync();
        bool raced = false;
        backend.BeforeWrite = async name =>
        {
            if (!raced)
            {
                raced = true; // another device writes a newer version between our read and our write
                await backend.Inner.PutAsync(name, new MemoryStream(keys.Cipher.Seal("new"u8.ToArray(), ObjectKind.Head, name)));
            }
        };

        ReencryptionResult result = await keys.ReencryptAsync(["heads/x"]);

        Assert.Equal("new"u8.ToArray(), keys.Cipher.Open(backend.Inner.GetRaw("heads/x")!, ObjectKind.Head, "heads/x"));
        Assert.Equal(1, result.AlreadyCurrent);
        Assert.Equal(0, result.Reencrypted);
    }

    [Fact]
    public async Task Reencrypt_CancelledMidObject_LeavesEveryObjectReadable_AndRerunFinishes()
    {
        var backend = new HookedBackend(new InMemoryStorageBackend());
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        string[] names = ["packs/a", "packs/b", "packs/c"];
        var contents = names.ToDictionary(n => n, n => RandomBytes(150_000, n[^1]));
        foreach (string name in names)
        {
            await backend.PutAsync(name, new MemoryStream(keys.Cipher.Seal(contents[name], ObjectKind.Pack, name)));
        }

        await keys.RotateEpochAsync();
        using var cts = new CancellationTokenSource();
        backend.BeforeWrite = name =>
        {
            if (name == "packs/b")
            {
                cts.Cancel(); // "crash" just before the second object is written
                cts.Token.ThrowIfCancellationRequested();
            }

            return Task.CompletedTask;
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => keys.ReencryptAsync(names, cancellationToken: cts.Token));
        backend.BeforeWrite = null;
        Assert.All(names, n => Assert.Equal(contents[n], keys.Cipher.Open(backend.Inner.GetRaw(n)!, ObjectKind.Pack, n)));

        ReencryptionResult rerun = await keys.ReencryptAsync(names);

        Assert.Equal((2, 1), (rerun.Reencrypted, rerun.AlreadyCurrent));
        Assert.All(names, n => Assert.Equal(contents[n], keys.Cipher.Open(backend.Inner.GetRaw(n)!, ObjectKind.Pack, n)));
        Assert.All(names, n => Assert.Equal(keys.CurrentEpoch, ObjectCipher.ReadInfo(backend.Inner.GetRaw(n)!, n).Epoch));
    }

    [Fact]
    public async Task Forget_AlsoWipesATemporaryCopyLeftByACrashedSave()
    {
        using RepositoryKeys keys = await NewRepositoryAsync();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_folder);
        cache.Save(keys);
        string leftover = cache.FilePath + ".0badc0de.tmp"; // what Save leaves when killed between write and rename
        File.Copy(cache.FilePath, leftover);

        Assert.True(cache.Forget());

        Assert.False(File.Exists(leftover));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(cache.FilePath)!));
    }

    [Fact]
    public async Task Forget_ReadOnlyCacheFile_IsStillWipedAndDeleted()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using RepositoryKeys keys = await NewRepositoryAsync();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_folder);
        cache.Save(keys);
        File.SetUnixFileMode(cache.FilePath, UnixFileMode.UserRead); // chmod 400, as careful users do with key files

        Assert.True(cache.Forget());

        Assert.False(File.Exists(cache.FilePath));
    }

    [Fact]
    public async Task Forget_CacheFileIsASymlink_DeletesTheLinkWithoutZeroingItsTarget()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using RepositoryKeys keys = await NewRepositoryAsync();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_folder);
        cache.Save(keys);
        string target = Path.Combine(_folder, "elsewhere.key");
        File.Move(cache.FilePath, target);
        byte[] original = File.ReadAllBytes(target);
        File.CreateSymbolicLink(cache.FilePath, target);

        Assert.True(cache.Forget());

        Assert.False(new FileInfo(cache.FilePath).Exists || new FileInfo(cache.FilePath).LinkTarget is not null);
        Assert.Equal(original, File.ReadAllBytes(target));
    }

    [Fact]
    public async Task DeviceKeyCache_OfAFutureVersionWithAnotherSize_SaysUnsupportedVersion_NotDamaged()
    {
        using RepositoryKeys keys = await NewRepositoryAsync();
        DeviceKeyCache cache = DeviceKeyCache.ForHome(_folder);
        cache.Save(keys);
        byte[] future = [.. File.ReadAllBytes(cache.FilePath), .. new byte[40]];
        future[4] = 2;
        File.WriteAllBytes(cache.FilePath, future);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(cache.FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var ex = await Assert.ThrowsAsync<UnsupportedFormatException>(() => cache.TryOpenAsync(new InMemoryStorageBackend(), FastOptions()));

        Assert.Contains("unsupported format v2; this version reads up to v1", ex.Message);
    }

    /// <summary>
    /// Every malformed shape of the only key file, with the right and a wrong passphrase. Damage the check value can
    /// see (it covers the salt and iteration count only through the derivation) is indistinguishable from a wrong
    /// passphrase without the passphrase; docs/security.md says so. Everything else is an integrity error naming the
    /// file, and no message carries the passphrase.
    /// </summary>
    /// <summary>Every damage of <see cref="Unlock_EveryMalformedKeyFileShape_GivesTheRightKindOfError"/>, on a v1 (PBKDF2) and a v2 (Argon2id) key file.</summary>
    public static TheoryData<KeyDerivationFunction, string, string, string> MalformedKeyFileShapes()
    {
        var data = new TheoryData<KeyDerivationFunction, string, string, string>();
        foreach (KeyDerivationFunction kdf in new[] { KeyDerivationFunction.Pbkdf2HmacSha256, KeyDerivationFunction.Argon2id })
        {
            data.Add(kdf, "magic", "integrity", "integrity");
            data.Add(kdf, "iterations-out-of-range", "integrity", "integrity");
            data.Add(kdf, "salt-length", "integrity", "integrity");
            data.Add(kdf, "truncated", "integrity", "integrity");
            data.Add(kdf, "extended", "integrity", "integrity");
            data.Add(kdf, "metadata-length", "integrity", "integrity");
            data.Add(kdf, "repository-id", "integrity", "wrong");
            data.Add(kdf, "nonce", "integrity", "wrong");
            data.Add(kdf, "wrapped-key", "integrity", "wrong");
            data.Add(kdf, "tag", "integrity", "wrong");
            data.Add(kdf, "salt", "wrong", "wrong");
            data.Add(kdf, "check", "wrong", "wrong");
            data.Add(kdf, "iterations-in-range", "wrong", "wrong");
            data.Add(kdf, "version", "unsupported", "unsupported");
            data.Add(kdf, "kdf", "unsupported", "unsupported");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedKeyFileShapes))]
    public async Task Unlock_EveryMalformedKeyFileShape_GivesTheRightKindOfError(KeyDerivationFunction kdf, string damage, string withRightPassphrase, string withWrongPassphrase)
    {
        var backend = new InMemoryStorageBackend();
        string name;
        RepositoryKeyOptions options = FastOptions();
        options.Kdf = kdf;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend, options))
        {
            name = RepositoryKeys.KeyFilePrefix + keys.CurrentKeyFileId;
        }

        byte[] file = backend.GetRaw(name)!;
        int prefix = kdf == KeyDerivationFunction.Argon2id ? 21 : 13; // v2 has two more u32 parameters before the salt length
        int s = file[prefix - 1], repo = prefix + s, check = repo + 16, nonce = check + 16, wrapped = nonce + 12, tag = wrapped + 32, metadataLength = tag + 16;
        byte[] damaged = damage switch
        {
            "truncated" => file[..(file.Length / 2)],
            "extended" => [.. file, 0],
            _ => (byte[])file.Clone(),
        };
        switch (damage)
        {
            case "magic": damaged[0] ^= 1; break;
            case "version": damaged[4] = 3; break;
            case "kdf": damaged[5] = 7; break;
            case "iterations-out-of-range": damaged[8] = damaged[9] = damaged[10] = damaged[11] = 0; break; // v2: memory 0 KiB
            case "iterations-in-range": damaged[11] ^= 1; break; // v2: memory 65 KiB
            case "salt-length": damaged[prefix - 1] = 200; break;
            case "salt": damaged[prefix] ^= 1; break;
            case "repository-id": damaged[repo] ^= 1; break;
            case "check": damaged[check] ^= 1; break;
            case "nonce": damaged[nonce] ^= 1; break;
            case "wrapped-key": damaged[wrapped] ^= 1; break;
            case "tag": damaged[tag] ^= 1; break;
            case "metadata-length": damaged[metadataLength + 3] ^= 1; break;
        }

        backend.SetRaw(name, damaged);
        foreach ((string passphrase, string expected) in new[] { (Passphrase, withRightPassphrase), ("not the passphrase at all", withWrongPassphrase) })
        {
            var ex = await Assert.ThrowsAnyAsync<GhostieSyncException>(() => RepositoryKeys.UnlockAsync(backend, passphrase, FastOptions()));
            string kind = ex switch
            {
                IntegrityException integrity when integrity.ObjectName == name => "integrity",
                KeyFileParametersException parameters when parameters.ObjectName == name => "integrity",
                WrongPassphraseException => "wrong",
                UnsupportedFormatException => "unsupported",
                _ => ex.GetType().Name + ": " + ex.Message,
            };
            Assert.Equal(expected, kind);
            Assert.DoesNotContain(passphrase, ex.ToString(), StringComparison.Ordinal);
            if (kind == "unsupported" && damage == "version")
            {
                Assert.Contains("unsupported format v3; this version reads up to v2", ex.Message);
            }
        }
    }

    [Fact]
    public async Task Unlock_WithThePassphraseOfADamagedKeyFile_WhileOthersAreFine_NamesTheUnreadableKeyFile()
    {
        var backend = new InMemoryStorageBackend();
        string damagedId;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            KeyFileInfo second = await keys.AddPassphraseAsync("second passphrase of this test", "laptop");
            damagedId = second.Id;
        }

        string name = RepositoryKeys.KeyFilePrefix + damagedId;
        byte[] file = backend.GetRaw(name)!;
        backend.SetRaw(name, file[..(file.Length / 2)]);

        var ex = await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, "second passphrase of this test", FastOptions()));

        Assert.Equal([damagedId], ex.UnreadableKeyFiles);
        Assert.Contains(damagedId, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("second passphrase of this test", ex.ToString(), StringComparison.Ordinal);
        using RepositoryKeys stillOpens = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());
    }
}
