using System.Security.Cryptography;
using Ghostie.Sync.Crypto.Internal;
using static Ghostie.Sync.Crypto.Tests.KnownAnswerVectors;

namespace Ghostie.Sync.Crypto.Tests;

/// <summary>
/// Fixed inputs give exactly these bytes: the format cannot drift silently. The same vectors are printed in
/// docs/format.md ("Test vectors") and checked by the independent decryptor in tests/interop.
/// </summary>
public class KnownAnswerTests
{
    private const string ShortAes = "4748534f0101101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc2822783fd9f0b9c40141fb86b400eddc9eac54d425b0fde4928028d062550bf40078dfeadfdd28e82ea8036e40a";
    private const string ShortChaCha = "4748534f0102301001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf30e3cd9edf86b53afed99a32a2955cbe08d5b7422a15f7072845cb9fc60122cad7764c5cc74eb6c05cbe7e3dac8b";
    private const string EmptyAes = "4748534f0101101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf19b8e71d5e452065d406920542ba67b6";
    private const string LongAesSha256 = "bfa97d19d8f676e71ce42ddf45804736837ecee4f1c86b57237ff24b1f600533";
    private const string LongAesTags = "02b6b4dfacc61898bb3f9393b92fe10be2d9a6ae63dafd9197a533c108bb8b2a417c818538322cebe5496f4f431343da";
    private const string EpochObjectHex = "4748534f0101021000000000303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f2e492939e517ae94c6bed8ba4141f8579cb4fe58b016191e0675ff2b5a14700d1b4167bf6ccd4025c7413c3ae0354d965bda0755c4b09646f91988a0bc";
    private const string KeyFileHex = "4748534b01010000000927c020c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf000102030405060708090a0b0c0d0e0f50d59bebc53c0ef38785bed715d96b16e0e1e2e3e4e5e6e7e8e9eaeb4584d097e6905897c02f7d2617ff7b21ce3a015b3c6e81ee70632434cd730549ec55e1ec37ee4f0a8e7c964a692315d70000004d4748534f0101011000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2ffdc07feb3748df1a38dd0a663988303755d32d0f257118bf4b7730d1a4d1f23e43";

    // Format v2 (session salt a0..bf, epoch 0x01020304, name packs/kat), docs/format.md "Test vectors, format v2".
    private const string SessionKeyAes = "b260c9c30a1514d451f45bacb9da6daa042ed782f9a25634de0dbeaf4f3069e7";
    private const string SessionKeyChaCha = "aeb9314ec8b8739b0e0ae1b9fc2681db5fff60824d79055c611f4e2b055b657e";
    private const string ShortAesV2 = "4748534f0201101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0000000594d625cae8bbe0d3375b072224eb297284e0a8bf1fff2c103056aaedc956a102e007387340a15af55112fe0d01a4";
    private const string ShortChaChaV2 = "4748534f0202301001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000005c2bee2fa27dd44ec7f17035c4082aeef7d789d162ff186d822cc0787a1abdc731d4658bf65f06d4cbf0e8ed45df3";
    private const string EmptyAesV2 = "4748534f0201101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000006aeb705c389f5dbbe13f5c2ea16ca7f7c";
    private const string LongAesV2Header = "4748534f0201100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0a0b0c0d";
    private const string LongAesV2Sha256 = "0d680ba847df303528ec1547ca039436e31eb1cf15cd0fec744d5ac4b2f5105c";
    private const string LongAesV2Tags = "2be99c53e01839a08086d62aebd8194427c219c602f9e20e7f6fbb65113063da95565c9e9b0d8652ca3efefdf5234420";

    // Format v3 (padded; session salt a0..bf, epoch 0x01020304, name packs/kat), docs/format.md "Test vectors, format v3":
    // (sealed size, header, SHA-256 of the whole object, tags).
    private const string ShortAesV3Header = "4748534f0301101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000005";
    private const string ShortAesV3Sha256 = "e61c8af78bfd0a980f45bc1739640c75e07704133681d2a21cad5e5ff1d4d1fa";
    private const string ShortAesV3Tag = "54f3d5b14db13b0fec1c82121dbe8ffb";
    private const string ShortChaChaV3Sha256 = "f51439a9d9aa8b5b3fde6c63651e039204c89b36e36cacafac7de47a58d91ff7";
    private const string ShortChaChaV3Tag = "0269c96aa0dbc0f1c5141c74ee98b2e6";
    private const string EmptyAesV3Sha256 = "3492271f00a3bd9292fa6ae9ea66a9edb48d2a5eabb1374bc0a509fdadf82db0";
    private const string EmptyAesV3Tag = "eee27427e609b9beab8d4602813cdd1f";
    private const string LongAesV3Header = "4748534f0301100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0a0b0c0d";
    private const string LongAesV3Sha256 = "3e2c3c50ee516399f80349fbac54b981560ca10f38c3ce3b7f7f272179be7335";
    private const string LongAesV3Tags = "1bb62b8babdcec8e823a522071d3d544179dae1e493d37207dd33f6f8b3bafda739c7bc32e8fee8f19af925eb507a4d3";
    private const string EpochObjectV3Sha256 = "d6e7e5e9277957d6b97267251bd51c69679f8c4d3c702efe1be9be5f6f125380";
    private const string KeyFileV3Sha256 = "c4612d21827be998ce4d89464c6716a388cd85e8e2020a95f1f5b652a00462f3";

