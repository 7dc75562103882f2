using Ghostie.Sync.Crypto.Internal;
using Microsoft.Extensions.Time.Testing;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

public class RepositoryKeysTests
{
    private const string Name = "packs/p1";

    [Fact]
    public async Task Initialize_ThenUnlock_OpensWhatWasSealed()
    {
        var backend = new InMemoryStorageBackend();
        byte[] sealedObject;
        string repositoryId;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            sealedObject = keys.Cipher.Seal("hello"u8, ObjectKind.Pack, Name);
            repositoryId = keys.RepositoryId;
            Assert.Matches("^[0-9a-f]{32}$", repositoryId);
            Assert.NotEqual(0u, keys.CurrentEpoch);
        }

        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());

        Assert.Equal(repositoryId, unlocked.RepositoryId);
        Assert.Equal("hello"u8.ToArray(), unlocked.Cipher.Open(sealedObject, ObjectKind.Pack, Name));
    }

    [Fact]
    public async Task Initialize_WritesOnlyOpaqueNamesAndNoPlaintextSecrets()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "alice-laptop-label", FastOptions());

        var names = await backend.ListAsync("").ToListAsync();
        Assert.Equal(2, names.Count);
        Assert.All(names, n => Assert.Matches("^(keys/[0-9a-f]{16}|epochs/[0-9a-f]{8})$", n));
        foreach (string name in names)
        {
            string raw = System.Text.Encoding.Latin1.GetString(backend.GetRaw(name)!);
            Assert.DoesNotContain("alice", raw);
            Assert.DoesNotContain("correct horse", raw);
            Assert.DoesNotContain("primary", raw);
        }
    }

    [Fact]
    public async Task Initialize_Twice_ThrowsAlreadyInitialized()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);

        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => NewRepositoryAsync(backend));
        Assert.Equal(GhostieErrorCode.RepositoryAlreadyInitialized, ex.Code);
    }

    [Fact]
    public async Task Initialize_RemovesEpochsOrphanedByACrashedInitialization()
    {
        var backend = new InMemoryStorageBackend();
        using (RepositoryKeys crashed = await NewRepositoryAsync(backend))
        {
            foreach (string keyFile in await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync())
            {
                await backend.DeleteAsync(keyFile); // as if the process died before its key file landed
            }
        }

        using RepositoryKeys fresh = await NewRepositoryAsync(backend);
        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());

        Assert.Single(unlocked.Epochs);
    }

    [Fact]
    public async Task Unlock_EmptyBackend_ThrowsNotInitialized()
    {
        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => RepositoryKeys.UnlockAsync(new InMemoryStorageBackend(), Passphrase, FastOptions()));
        Assert.Equal(GhostieErrorCode.RepositoryNotInitialized, ex.Code);
    }

    [Fact]
    public async Task Unlock_WrongPassphrase_ThrowsWrongPassphrase_NotIntegrity_AndNeverShowsThePassphrase()
    {
        var backend = new InMemoryStorageBackend();
        var logger = new CapturingLogger();
        using (await NewRepositoryAsync(backend))
        {
        }

        var ex = await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, "not-the-passphrase-9f2", FastOptions(logger)));

        Assert.Equal(GhostieErrorCode.WrongPassphrase, ex.Code);
        Assert.Equal(1, ex.KeyFileCount);
        Assert.DoesNotContain("not-the-passphrase", ex.ToString());
        Assert.NotEmpty(logger.Lines);
        Assert.All(logger.Lines, line => Assert.DoesNotContain("not-the-passphrase", line));
    }

    [Fact]
    public async Task Unlock_TamperedWrappedKeyWithRightPassphrase_ThrowsIntegrityNamingTheKeyFile()
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        string keyFile = (await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Single();
        byte[] raw = backend.GetRaw(keyFile)!;
        raw[13 + 32 + 16 + 16 + 12 + 3] ^= 1; // a byte of the wrapped master key (32-byte salt)
        backend.SetRaw(keyFile, raw);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
        Assert.Equal(keyFile, ex.ObjectName);
    }

    [Fact]
    public async Task Unlock_TruncatedOnlyKeyFile_ThrowsIntegrity_NotWrongPassphrase()
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        string keyFile = (await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Single();
        backend.SetRaw(keyFile, backend.GetRaw(keyFile)![..60]);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
        Assert.Equal(keyFile, ex.ObjectName);
    }

    [Fact]
    public async Task Unlock_OneTamperedKeyFile_AnotherWithSamePassphraseStillOpens()
    {
        var backend = new InMemoryStorageBackend();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            await keys.AddPassphraseAsync(Passphrase, "duplicate");
        }

        string first = (await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Order(StringComparer.Ordinal).First();
        byte[] raw = backend.GetRaw(first)!;
        raw[13 + 32 + 16 + 16 + 12] ^= 1;
        backend.SetRaw(first, raw);

        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());
        Assert.NotEqual(first, RepositoryKeys.KeyFilePrefix + unlocked.CurrentKeyFileId);
        Assert.Equal(first, Assert.Single(unlocked.SkippedKeyFiles).ObjectName);
    }

    [Fact]
    public async Task Unlock_IgnoresObjectsUnderKeysThatAreNotKeyFiles()
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        backend.SetRaw("keys/readme", [1, 2, 3]);
        backend.SetRaw("keys/00112233aabbccdd00", [1, 2, 3]);

        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());
        Assert.Single(await unlocked.ListKeyFilesAsync());
    }

    [Theory]
    [InlineData(4, 0)] // version 0 is written by nobody
    [InlineData(6, 1)] // reserved bytes must be zero
    public async Task Unlock_MalformedKeyFileHeader_IsIntegrityFailure(int offset, byte value)
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        string keyFile = (await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Single();
        byte[] raw = backend.GetRaw(keyFile)!;
        raw[offset] = value;
        backend.SetRaw(keyFile, raw);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
        Assert.Equal(keyFile, ex.ObjectName);
    }

    [Theory]
    [InlineData(4, 3, "unsupported format v3; this version reads up to v2")]
    [InlineData(5, 7, "unsupported key derivation function id 7 in a v2 key file; v2 holds 2 (Argon2id)")]
    public async Task Unlock_NewerKeyFile_SaysUnsupported(int offset, byte value, string expected)
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        string keyFile = (await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Single();
        byte[] raw = backend.GetRaw(keyFile)!;
        raw[offset] = value;
        backend.SetRaw(keyFile, raw);

        var ex = await Assert.ThrowsAsync<UnsupportedFormatException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
        Assert.Contains(expected, ex.Message);
        Assert.Contains(keyFile, ex.Message);
    }

    [Fact]
    public async Task Unlock_TamperedEpochObject_ThrowsIntegrityNamingIt()
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        string epoch = (await backend.ListAsync(RepositoryKeys.EpochPrefix).ToListAsync()).Single();
        byte[] raw = backend.GetRaw(epoch)!;
        raw[^20] ^= 4;
        backend.SetRaw(epoch, raw);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
        Assert.Equal(epoch, ex.ObjectName);
    }

    [Fact]
    public async Task Unlock_EpochRenamed_ThrowsIntegrity()
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        string epoch = (await backend.ListAsync(RepositoryKeys.EpochPrefix).ToListAsync()).Single();
        backend.SetRaw("epochs/0000abcd", backend.GetRaw(epoch)!);
        await backend.DeleteAsync(epoch);

        await Assert.ThrowsAsync<IntegrityException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
    }

    [Fact]
    public async Task AddPassphrase_BothPassphrasesUnlock_AndOldDataStillOpens()
    {
        var backend = new InMemoryStorageBackend();
        byte[] sealedObject;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            sealedObject = keys.Cipher.Seal("before"u8, ObjectKind.Pack, Name);
            KeyFileInfo recovery = await keys.AddPassphraseAsync("RECOVERY-7Q2M-XK4P-99ZT", "printed recovery key");
            Assert.Equal("printed recovery key", recovery.Label);
            Assert.False(recovery.IsCurrent);
        }

        using RepositoryKeys viaRecovery = await RepositoryKeys.UnlockAsync(backend, "RECOVERY-7Q2M-XK4P-99ZT", FastOptions());
        using RepositoryKeys viaPrimary = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());

        Assert.Equal("before"u8.ToArray(), viaRecovery.Cipher.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.Equal(viaPrimary.RepositoryId, viaRecovery.RepositoryId);
        IReadOnlyList<KeyFileInfo> list = await viaRecovery.ListKeyFilesAsync();
        Assert.Equal(2, list.Count);
        Assert.Equal(["primary", "printed recovery key"], list.Select(k => k.Label).Order());
        Assert.Equal("printed recovery key", list.Single(k => k.IsCurrent).Label);
    }

    [Fact]
    public async Task ChangePassphrase_NewOneUnlocks_OldOneNoLonger_DataUntouched()
    {
        var backend = new InMemoryStorageBackend();
        byte[] sealedObject;
        byte[] epochBefore;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            sealedObject = keys.Cipher.Seal("data"u8, ObjectKind.Pack, Name);
            epochBefore = backend.GetRaw((await backend.ListAsync(RepositoryKeys.EpochPrefix).ToListAsync()).Single())!;
            KeyFileInfo changed = await keys.ChangePassphraseAsync("a brand new passphrase");
            Assert.True(changed.IsCurrent);
            Assert.Equal("primary", changed.Label);
        }

        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, "a brand new passphrase", FastOptions());
        Assert.Equal("data"u8.ToArray(), unlocked.Cipher.Open(sealedObject, ObjectKind.Pack, Name));
        Assert.Single(await unlocked.ListKeyFilesAsync());
        Assert.Equal(epochBefore, backend.GetRaw((await backend.ListAsync(RepositoryKeys.EpochPrefix).ToListAsync()).Single()));
    }

    [Fact]
    public async Task ChangePassphrase_RaisesIterationsToCurrentOptions()
    {
        var backend = new InMemoryStorageBackend();
        RepositoryKeyOptions pbkdf2 = FastOptions();
        pbkdf2.Kdf = KeyDerivationFunction.Pbkdf2HmacSha256;
        using RepositoryKeys keys = await NewRepositoryAsync(backend, pbkdf2);
        Assert.Equal(1_000, (await keys.ListKeyFilesAsync()).Single().Iterations);

        using RepositoryKeys stronger = await RepositoryKeys.UnlockAsync(backend, Passphrase,
            new RepositoryKeyOptions { AllowWeakKdfForTesting = true, Kdf = KeyDerivationFunction.Pbkdf2HmacSha256, Pbkdf2Iterations = 2_000 });
        await stronger.ChangePassphraseAsync(Passphrase);

        Assert.Equal(2_000, (await stronger.ListKeyFilesAsync()).Single().Iterations);
    }

    [Fact]
    public async Task RemoveKeyFile_RemovedPassphraseNoLongerUnlocks_OtherStillDoes()
    {
        var backend = new InMemoryStorageBackend();
        byte[] sealedObject;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            sealedObject = keys.Cipher.Seal("kept"u8, ObjectKind.Pack, Name);
            KeyFileInfo second = await keys.AddPassphraseAsync("second passphrase", "second");
            await keys.RemoveKeyFileAsync(second.Id);
        }

        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, "second passphrase", FastOptions()));
        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());
        Assert.Equal("kept"u8.ToArray(), unlocked.Cipher.Open(sealedObject, ObjectKind.Pack, Name));
    }

    [Fact]
    public async Task RemoveKeyFile_LastOne_IsRefused()
    {
        using RepositoryKeys keys = await NewRepositoryAsync();
        string id = keys.CurrentKeyFileId!;

        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => keys.RemoveKeyFileAsync(id));
        Assert.Equal(GhostieErrorCode.LastKeyFile, ex.Code);
        Assert.Single(await keys.ListKeyFilesAsync());
    }

    [Fact]
    public async Task RemoveKeyFile_Unknown_ThrowsNotFound()
    {
        using RepositoryKeys keys = await NewRepositoryAsync();
        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => keys.RemoveKeyFileAsync("0123456789abcdef"));
        Assert.Equal(GhostieErrorCode.NotFound, ex.Code);
    }

    [Fact]
    public async Task Rotate_NewObjectsUseNewEpoch_OldObjectsStillOpen_AfterUnlockToo()
    {
        var backend = new InMemoryStorageBackend();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        byte[] oldObject, newObject;
        uint first, second;
        using (RepositoryKeys keys = await NewRepositoryAsync(backend, FastOptions(time: time)))
        {
            first = keys.CurrentEpoch;
            oldObject = keys.Cipher.Seal("old"u8, ObjectKind.Pack, "packs/old");
            time.Advance(TimeSpan.FromDays(30));
            second = await keys.RotateEpochAsync();
            newObject = keys.Cipher.Seal("new"u8, ObjectKind.Pack, "packs/new");
            Assert.Equal(second, keys.CurrentEpoch);
            Assert.NotEqual(first, second);
        }

        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());
        Assert.Equal(second, unlocked.CurrentEpoch);
        Assert.Equal(new[] { first, second }.Order(), unlocked.Epochs);
        Assert.Equal(first, ObjectCipher.ReadInfo(oldObject, "packs/old").Epoch);
        Assert.Equal(second, ObjectCipher.ReadInfo(newObject, "packs/new").Epoch);
        Assert.Equal("old"u8.ToArray(), unlocked.Cipher.Open(oldObject, ObjectKind.Pack, "packs/old"));
        Assert.Equal("new"u8.ToArray(), unlocked.Cipher.Open(newObject, ObjectKind.Pack, "packs/new"));
    }

    [Fact]
    public async Task Rotate_WithClockBehind_StillBecomesCurrent()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-06-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using RepositoryKeys keys = await NewRepositoryAsync(options: FastOptions(time: time));
        time.AdjustTime(time.GetUtcNow() - TimeSpan.FromDays(300)); // the clock goes back (FakeTimeProvider.Advance only moves forward)

        uint rotated = await keys.RotateEpochAsync();

        Assert.Equal(rotated, keys.CurrentEpoch);
    }

    [Fact]
    public async Task Rotate_ConcurrentlyOnTwoDevices_BothSucceed_AndAllDevicesAgreeOnCurrentEpoch()
    {
        var backend = new InMemoryStorageBackend();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using RepositoryKeys a = await NewRepositoryAsync(backend, FastOptions(time: time));
        using RepositoryKeys b = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions(time: time));
        time.Advance(TimeSpan.FromHours(1));

        uint fromA = await a.RotateEpochAsync();
        uint fromB = await b.RotateEpochAsync(); // b refreshes first, so it already sees A's epoch

        byte[] sealedByA = a.Cipher.Seal("a"u8, ObjectKind.Pack, "packs/a");
        await a.RefreshAsync();
        await b.RefreshAsync();
        using RepositoryKeys c = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());

        Assert.Equal(3, c.Epochs.Count);
        Assert.Equal(a.CurrentEpoch, b.CurrentEpoch);
        Assert.Equal(a.CurrentEpoch, c.CurrentEpoch);
        Assert.Contains(fromA, c.Epochs);
        Assert.Contains(fromB, c.Epochs);
        Assert.Equal("a"u8.ToArray(), b.Cipher.Open(sealedByA, ObjectKind.Pack, "packs/a"));
    }

    [Fact]
    public async Task Reencrypt_MovesOldObjectsToCurrentEpoch_ContentUnchanged()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        uint oldEpoch = keys.CurrentEpoch;
        var names = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            string name = $"packs/{i}";
            await backend.PutAsync(name, new MemoryStream(keys.Cipher.Seal(RandomBytes(100_000 * i, i), i == 4 ? ObjectKind.VectorData : ObjectKind.Pack, name)));
            names.Add(name);
        }

        uint newEpoch = await keys.RotateEpochAsync();
        var reports = new List<ReencryptionProgress>();
        ReencryptionResult result = await keys.ReencryptAsync([.. names, "packs/missing"], new SyncProgress<ReencryptionProgress>(reports.Add));

        Assert.Equal(new ReencryptionResult(5, 0, 1, newEpoch), result);
        Assert.Equal(6, reports.Count);
        Assert.Equal(6, reports[^1].Processed);
        for (int i = 0; i < 5; i++)
        {
            byte[] raw = backend.GetRaw($"packs/{i}")!;
            SealedObjectInfo info = ObjectCipher.ReadInfo(raw, $"packs/{i}");
            Assert.Equal(newEpoch, info.Epoch);
            Assert.Equal(i == 4 ? CipherSuite.ChaCha20Poly1305 : CipherSuite.Aes256Gcm, info.Suite);
            Assert.Equal(RandomBytes(100_000 * i, i), keys.Cipher.Open(raw, info.Kind, $"packs/{i}"));
        }

        Assert.NotEqual(oldEpoch, newEpoch);
    }

    [Fact]
    public async Task Reencrypt_V1ObjectOfAnOldEpoch_BecomesAV3ObjectOfTheCurrentEpoch()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        uint oldEpoch = keys.CurrentEpoch;
        byte[] plaintext = RandomBytes(150_000, 21);
        var v1 = new byte[keys.Cipher.GetSealedLengthV1(plaintext.Length)];
        keys.Cipher.SealCore(plaintext, v1, ObjectKind.Pack, "packs/old", CipherSuite.Aes256Gcm, oldEpoch, RandomBytes(32, 22));
        await backend.PutAsync("packs/old", new MemoryStream(v1));

        uint newEpoch = await keys.RotateEpochAsync();
        ReencryptionResult result = await keys.ReencryptAsync(["packs/old"]);

        Assert.Equal(1, result.Reencrypted);
        byte[] raw = backend.GetRaw("packs/old")!;
        Assert.Equal(3, raw[4]);
        Assert.Equal(newEpoch, ObjectCipher.ReadInfo(raw, "packs/old").Epoch);
        Assert.Equal(plaintext, keys.Cipher.Open(raw, ObjectKind.Pack, "packs/old"));
    }

    [Fact]
    public async Task Reencrypt_InterruptedThenRerun_ResumesWithoutRedoingWork()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        string[] names = Enumerable.Range(0, 6).Select(i => $"packs/{i}").ToArray();
        foreach (string name in names)
        {
            await backend.PutAsync(name, new MemoryStream(keys.Cipher.Seal(RandomBytes(1000, name.Length), ObjectKind.Pack, name)));
        }

        await keys.RotateEpochAsync();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress<ReencryptionProgress>(p =>
        {
            if (p.Processed == 2)
            {
                cts.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => keys.ReencryptAsync(names, progress, cts.Token));

        ReencryptionResult resumed = await keys.ReencryptAsync(names);

        Assert.Equal(2, resumed.AlreadyCurrent);
        Assert.Equal(4, resumed.Reencrypted);
        Assert.All(names, n => Assert.Equal(keys.CurrentEpoch, ObjectCipher.ReadInfo(backend.GetRaw(n)!, n).Epoch));
    }

    [Fact]
    public async Task Reencrypt_TamperedObject_ThrowsAndLeavesItUntouched()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        byte[] sealedObject = keys.Cipher.Seal(RandomBytes(5000, 1), ObjectKind.Pack, "packs/t");
        sealedObject[100] ^= 1;
        backend.SetRaw("packs/t", sealedObject);
        await keys.RotateEpochAsync();

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => keys.ReencryptAsync(["packs/t"]));

        Assert.Equal("packs/t", ex.ObjectName);
        Assert.Equal(sealedObject, backend.GetRaw("packs/t"));
    }

    [Fact]
    public async Task DeriveObjectName_IsStableAcrossDevices_OpaqueAndValid()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys a = await NewRepositoryAsync(backend);
        using RepositoryKeys b = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());
        using RepositoryKeys other = await NewRepositoryAsync();

        string name = a.DeriveObjectName("d/", "device-prefix", "pixel9-pro-xl-termux"u8);

        Assert.Equal(name, b.DeriveObjectName("d/", "device-prefix", "pixel9-pro-xl-termux"u8));
        Assert.NotEqual(name, a.DeriveObjectName("d/", "other-purpose", "pixel9-pro-xl-termux"u8));
        Assert.NotEqual(name, other.DeriveObjectName("d/", "device-prefix", "pixel9-pro-xl-termux"u8));
        Assert.Matches("^d/[a-z2-7]{32}$", name);
        Assert.DoesNotContain("pixel", name);
    }

    [Fact]
    public async Task Options_DefaultIterations_Are600000_AndStoredInTheKeyFile()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, options: new RepositoryKeyOptions().UseProfile(KeyDerivationProfile.Pbkdf2));

        Assert.Equal(600_000, (await keys.ListKeyFilesAsync()).Single().Iterations);
        string keyFile = (await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Single();
        byte[] raw = backend.GetRaw(keyFile)!;
        Assert.Equal(600_000u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(8)));
        Assert.Equal(32, raw[12]); // salt length
    }

    [Theory]
    [InlineData(599_999, 32)]
    [InlineData(600_000, 15)]
    [InlineData(600_000, 65)]
    public async Task Options_BelowMinimums_AreRejectedAtStart(int iterations, int saltLength)
    {
        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() =>
            RepositoryKeys.InitializeAsync(new InMemoryStorageBackend(), Passphrase, options: new RepositoryKeyOptions { Pbkdf2Iterations = iterations, SaltLength = saltLength }));
        Assert.Equal(GhostieErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public async Task EmptyPassphrase_IsRejected()
    {
        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => RepositoryKeys.InitializeAsync(new InMemoryStorageBackend(), "", options: FastOptions()));
        Assert.Equal(GhostieErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public async Task Passphrase_IsNormalizedToNfc_SoComposedAndDecomposedFormsBothUnlock()
    {
        var backend = new InMemoryStorageBackend();
        using (await RepositoryKeys.InitializeAsync(backend, "caf\u00e9 cr\u00e8me", options: FastOptions()))
        {
        }

        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, "cafe\u0301 cre\u0300me", FastOptions());
        Assert.NotNull(unlocked);
    }

    [Fact]
    public async Task Logs_NeverContainPassphrasesKeysOrPlaintext()
    {
        var backend = new InMemoryStorageBackend();
        var logger = new CapturingLogger();
        using (RepositoryKeys keys = await RepositoryKeys.InitializeAsync(backend, "super-secret-passphrase-1", "label", FastOptions(logger)))
        {
            await keys.AddPassphraseAsync("super-secret-passphrase-2", "r");
            await keys.RotateEpochAsync();
            await backend.PutAsync("packs/x", new MemoryStream(keys.Cipher.Seal("SECRET-CONTENT"u8, ObjectKind.Pack, "packs/x")));
            await keys.RotateEpochAsync();
            await keys.ReencryptAsync(["packs/x"]);
        }

        using (await RepositoryKeys.UnlockAsync(backend, "super-secret-passphrase-2", FastOptions(logger)))
        {
        }

        Assert.True(logger.Lines.Count >= 5);
        Assert.All(logger.Lines, line =>
        {
            Assert.DoesNotContain("super-secret", line);
            Assert.DoesNotContain("SECRET-CONTENT", line);
        });
    }

    /// <summary>IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
