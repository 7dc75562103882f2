using System.Buffers.Binary;
using System.Globalization;
using Ghostie.Sync.Testing;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// Key files of both kinds read by the independent decryptors of tests/interop: decrypt.py takes Argon2id from
/// argon2-cffi (Debian's python3-argon2), decrypt.mjs from @noble/hashes, neither from the libsodium the library uses.
/// </summary>
public sealed class KeyDerivationInteropTests : IDisposable
{
    private const string ObjectName = "packs/kdf";
    private const string SecondPassphrase = "a pbkdf2 passphrase next to an argon2id one";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ghostie-kdf-interop-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    public static TheoryData<string> Decryptors() => ["python", "node"];

    private static Task<(int Code, string Stdout, string Stderr)> RunAsync(string decryptor, IReadOnlyList<string> args, string? passphrase) =>
        decryptor == "python" ? InteropDecryptor.RunPythonAsync(args, passphrase) : InteropDecryptor.RunNodeAsync(args, passphrase);

    /// <summary>A repository with one key file per options (the first creates it), and one sealed pack.</summary>
    private async Task<(string Repo, byte[] Plaintext)> WriteRepositoryAsync(RepositoryKeyOptions first, RepositoryKeyOptions? second = null)
    {
        var backend = new InMemoryStorageBackend();
        byte[] plaintext = RandomBytes(5_000, 7);
        using (RepositoryKeys keys = await RepositoryKeys.InitializeAsync(backend, Passphrase, "primary", first))
        {
            backend.SetRaw(ObjectName, keys.Cipher.Seal(plaintext, ObjectKind.Pack, ObjectName));
        }

        if (second is not null)
        {
            using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase, second);
            await keys.AddPassphraseAsync(SecondPassphrase, "second");
        }

        string repo = Path.Combine(_dir, "repo");
        await WriteFolderRepositoryAsync(backend, repo);
        return (repo, plaintext);
    }

    private async Task<byte[]> OpenAsync(string decryptor, string repo, string passphrase, string name = ObjectName)
    {
        Directory.CreateDirectory(_dir);
        string output = Path.Combine(_dir, "out.bin");
        (int code, _, string stderr) = await RunAsync(decryptor, ["--repo", repo, "--object", name, "--kind", ((int)ObjectKind.Pack).ToString(CultureInfo.InvariantCulture), "--out", output], passphrase);
        Assert.True(code == 0, $"{decryptor}: exit {code}: {stderr}");
        return await File.ReadAllBytesAsync(output);
    }

    [Theory]
    [MemberData(nameof(Decryptors))]
    public async Task Decryptor_OpensAnArgon2idAndAPbkdf2KeyFile_OfOneRepository(string decryptor)
    {
        RepositoryKeyOptions pbkdf2 = FastOptions();
        pbkdf2.Kdf = KeyDerivationFunction.Pbkdf2HmacSha256;
        (string repo, byte[] plaintext) = await WriteRepositoryAsync(FastOptions(), pbkdf2);

        Assert.Equal(plaintext, await OpenAsync(decryptor, repo, Passphrase));
        Assert.Equal(plaintext, await OpenAsync(decryptor, repo, SecondPassphrase));
        (int wrong, _, _) = await RunAsync(decryptor, ["--repo", repo, "--object", ObjectName, "--kind", "16"], "neither passphrase");
        Assert.Equal(2, wrong);
    }

    /// <summary>The phone profile's real parameters (32 MiB, 4 passes), not only the small ones of the test options.</summary>
    [Theory]
    [MemberData(nameof(Decryptors))]
    public async Task Decryptor_OpensAKeyFileOfThePhoneProfile(string decryptor)
    {
        RepositoryKeyOptions phone = FastOptions().UseProfile(KeyDerivationProfile.Argon2idPhone);
        (string repo, byte[] plaintext) = await WriteRepositoryAsync(phone);
        byte[] keyFile = File.ReadAllBytes(Directory.EnumerateFiles(Path.Combine(repo, "keys")).Single());
        Assert.Equal((32_768u, 4u), (BinaryPrimitives.ReadUInt32BigEndian(keyFile.AsSpan(8)), BinaryPrimitives.ReadUInt32BigEndian(keyFile.AsSpan(12))));

        Assert.Equal(plaintext, await OpenAsync(decryptor, repo, Passphrase));
    }

    [Theory]
    [MemberData(nameof(Decryptors))]
    public async Task Decryptor_RefusesAHostileArgon2idKeyFile_AsAnIntegrityFailure(string decryptor)
    {
        (string repo, _) = await WriteRepositoryAsync(FastOptions());
        string keyFile = Directory.EnumerateFiles(Path.Combine(repo, "keys")).Single();
        byte[] raw = await File.ReadAllBytesAsync(keyFile);
        BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(8), 104_857_600); // 100 GiB
        await File.WriteAllBytesAsync(keyFile, raw);

        (int code, _, string stderr) = await RunAsync(decryptor, ["--repo", repo, "--object", ObjectName, "--kind", "16"], Passphrase);

        Assert.True(code == 3, $"{decryptor}: exit {code}: {stderr}");
        Assert.Contains("104857600", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Decryptors))]
    public async Task Decryptor_OpensTheCommittedV1Fixture(string decryptor)
    {
        string fixture = Path.Combine(ServerProcess.RepositoryRoot, "tests", "Ghostie.Sync.Crypto.Tests", "Fixtures", "v1-pbkdf2-repository");

        byte[] plaintext = await OpenAsync(decryptor, fixture, Passphrase, "packs/fixture");

        Assert.Equal("written by Ghostie.Sync before Argon2id key files"u8.ToArray(), plaintext);
    }

    [Fact]
    public async Task NodeDumpAll_NamesEachKeyFilesKdf()
    {
        RepositoryKeyOptions pbkdf2 = FastOptions();
        pbkdf2.Kdf = KeyDerivationFunction.Pbkdf2HmacSha256;
        (string repo, _) = await WriteRepositoryAsync(FastOptions(), pbkdf2);

        (int code, string stdout, string stderr) = await InteropDecryptor.RunNodeAsync(["--repo", repo, "--dump-all"], Passphrase);

        Assert.True(code == 0, stderr);
        Assert.Contains("\"kdf\":\"argon2id\",\"iterations\":1,\"memory_kib\":64", stdout, StringComparison.Ordinal);
        Assert.Contains("\"kdf\":\"pbkdf2\",\"iterations\":1000", stdout, StringComparison.Ordinal);
    }
}