    [Theory]
    [InlineData(CipherSuite.Aes256Gcm, ObjectKind.Pack, 5, "", ShortAesV3Sha256, ShortAesV3Tag)]
    [InlineData(CipherSuite.ChaCha20Poly1305, ObjectKind.VectorData, 5, "", ShortChaChaV3Sha256, ShortChaChaV3Tag)]
    [InlineData(CipherSuite.Aes256Gcm, ObjectKind.Pack, 6, "empty", EmptyAesV3Sha256, EmptyAesV3Tag)]
    public async Task SealV3_ShortAndEmptyPlaintext_GiveExactBytes_AndOpenOnBothPaths(CipherSuite suite, ObjectKind kind, uint counter, string which, string sha256, string tag)
    {
        byte[] plaintext = which == "empty" ? [] : ShortPlaintext;
        byte[] sealedObject = SealObjectV3(plaintext, suite, kind, 16, counter);

        Assert.Equal(48 + 1024 + 16, sealedObject.Length);
        if (suite == CipherSuite.Aes256Gcm && counter == ShortCounter)
        {
            Assert.Equal(ShortAesV3Header, Convert.ToHexStringLower(sealedObject.AsSpan(0, 48)));
        }

        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(sealedObject)));
        Assert.Equal(tag, Convert.ToHexStringLower(sealedObject.AsSpan(sealedObject.Length - 16)));
        var cipher = new ObjectCipher(Ring());
        Assert.Equal(plaintext, cipher.Open(sealedObject, kind, KatObjectName));
        using var opened = new MemoryStream();
        await cipher.OpenAsync(new MemoryStream(sealedObject), opened, kind, KatObjectName);
        Assert.Equal(plaintext, opened.ToArray());
    }

    [Fact]
    public void SealV3_ThreeChunkPlaintext_GivesExactBytes()
    {
        byte[] sealedObject = SealObjectV3(LongPlaintext, CipherSuite.Aes256Gcm, ObjectKind.Pack, 10, LongCounter);

        Assert.Equal(48 + 2560 + (3 * 16), sealedObject.Length);
        Assert.Equal(LongAesV3Header, Convert.ToHexStringLower(sealedObject.AsSpan(0, 48)));
        Assert.Equal(LongAesV3Sha256, Convert.ToHexStringLower(SHA256.HashData(sealedObject)));
        byte[] tags = [.. sealedObject.AsSpan(48 + 1024, 16), .. sealedObject.AsSpan(48 + 1040 + 1024, 16), .. sealedObject.AsSpan(sealedObject.Length - 16)];
        Assert.Equal(LongAesV3Tags, Convert.ToHexStringLower(tags));
        Assert.Equal(LongPlaintext, new ObjectCipher(Ring(), 10).Open(sealedObject, ObjectKind.Pack, KatObjectName));
    }

    [Fact]
    public async Task V3EpochObjectAndKeyFile_GiveExactBytes_AndUnlockTogether()
    {
        byte[] epoch = EpochObjectV3();
        byte[] keyFile = KeyFileV3();
        Assert.Equal(1088, epoch.Length);
        Assert.Equal(EpochObjectV3Sha256, Convert.ToHexStringLower(SHA256.HashData(epoch)));
        Assert.Equal(1229, keyFile.Length);
        Assert.Equal(KeyFileV3Sha256, Convert.ToHexStringLower(SHA256.HashData(keyFile)));

        var backend = new InMemoryStorageBackend();
        backend.SetRaw(KeyFileName, keyFile);
        backend.SetRaw(EpochObjectName, epoch);
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase);
        Assert.Equal(KeyFileLabel, (await keys.ListKeyFilesAsync()).Single().Label);
        Assert.Equal(ShortPlaintext, keys.Cipher.Open(Convert.FromHexString(ShortAes), ObjectKind.Pack, KatObjectName));
        Assert.Equal(ShortPlaintext, keys.Cipher.Open(Convert.FromHexString(ShortAesV2), ObjectKind.Pack, KatObjectName));
        Assert.Equal(ShortPlaintext, keys.Cipher.Open(SealObjectV3(ShortPlaintext, CipherSuite.Aes256Gcm, ObjectKind.Pack, 16, ShortCounter), ObjectKind.Pack, KatObjectName));
    }

    [Fact]
    public void DerivedKeys_MatchPublishedValues()
    {
        Assert.Equal("84e6a9e7a206f25586435ef7fa6321f467a1ad242bb95dfabe48741f248580a0", Convert.ToHexStringLower(Ring().GetPurposeKey(Epoch, CipherSuite.Aes256Gcm)));
        Assert.Equal("a806be196efe9c2cd7a8a7b1529d48b3ce9aab6158288c249f92e105bfe69432", Convert.ToHexStringLower(Ring().GetPurposeKey(Epoch, CipherSuite.ChaCha20Poly1305)));
        var objectKey = new byte[32];
        EnvelopeFormat.DeriveObjectKey(Ring().GetPurposeKey(Epoch, CipherSuite.Aes256Gcm), ObjectSalt, objectKey);
        Assert.Equal("17073a7716948183aba5012c9b56b0c2b98d18f711c4eabcf3b9f8fa90a97920", Convert.ToHexStringLower(objectKey));
        EnvelopeFormat.DeriveObjectKey(Ring().GetPurposeKey(Epoch, CipherSuite.ChaCha20Poly1305), ObjectSalt, objectKey);
        Assert.Equal("03e88b809067a40d3fbae687981b7ca14b94543aafdb76bbcad72c3c87a61aee", Convert.ToHexStringLower(objectKey));
    }

    [Fact]
    public void MasterKeyDerivations_MatchPublishedValues()
    {
        var key = new byte[32];
        Assert.Equal("fe1769a2cbe86ff4d072f6a45083a34efae3655a3e4d2f9f9b7cf1ef0b9c0b40", Convert.ToHexStringLower(Ring().GetPurposeKey(0, CipherSuite.Aes256Gcm)));
        EnvelopeFormat.DeriveObjectKey(Ring().GetPurposeKey(0, CipherSuite.Aes256Gcm), EpochSalt, key);
        Assert.Equal("1abf8dc0643dc20c88852dca39f95a4045548ee04902c8e9dc83c5aa2bb39ef2", Convert.ToHexStringLower(key));
        EnvelopeFormat.DeriveObjectKey(Ring().GetPurposeKey(0, CipherSuite.Aes256Gcm), MetadataSalt, key);
        Assert.Equal("d06dc62d4b96ecc29c4add15e480ddfc373fe6cd0b6c376e71288bc8f75a082a", Convert.ToHexStringLower(key));
        Ring().DeriveNamesKey(key);
        Assert.Equal("713fd5ac350fdaabc33b9b7afa66204924f42e0106c81547a92fa3bd59b55e1a", Convert.ToHexStringLower(key));
    }

    [Fact]
    public void PassphraseDerivation_MatchesPublishedIntermediates()
    {
        var d = new byte[32];
        Rfc2898DeriveBytes.Pbkdf2("correct horse battery staple"u8, KeyFileSalt, d, Iterations, HashAlgorithmName.SHA256);
        var wrap = new byte[32];
        var check = new byte[16];
        KeyFileFormat.DerivePassphraseKeys(Passphrase, KeyFileSalt, Iterations, wrap, check);

        Assert.Equal("1bfc73bc415e0dcb3eb245e6119fc13f5ded1a810cef42caa0fac6b3bbebef48", Convert.ToHexStringLower(d));
        Assert.Equal("2005f5bb907442c46afa394ee8b57f4a9ed49eb3afc9317081892942f93a7108", Convert.ToHexStringLower(wrap));
        Assert.Equal("50d59bebc53c0ef38785bed715d96b16", Convert.ToHexStringLower(check));
    }

    [Theory]
    [InlineData("caf\u00e9")]
    [InlineData("cafe\u0301")]
    public void PassphraseDerivation_NormalizesToNfc(string escaped)
    {
        string passphrase = System.Text.RegularExpressions.Regex.Unescape(escaped);
        var wrap = new byte[32];
        var check = new byte[16];
        KeyFileFormat.DerivePassphraseKeys(passphrase, KeyFileSalt, 1_000, wrap, check);

        Assert.Equal("dafab28a6f3c2de3f5a92c5996cee340", Convert.ToHexStringLower(check));
    }

    [Fact]
    public async Task DerivedObjectName_MatchesPublishedValue()
    {
        var backend = new InMemoryStorageBackend();
        backend.SetRaw(KeyFileName, Convert.FromHexString(KeyFileHex));
        backend.SetRaw(EpochObjectName, Convert.FromHexString(EpochObjectHex));
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase);

        Assert.Equal("d/tp6hes4thvv3fplz7yeujwky5mqq44zm", keys.DeriveObjectName("d/", "device-prefix", "pixel9-pro-xl-termux"u8));
    }

    [Theory]
    [InlineData(CipherSuite.Aes256Gcm, ObjectKind.Pack, ShortAes)]
    [InlineData(CipherSuite.ChaCha20Poly1305, ObjectKind.VectorData, ShortChaCha)]
    public void Seal_ShortPlaintext_GivesExactBytes_AndOpens(CipherSuite suite, ObjectKind kind, string expected)
    {
        byte[] sealedObject = SealObject(ShortPlaintext, suite, kind, 16);

        Assert.Equal(expected, Convert.ToHexStringLower(sealedObject));
        Assert.Equal(ShortPlaintext, new ObjectCipher(Ring()).Open(Convert.FromHexString(expected), kind, KatObjectName));
    }

    [Fact]
    public void Seal_EmptyPlaintext_GivesExactBytes()
    {
        Assert.Equal(EmptyAes, Convert.ToHexStringLower(SealObject([], CipherSuite.Aes256Gcm, ObjectKind.Pack, 16)));
    }

    [Fact]
    public void Seal_ThreeChunkPlaintext_GivesExactBytes()
    {
        byte[] sealedObject = SealObject(LongPlaintext, CipherSuite.Aes256Gcm, ObjectKind.Pack, 10);

        Assert.Equal(44 + 2500 + (3 * 16), sealedObject.Length);
        Assert.Equal("4748534f0101100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf", Convert.ToHexStringLower(sealedObject.AsSpan(0, 44)));
        Assert.Equal(LongAesSha256, Convert.ToHexStringLower(SHA256.HashData(sealedObject)));
        byte[] tags = [.. sealedObject.AsSpan(44 + 1024, 16), .. sealedObject.AsSpan(44 + 1040 + 1024, 16), .. sealedObject.AsSpan(sealedObject.Length - 16)];
        Assert.Equal(LongAesTags, Convert.ToHexStringLower(tags));
    }

    [Fact]
    public void EpochObject_GivesExactBytes()
    {
        Assert.Equal(EpochObjectHex, Convert.ToHexStringLower(EpochObject()));
    }

    [Fact]
    public async Task KeyFile_GivesExactBytes_AndUnlocksTheKnownRepository()
    {
        Assert.Equal(KeyFileHex, Convert.ToHexStringLower(KeyFile()));

        // A repository made of nothing but the published bytes unlocks with the published passphrase.
        var backend = new InMemoryStorageBackend();
        backend.SetRaw(KeyFileName, Convert.FromHexString(KeyFileHex));
        backend.SetRaw(EpochObjectName, Convert.FromHexString(EpochObjectHex));
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase);

        Assert.Equal("000102030405060708090a0b0c0d0e0f", keys.RepositoryId);
        Assert.Equal(Epoch, keys.CurrentEpoch);
        Assert.Equal(ShortPlaintext, keys.Cipher.Open(Convert.FromHexString(ShortAes), ObjectKind.Pack, KatObjectName));
        KeyFileInfo info = (await keys.ListKeyFilesAsync()).Single();
        Assert.Equal(("00112233aabbccdd", "primary", 600_000), (info.Id, info.Label, info.Iterations));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(KeyFileCreatedUnixMs), info.CreatedAt);
    }

    [Fact]
    public void SessionKeys_MatchPublishedValues()
    {
        var key = new byte[32];
        EnvelopeFormat.DeriveSessionKey(Ring().GetPurposeKey(Epoch, CipherSuite.Aes256Gcm), SessionSalt, key);
        Assert.Equal(SessionKeyAes, Convert.ToHexStringLower(key));
        Assert.Equal(SessionKeyAes, Convert.ToHexStringLower(SessionKey(CipherSuite.Aes256Gcm)));
        EnvelopeFormat.DeriveSessionKey(Ring().GetPurposeKey(Epoch, CipherSuite.ChaCha20Poly1305), SessionSalt, key);
        Assert.Equal(SessionKeyChaCha, Convert.ToHexStringLower(key));
    }

    [Theory]
    [InlineData(CipherSuite.Aes256Gcm, ObjectKind.Pack, ShortAesV2)]
    [InlineData(CipherSuite.ChaCha20Poly1305, ObjectKind.VectorData, ShortChaChaV2)]
    public async Task SealV2_ShortPlaintext_GivesExactBytes_AndOpensOnBothPaths(CipherSuite suite, ObjectKind kind, string expected)
    {
        byte[] sealedObject = SealObjectV2(ShortPlaintext, suite, kind, 16, ShortCounter);

        Assert.Equal(expected, Convert.ToHexStringLower(sealedObject));
        var cipher = new ObjectCipher(Ring());
        Assert.Equal(ShortPlaintext, cipher.Open(Convert.FromHexString(expected), kind, KatObjectName));
        using var opened = new MemoryStream();
        await cipher.OpenAsync(new MemoryStream(Convert.FromHexString(expected)), opened, kind, KatObjectName);
        Assert.Equal(ShortPlaintext, opened.ToArray());
    }

    [Fact]
    public void SealV2_EmptyPlaintext_GivesExactBytes()
    {
        Assert.Equal(EmptyAesV2, Convert.ToHexStringLower(SealObjectV2([], CipherSuite.Aes256Gcm, ObjectKind.Pack, 16, EmptyCounter)));
    }

    [Fact]
    public void SealV2_ThreeChunkPlaintext_GivesExactBytes()
    {
        byte[] sealedObject = SealObjectV2(LongPlaintext, CipherSuite.Aes256Gcm, ObjectKind.Pack, 10, LongCounter);

        Assert.Equal(48 + 2500 + (3 * 16), sealedObject.Length);
        Assert.Equal(LongAesV2Header, Convert.ToHexStringLower(sealedObject.AsSpan(0, 48)));
        Assert.Equal(LongAesV2Sha256, Convert.ToHexStringLower(SHA256.HashData(sealedObject)));
        byte[] tags = [.. sealedObject.AsSpan(48 + 1024, 16), .. sealedObject.AsSpan(48 + 1040 + 1024, 16), .. sealedObject.AsSpan(sealedObject.Length - 16)];
        Assert.Equal(LongAesV2Tags, Convert.ToHexStringLower(tags));
        Assert.Equal(LongPlaintext, new ObjectCipher(Ring(), 10).Open(sealedObject, ObjectKind.Pack, KatObjectName));
    }

    [Fact]
    public void SealV2_ChunkNonces_HoldCounterIndexAndFinalFlag()
    {
        // The three nonces of the long v2 vector, as printed in docs/format.md.
        var header = new EnvelopeHeader(2, CipherSuite.Aes256Gcm, ObjectKind.Pack, 10, Epoch, LongCounter);
        var nonce = new byte[12];
        EnvelopeFormat.WriteNonce(nonce, header, 0, final: false);
        Assert.Equal("0a0b0c0d0000000000000000", Convert.ToHexStringLower(nonce));
        EnvelopeFormat.WriteNonce(nonce, header, 1, final: false);
        Assert.Equal("0a0b0c0d0000000000000100", Convert.ToHexStringLower(nonce));
        EnvelopeFormat.WriteNonce(nonce, header, 2, final: true);
        Assert.Equal("0a0b0c0d0000000000000201", Convert.ToHexStringLower(nonce));
    }

    [Fact]
    public async Task PublishedRepository_OpensV1V2AndV3Objects()
    {
        // The published key file and epoch object (v1) unlock a repository that reads both envelope versions.
        var backend = new InMemoryStorageBackend();
        backend.SetRaw(KeyFileName, Convert.FromHexString(KeyFileHex));
        backend.SetRaw(EpochObjectName, Convert.FromHexString(EpochObjectHex));
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase);

        Assert.Equal(ShortPlaintext, keys.Cipher.Open(Convert.FromHexString(ShortAes), ObjectKind.Pack, KatObjectName));
        Assert.Equal(ShortPlaintext, keys.Cipher.Open(Convert.FromHexString(ShortAesV2), ObjectKind.Pack, KatObjectName));
        Assert.Equal(ShortPlaintext, keys.Cipher.Open(Convert.FromHexString(ShortChaChaV2), ObjectKind.VectorData, KatObjectName));
        Assert.Equal(ShortPlaintext, keys.Cipher.Open(SealObjectV3(ShortPlaintext, CipherSuite.Aes256Gcm, ObjectKind.Pack, 16, ShortCounter), ObjectKind.Pack, KatObjectName));
    }
}
