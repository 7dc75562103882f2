using Ghostie.Sync.Testing;
using System.Globalization;
using static Ghostie.Sync.Crypto.Tests.TestSupport;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// Our output, read by tests/interop/decrypt.mjs: a second independent decryptor (Node 20, built-in crypto only)
/// written from docs/format.md alone. It re-checks the published vectors and opens what this library seals
/// across epochs, suites, chunk boundaries and key files. A missing node is a failure, not a skip.
/// The whole-repository check (heads, packs, handoffs) is in Ghostie.Sync.Handoff.Tests/NodeInteropTests.
/// </summary>
public sealed class NodeInteropTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ghostie-node-interop-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task NodeDecryptor_SelfTest_ReproducesThePublishedVectors()
    {
        (int code, string stdout, string stderr) = await InteropDecryptor.RunNodeAsync(["--self-test"], passphrase: null);

        Assert.True(code == 0, $"self-test failed ({code}):\n{stdout}\n{stderr}");
        Assert.DoesNotContain("FAIL", stdout, StringComparison.Ordinal);
        Assert.Contains("checks passed", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeDecryptor_OpensOurObjects_AcrossEpochsCiphersAndKeyFiles()
    {
        var backend = new InMemoryStorageBackend();
        var expected = new Dictionary<string, (ObjectKind Kind, byte[] Plaintext)>();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            await keys.AddPassphraseAsync("second passphrase for node", "second");
            Seal(keys, backend, expected, "p/before", ObjectKind.Pack, RandomBytes(200_000, 1));
            await keys.RotateEpochAsync();
            Seal(keys, backend, expected, "v/v", ObjectKind.VectorData, RandomBytes(70_000, 2));
            Seal(keys, backend, expected, "h/empty", ObjectKind.Head, []);
            Seal(keys, backend, expected, "p/exact", ObjectKind.Pack, RandomBytes(2 * 65536, 3));
            Seal(keys, backend, expected, "x/handoff", ObjectKind.Handoff, RandomBytes(1000, 4));
        }

        await WriteFolderRepositoryAsync(backend, Path.Combine(_dir, "repo"));
        foreach ((string name, (ObjectKind kind, byte[] plaintext)) in expected)
        {
            string output = Path.Combine(_dir, "out.bin");
            (int code, _, string stderr) = await InteropDecryptor.RunNodeAsync(["--repo", Path.Combine(_dir, "repo"), "--object", name, "--kind", ((int)kind).ToString(CultureInfo.InvariantCulture), "--out", output],
                passphrase: name == "v/v" ? "second passphrase for node" : Passphrase);
            Assert.True(code == 0, $"{name}: exit {code}: {stderr}");
            Assert.Equal(plaintext, await File.ReadAllBytesAsync(output));
        }

        (int dumpCode, string keyFiles, string dumpError) = await InteropDecryptor.RunNodeAsync(["--repo", Path.Combine(_dir, "repo"), "--dump-all"], "second passphrase for node");
        Assert.True(dumpCode == 0, dumpError);
        Assert.Contains("\"label\":\"primary\"", keyFiles, StringComparison.Ordinal);
        Assert.Contains("\"label\":\"second\"", keyFiles, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeDecryptor_OpensV1V2AndV3ObjectsSideBySide_SkippingAJunkKeyFile()
    {
        string repo = Path.Combine(_dir, "repo");
        Dictionary<string, byte[]> expected = await WriteMixedVersionRepositoryAsync(repo);

        foreach ((string name, byte[] plaintext) in expected)
        {
            string output = Path.Combine(_dir, "out.bin");
            (int code, _, string stderr) = await InteropDecryptor.RunNodeAsync(["--repo", repo, "--object", name, "--kind", "16", "--out", output], Passphrase);
            Assert.True(code == 0, $"{name}: exit {code}: {stderr}");
            Assert.Equal(plaintext, await File.ReadAllBytesAsync(output));
        }
    }

    [Fact]
    public async Task NodeDecryptor_RejectsWhatWeReject_AndTellsWrongPassphraseFromTampering()
    {
        var backend = new InMemoryStorageBackend();
        using (RepositoryKeys keys = await NewRepositoryAsync(backend))
        {
            byte[] tampered = keys.Cipher.Seal(RandomBytes(100_000, 4), ObjectKind.Pack, "p/t");
            tampered[5000] ^= 1;
            backend.SetRaw("p/t", tampered);
            backend.SetRaw("p/cut", keys.Cipher.Seal(RandomBytes(3 * 65536, 5), ObjectKind.Pack, "p/cut")[..(48 + (2 * 65552))]);
            backend.SetRaw("p/ok", keys.Cipher.Seal([1, 2, 3], ObjectKind.Pack, "p/ok"));
            backend.SetRaw("p/moved", keys.Cipher.Seal([1, 2, 3], ObjectKind.Pack, "p/elsewhere"));
        }

        await WriteFolderRepositoryAsync(backend, Path.Combine(_dir, "repo"));
        string repo = Path.Combine(_dir, "repo");
        Assert.Equal(3, (await InteropDecryptor.RunNodeAsync(["--repo", repo, "--object", "p/t", "--kind", "16"], Passphrase)).Code);
        Assert.Equal(3, (await InteropDecryptor.RunNodeAsync(["--repo", repo, "--object", "p/cut", "--kind", "16"], Passphrase)).Code);
        Assert.Equal(3, (await InteropDecryptor.RunNodeAsync(["--repo", repo, "--object", "p/moved", "--kind", "16"], Passphrase)).Code);
        Assert.Equal(3, (await InteropDecryptor.RunNodeAsync(["--repo", repo, "--object", "p/ok", "--kind", "17"], Passphrase)).Code);
        Assert.Equal(2, (await InteropDecryptor.RunNodeAsync(["--repo", repo, "--object", "p/ok", "--kind", "16"], "Zq9-not-it-Vx2")).Code);
        Assert.Equal(0, (await InteropDecryptor.RunNodeAsync(["--repo", repo, "--object", "p/ok", "--kind", "16"], Passphrase)).Code);
    }

    private static void Seal(RepositoryKeys keys, InMemoryStorageBackend backend, Dictionary<string, (ObjectKind, byte[])> expected, string name, ObjectKind kind, byte[] plaintext)
    {
        backend.SetRaw(name, keys.Cipher.Seal(plaintext, kind, name));
        expected[name] = (kind, plaintext);
    }
}
