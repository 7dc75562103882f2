using System.Buffers.Binary;
using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;
using Ghostie.Sync.Testing;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// Key derivation of key files (docs/format.md, "Key file"): Argon2id (v2) by default, PBKDF2 (v1) when chosen, the
/// dispatch on the stored KDF id, the bounds on parameters read from a key file, and upgrading by changing the passphrase.
/// </summary>
public class KeyDerivationTests
{
    private static RepositoryKeyOptions Pbkdf2Options()
    {
        RepositoryKeyOptions options = FastOptions();
        options.Kdf = KeyDerivationFunction.Pbkdf2HmacSha256;
        return options;
    }

    private static async Task<byte[]> OnlyKeyFileAsync(InMemoryStorageBackend backend) =>
        backend.GetRaw((await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Single())!;

    [Fact]
    public async Task Argon2id_WritesAV2KeyFile_WithItsParameters_AndUnlocks()
    {
        var backend = new InMemoryStorageBackend();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            KeyFileInfo info = (await keys.ListKeyFilesAsync()).Single();
            Assert.Equal((KeyDerivationFunction.Argon2id, 64, 1, 1), (info.Kdf, info.MemoryKiB, info.Iterations, info.Parallelism));
            Assert.Equal("Argon2id m=64 KiB t=1 p=1", info.KdfDescription);
        }

        byte[] raw = await OnlyKeyFileAsync(backend);
        Assert.Equal((2, 2), (raw[4], raw[5]));
        Assert.Equal(64u, BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(8)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(12)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(16)));
        Assert.Equal(16, raw[20]);

        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());
        Assert.NotNull(unlocked.CurrentKeyFileId);
        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, "not the passphrase", FastOptions()));
    }

    [Fact]
    public async Task Argon2idKeyFile_CheckValueIsHkdfOfArgon2id_NotOfPbkdf2()
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        byte[] raw = await OnlyKeyFileAsync(backend);
        byte[] salt = raw.AsSpan(21, 16).ToArray();
        byte[] storedCheck = raw.AsSpan(53, 16).ToArray();

        // Argon2id straight from NSec, then the documented HKDF step: the key file's check value must be this.
        var d = new byte[32];
        NSec.Cryptography.PasswordBasedKeyDerivationAlgorithm.Argon2id(new NSec.Cryptography.Argon2Parameters { DegreeOfParallelism = 1, MemorySize = 64, NumberOfPasses = 1 })
            .DeriveBytes("correct horse battery staple"u8, salt, d);
        var check = new byte[16];
        HKDF.Expand(HashAlgorithmName.SHA256, d, check, "ghostie/v1/keyfile/check"u8);
        Assert.Equal(Convert.ToHexStringLower(check), Convert.ToHexStringLower(storedCheck));

        var pbkdf2Wrap = new byte[32];
        var pbkdf2Check = new byte[16];
        KeyFileFormat.DerivePassphraseKeys(Passphrase, salt, 1_000, pbkdf2Wrap, pbkdf2Check);
        Assert.NotEqual(Convert.ToHexStringLower(pbkdf2Check), Convert.ToHexStringLower(storedCheck));
    }

    [Fact]
    public async Task Pbkdf2_WritesAV1KeyFile_AsEarlierVersionsDid_AndUnlocks()
    {
        var backend = new InMemoryStorageBackend();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend, Pbkdf2Options()))
        {
            KeyFileInfo info = (await keys.ListKeyFilesAsync()).Single();
            Assert.Equal((KeyDerivationFunction.Pbkdf2HmacSha256, 0, 1_000), (info.Kdf, info.MemoryKiB, info.Iterations));
            Assert.Equal("PBKDF2-HMAC-SHA256 1,000 iterations", info.KdfDescription);
        }

        byte[] raw = await OnlyKeyFileAsync(backend);
        Assert.Equal((1, 1), (raw[4], raw[5]));
        Assert.Equal(1_000u, BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(8)));
        Assert.Equal(32, raw[12]);
        using RepositoryKeys unlocked = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());
        Assert.NotNull(unlocked.CurrentKeyFileId);
    }

    [Fact]
    public async Task Defaults_AreArgon2id_64MiB_10Passes_Parallelism1()
    {
        var options = new RepositoryKeyOptions();
        Assert.Equal((KeyDerivationFunction.Argon2id, 65_536, 10), (options.Kdf, options.Argon2MemoryKiB, options.Argon2Passes));

        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, options: options);
        byte[] raw = await OnlyKeyFileAsync(backend);
        Assert.Equal((2, 65_536u, 10u, 1u), (raw[4], BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(8)),
            BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(12)), BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(16))));
    }

    [Theory]
    [InlineData(KeyDerivationProfile.Argon2id, KeyDerivationFunction.Argon2id, 65_536, 10)]
    [InlineData(KeyDerivationProfile.Argon2idPhone, KeyDerivationFunction.Argon2id, 32_768, 4)]
    [InlineData(KeyDerivationProfile.Pbkdf2, KeyDerivationFunction.Pbkdf2HmacSha256, 65_536, 10)]
    public void UseProfile_SetsTheDocumentedParameters(KeyDerivationProfile profile, KeyDerivationFunction kdf, int memoryKiB, int passes)
    {
        RepositoryKeyOptions options = new RepositoryKeyOptions { Pbkdf2Iterations = 700_000 }.UseProfile(profile);
        Assert.Equal((kdf, memoryKiB, passes), (options.Kdf, options.Argon2MemoryKiB, options.Argon2Passes));
        Assert.Equal(profile == KeyDerivationProfile.Pbkdf2 ? 600_000 : 700_000, options.Pbkdf2Iterations);
    }

    [Theory]
    [InlineData(19_455, 2)]
    [InlineData(19_456, 1)]
    [InlineData(1_048_577, 2)]
    [InlineData(65_536, 65)]
    [InlineData(1_048_576, 5)]
    public async Task Options_Argon2idOutsideWriterBounds_AreRejected_NothingWritten(int memoryKiB, int passes)
    {
        var backend = new InMemoryStorageBackend();
        var ex = await Assert.ThrowsAsync<GhostieSyncException>(() => RepositoryKeys.InitializeAsync(backend, Passphrase,
            options: new RepositoryKeyOptions { Argon2MemoryKiB = memoryKiB, Argon2Passes = passes }));
        Assert.Equal(GhostieErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("Argon2", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await backend.ListAsync("").ToListAsync());
    }

    /// <summary>An Argon2id key file with one parameter field overwritten (bytes 8, 12 or 16), as a hostile writer could.</summary>
    private static async Task<(InMemoryStorageBackend Backend, string Name)> HostileKeyFileAsync(int offset, uint value, bool keepAGoodOne)
    {
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        string good = (await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Single();
        byte[] raw = backend.GetRaw(good)!;
        BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(offset), value);
        const string hostile = "keys/0000000000000001";
        backend.SetRaw(hostile, raw);
        if (!keepAGoodOne)
        {
            await backend.DeleteAsync(good);
        }

        return (backend, hostile);
    }

    [Theory]
    [InlineData(8, 104_857_600u, "memory")]   // 100 GiB
    [InlineData(8, 1_048_577u, "memory")]     // 1 GiB + 1 KiB
    [InlineData(8, 7u, "memory")]             // below libsodium's 8 KiB
    [InlineData(12, uint.MaxValue, "passes")] // four billion passes
    [InlineData(12, 65u, "passes")]
    [InlineData(12, 0u, "passes")]
    [InlineData(16, 4u, "parallelism")]
    [InlineData(16, 0u, "parallelism")]
    public async Task HostileParameters_AreRefusedBeforeDeriving_WithATypedErrorNamingTheField(int offset, uint value, string field)
    {
        (InMemoryStorageBackend backend, string name) = await HostileKeyFileAsync(offset, value, keepAGoodOne: false);

        var parse = Assert.Throws<KeyFileParametersException>(() => KeyFileFormat.Parse(backend.GetRaw(name), name));
        Assert.Contains(field, parse.Field, StringComparison.Ordinal);
        Assert.Equal(value, parse.Value);
        Assert.Equal(name, parse.ObjectName);
        Assert.Equal(GhostieErrorCode.IntegrityFailure, parse.Code);
        Assert.Contains(name, parse.Message, StringComparison.Ordinal);

        // The only key file is the hostile one: unlocking reports it, and never derives with its parameters.
        var unlock = await Assert.ThrowsAsync<KeyFileParametersException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
        Assert.Contains(field, unlock.Field, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostileWork_MemoryTimesPasses_IsBounded()
    {
        // 1 GiB (allowed alone) times 5 passes (allowed alone) is 5 GiB of memory filled: refused as a whole.
        var backend = new InMemoryStorageBackend();
        using RepositoryKeys keys = await NewRepositoryAsync(backend);
        string name = (await backend.ListAsync(RepositoryKeys.KeyFilePrefix).ToListAsync()).Single();
        byte[] raw = backend.GetRaw(name)!;
        BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(8), 1_048_576);
        BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(12), 5);

        var ex = Assert.Throws<KeyFileParametersException>(() => KeyFileFormat.Parse(raw, name));
        Assert.Contains("m * t", ex.Field, StringComparison.Ordinal);
        Assert.Equal(5L * 1_048_576, ex.Value);
    }

    [Fact]
    public async Task HostileKeyFile_NextToAGoodOne_IsSkippedAndReported_TheGoodOneOpens()
    {
        (InMemoryStorageBackend backend, string name) = await HostileKeyFileAsync(8, 104_857_600u, keepAGoodOne: true);

        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions());

        SkippedKeyFile skipped = Assert.Single(keys.SkippedKeyFiles);
        Assert.Equal(name, skipped.ObjectName);
        Assert.Contains("Argon2id memory", skipped.Reason, StringComparison.Ordinal);
        Assert.Contains("104,857,600", skipped.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangedParameterInStorage_MakesTheRightPassphraseFail_NeverOpensWithWeakerParameters()
    {
        // Another m (within bounds) gives another D, so another check value: the passphrase no longer opens it.
        (InMemoryStorageBackend backend, _) = await HostileKeyFileAsync(8, 128u, keepAGoodOne: false);

        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()));
    }

    [Fact]
    public async Task V2KeyFileWithAnotherKdfId_IsUnsupported()
    {
        (InMemoryStorageBackend backend, string name) = await HostileKeyFileAsync(8, 64u, keepAGoodOne: false);
        byte[] raw = backend.GetRaw(name)!;
        raw[5] = 1;

        var ex = Assert.Throws<UnsupportedFormatException>(() => KeyFileFormat.Parse(raw, name));
        Assert.Contains("key derivation function id 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangePassphrase_UpgradesAPbkdf2KeyFileToArgon2id_ByDefault()
    {
        var backend = new InMemoryStorageBackend();
        using (RepositoryKeys old = await NewRepositoryAsync(backend, Pbkdf2Options()))
        {
            Assert.Equal(KeyDerivationFunction.Pbkdf2HmacSha256, (await old.ListKeyFilesAsync()).Single().Kdf);
        }

        // Default options: what 'ghostie key change' uses unless --kdf says otherwise.
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase);
        KeyFileInfo replacement = await keys.ChangePassphraseAsync("a new passphrase for the upgrade");

        Assert.Equal((KeyDerivationFunction.Argon2id, 65_536, 10, 1), (replacement.Kdf, replacement.MemoryKiB, replacement.Iterations, replacement.Parallelism));
        KeyFileInfo listed = (await keys.ListKeyFilesAsync()).Single();
        Assert.Equal((replacement.Id, KeyDerivationFunction.Argon2id), (listed.Id, listed.Kdf));
        Assert.Equal(2, (await OnlyKeyFileAsync(backend))[4]);
        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, Passphrase));
        using RepositoryKeys reopened = await RepositoryKeys.UnlockAsync(backend, "a new passphrase for the upgrade");
        Assert.Equal(keys.RepositoryId, reopened.RepositoryId);
    }

    [Fact]
    public async Task ChangePassphrase_WithPbkdf2Options_DowngradesOnRequest()
    {
        var backend = new InMemoryStorageBackend();
        using (await NewRepositoryAsync(backend))
        {
        }

        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, Pbkdf2Options());
        KeyFileInfo replacement = await keys.ChangePassphraseAsync(Passphrase);

        Assert.Equal(KeyDerivationFunction.Pbkdf2HmacSha256, replacement.Kdf);
        Assert.Equal(1, (await OnlyKeyFileAsync(backend))[4]);
    }

    [Fact]
    public async Task AddPassphrase_UsesTheOptionsKdf_BothKindsOpen()
    {
        var backend = new InMemoryStorageBackend();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend, Pbkdf2Options()))
        {
        }

        using (RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, FastOptions()))
        {
            KeyFileInfo added = await keys.AddPassphraseAsync("printed recovery key words", "recovery");
            Assert.Equal(KeyDerivationFunction.Argon2id, added.Kdf);
            Assert.Equal([KeyDerivationFunction.Argon2id, KeyDerivationFunction.Pbkdf2HmacSha256],
                (await keys.ListKeyFilesAsync()).Select(k => k.Kdf).Order().Reverse().ToArray());
        }

        using RepositoryKeys byPbkdf2 = await RepositoryKeys.UnlockAsync(backend, Passphrase);
        using RepositoryKeys byArgon2 = await RepositoryKeys.UnlockAsync(backend, "printed recovery key words");
        Assert.Equal(byPbkdf2.RepositoryId, byArgon2.RepositoryId);
    }

    /// <summary>A repository written by the version before Argon2id (default options: PBKDF2, 600,000 iterations),
    /// committed as files: it must keep opening.</summary>
    [Fact]
    public async Task CommittedV1Fixture_FromTheVersionBeforeArgon2id_StillOpens()
    {
        string folder = Path.Combine(ServerProcess.RepositoryRoot, "tests", "Ghostie.Sync.Crypto.Tests", "Fixtures", "v1-pbkdf2-repository");
        var backend = new InMemoryStorageBackend();
        foreach (string path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            backend.SetRaw(Path.GetRelativePath(folder, path).Replace('\\', '/'), File.ReadAllBytes(path));
        }

        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase);

        Assert.Equal("39bb8358d4621b43ceb3053f258d2aa9", keys.RepositoryId);
        KeyFileInfo info = (await keys.ListKeyFilesAsync()).Single();
        Assert.Equal((KeyDerivationFunction.Pbkdf2HmacSha256, 600_000, "v1 fixture"), (info.Kdf, info.Iterations, info.Label));
        Assert.Equal("written by Ghostie.Sync before Argon2id key files"u8.ToArray(),
            keys.Cipher.Open(backend.GetRaw("packs/fixture")!, ObjectKind.Pack, "packs/fixture"));
    }
}
