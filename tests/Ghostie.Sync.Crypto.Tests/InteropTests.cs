using Ghostie.Sync.Testing;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// Our output, read by tests/interop/decrypt.py: a decryptor written from docs/format.md alone, in another
/// language. If the document and the code disagree, these fail. The test command installs its one dependency
/// (Debian's python3-cryptography); a missing interpreter is a failure, not a skip.
/// </summary>
public sealed class InteropTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ghostie-interop-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task IndependentDecryptor_SelfTest_ReproducesThePublishedVectors()
    {
        (int code, string stdout, string stderr) = await InteropDecryptor.RunPythonAsync(["--self-test"], passphrase: null);

        Assert.True(code == 0, $"self-test failed ({code}):\n{stdout}\n{stderr}");
        Assert.DoesNotContain("FAIL", stdout);
    }

    [Fact]
    public async Task IndependentDecryptor_OpensOurObjects_AcrossEpochsCiphersAndKeyFiles()
    {
        var backend = new InMemoryStorageBackend();
        var expected = new Dictionary<string, (ObjectKind Kind, byte[] Plaintext)>();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            await keys.AddPassphraseAsync("second passphrase for interop", "second");
            await SealAsync(keys, backend, expected, "packs/before", ObjectKind.Pack, RandomBytes(200_000, 1));
            await keys.RotateEpochAsync();
            await SealAsync(keys, backend, expected, "vectors/v", ObjectKind.VectorData, RandomBytes(70_000, 2));
            await SealAsync(keys, backend, expected, "heads/empty", ObjectKind.Head, []);
            await SealAsync(keys, backend, expected, "packs/exact", ObjectKind.Pack, RandomBytes(2 * 65536, 3));
        }

        await WriteFolderRepositoryAsync(backend, Path.Combine(_dir, "repo"));
        foreach ((string name, (ObjectKind kind, byte[] plaintext)) in expected)
        {
            string output = Path.Combine(_dir, "out.bin");
            (int code, _, string stderr) = await InteropDecryptor.RunPythonAsync(["--repo", Path.Combine(_dir, "repo"), "--object", name, "--kind", ((int)kind).ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", output],
                passphrase: name == "vectors/v" ? "second passphrase for interop" : Passphrase);
            Assert.True(code == 0, $"{name}: exit {code}: {stderr}");
            Assert.Equal(plaintext, await File.ReadAllBytesAsync(output));
        }
    }

    [Fact]
    public async Task IndependentDecryptor_RejectsWhatWeReject()
    {
        var backend = new InMemoryStorageBackend();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            byte[] sealedObject = keys.Cipher.Seal(RandomBytes(100_000, 4), ObjectKind.Pack, "packs/t");
            sealedObject[5000] ^= 1;
            backend.SetRaw("packs/t", sealedObject);
            backend.SetRaw("packs/cut", keys.Cipher.Seal(RandomBytes(3 * 65536, 5), ObjectKind.Pack, "packs/cut")[..(48 + (2 * 65552))]);
            backend.SetRaw("packs/ok", keys.Cipher.Seal([1, 2, 3], ObjectKind.Pack, "packs/ok"));
        }

        await WriteFolderRepositoryAsync(backend, Path.Combine(_dir, "repo"));
        string repo = Path.Combine(_dir, "repo");
        Assert.Equal(3, (await InteropDecryptor.RunPythonAsync(["--repo", repo, "--object", "packs/t", "--kind", "16"], Passphrase)).Code);
        Assert.Equal(3, (await InteropDecryptor.RunPythonAsync(["--repo", repo, "--object", "packs/cut", "--kind", "16"], Passphrase)).Code);
        Assert.Equal(3, (await InteropDecryptor.RunPythonAsync(["--repo", repo, "--object", "packs/ok", "--kind", "17"], Passphrase)).Code);
        Assert.Equal(2, (await InteropDecryptor.RunPythonAsync(["--repo", repo, "--object", "packs/ok", "--kind", "16"], "Zq9-not-it-Vx2")).Code);
        Assert.Equal(0, (await InteropDecryptor.RunPythonAsync(["--repo", repo, "--object", "packs/ok", "--kind", "16"], Passphrase)).Code);
    }

    [Fact]
    public async Task IndependentDecryptor_OpensV1V2AndV3ObjectsSideBySide_SkippingAJunkKeyFile()
    {
        string repo = Path.Combine(_dir, "repo");
        Dictionary<string, byte[]> expected = await WriteMixedVersionRepositoryAsync(repo);

        foreach ((string name, byte[] plaintext) in expected)
        {
            string output = Path.Combine(_dir, "out.bin");
            (int code, _, string stderr) = await InteropDecryptor.RunPythonAsync(["--repo", repo, "--object", name, "--kind", "16", "--out", output], Passphrase);
            Assert.True(code == 0, $"{name}: exit {code}: {stderr}");
            Assert.Equal(plaintext, await File.ReadAllBytesAsync(output));
        }
    }

    private static async Task SealAsync(RepositoryKeys keys, InMemoryStorageBackend backend, Dictionary<string, (ObjectKind, byte[])> expected, string name, ObjectKind kind, byte[] plaintext)
    {
        using var sealedStream = new MemoryStream();
        await keys.Cipher.SealAsync(new MemoryStream(plaintext), sealedStream, kind, name);
        backend.SetRaw(name, sealedStream.ToArray());
        expected[name] = (kind, plaintext);
    }
}
