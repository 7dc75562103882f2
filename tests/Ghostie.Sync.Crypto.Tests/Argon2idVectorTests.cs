using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Ghostie.Sync.Crypto.Internal;
using Ghostie.Sync.Testing;
using static Ghostie.Sync.Crypto.Tests.KnownAnswerVectors;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// The key file v2 (Argon2id) vector, read from docs/format.md ("Test vectors, key file v2 (Argon2id)") itself, so
/// the document and the code cannot drift apart.
/// </summary>
public sealed partial class Argon2idVectorTests
{
    private const string Heading = "### Test vectors, key file v2 (Argon2id)";

    [Fact]
    public void Derivation_MatchesTheDocumentedIntermediates()
    {
        DocVector v = DocVector.Read();
        KdfParameters kdf = KdfParameters.Argon2id(v.MemoryKiB, v.Passes);
        Assert.Equal(1, v.Parallelism);

        var d = new byte[32];
        KeyFileFormat.Argon2id(System.Text.Encoding.UTF8.GetBytes(v.Passphrase), v.Salt, kdf, d, "the vector");
        var wrap = new byte[32];
        var check = new byte[16];
        KeyFileFormat.DerivePassphraseKeys(v.Passphrase, v.Salt, kdf, wrap, check, "the vector");

        Assert.Equal(v.Values["D"], Convert.ToHexStringLower(d));
        Assert.Equal(v.Values["wrap"], Convert.ToHexStringLower(wrap));
        Assert.Equal(v.Values["check"], Convert.ToHexStringLower(check));
    }

    [Fact]
    public void KeyFile_IsWhatTheWriterProducesFromTheDocumentedInputs()
    {
        DocVector v = DocVector.Read();
        byte[] sealedMetadata = KeyFile().AsSpan(^77..).ToArray(); // the v1 key file's metadata envelope, as the document says

        byte[] file = KeyFileFormat.Create(MasterKey, RepositoryId, v.Passphrase, KdfParameters.Argon2id(v.MemoryKiB, v.Passes),
            v.Salt, Convert.FromHexString(v.Values["wrap nonce"]), sealedMetadata);

        Assert.Equal(Convert.ToHexStringLower(v.KeyFile), Convert.ToHexStringLower(file));
        Assert.Equal(v.KeyFileSha256, Convert.ToHexStringLower(SHA256.HashData(v.KeyFile)));
        Assert.Equal(v.KeyFileLength, v.KeyFile.Length);
    }

    [Fact]
    public async Task KeyFile_FromTheDocument_UnlocksWithTheV1EpochObject_AndOpensTheKnownObject()
    {
        DocVector v = DocVector.Read();
        var backend = new InMemoryStorageBackend();
        backend.SetRaw(KeyFileName, v.KeyFile);
        backend.SetRaw(EpochObjectName, EpochObject());

        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, v.Passphrase);

        Assert.Equal(Convert.ToHexStringLower(RepositoryId), keys.RepositoryId);
        Assert.Equal(ShortPlaintext, keys.Cipher.Open(SealObject(ShortPlaintext, CipherSuite.Aes256Gcm, ObjectKind.Pack, 16), ObjectKind.Pack, KatObjectName));
        KeyFileInfo info = (await keys.ListKeyFilesAsync()).Single();
        Assert.Equal((KeyDerivationFunction.Argon2id, 256, 2, 1, "primary"), (info.Kdf, info.MemoryKiB, info.Iterations, info.Parallelism, info.Label));
        await Assert.ThrowsAsync<WrongPassphraseException>(() => RepositoryKeys.UnlockAsync(backend, v.Passphrase + "!"));
    }

    /// <summary>The vector as docs/format.md prints it: indented <c>name = value</c> lines, then the key file's hex lines.</summary>
    private sealed record DocVector(Dictionary<string, string> Values, byte[] KeyFile, int KeyFileLength, string KeyFileSha256)
    {
        public string Passphrase => Values["passphrase"];

        public byte[] Salt => Convert.FromHexString(Values["salt"]);

        public int MemoryKiB => int.Parse(Values["m"], CultureInfo.InvariantCulture);

        public int Passes => int.Parse(Values["t"], CultureInfo.InvariantCulture);

        public int Parallelism => int.Parse(Values["p"], CultureInfo.InvariantCulture);

        public static DocVector Read()
        {
            string doc = File.ReadAllText(Path.Combine(ServerProcess.RepositoryRoot, "docs", "format.md"));
            int start = doc.IndexOf(Heading, StringComparison.Ordinal);
            Assert.True(start >= 0, $"docs/format.md has no section '{Heading}'");
            int end = doc.IndexOf("\n#", start + Heading.Length, StringComparison.Ordinal);
            string section = end < 0 ? doc[start..] : doc[start..end];

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match m in ValueLine().Matches(section))
            {
                values[m.Groups[1].Value.Trim()] = m.Groups[2].Value.Trim();
            }

            string hex = string.Concat(HexLine().Matches(section).Select(m => m.Groups[1].Value));
            Match size = SizeLine().Match(section);
            Assert.True(size.Success, "the section states the key file's size and SHA-256");
            return new DocVector(values, Convert.FromHexString(hex), int.Parse(size.Groups[1].Value, CultureInfo.InvariantCulture), size.Groups[2].Value);
        }
    }

    [GeneratedRegex(@"^    ([a-zA-Z][a-zA-Z ]*?)\s+= (.+)$", RegexOptions.Multiline)]
    private static partial Regex ValueLine();

    [GeneratedRegex(@"^    ([0-9a-f]+)\r?$", RegexOptions.Multiline)]
    private static partial Regex HexLine();

    [GeneratedRegex(@"It is (\d+) bytes, SHA-256 `([0-9a-f]{64})`")]
    private static partial Regex SizeLine();
}
