using BenchmarkDotNet.Attributes;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Benchmarks.Crypto;

/// <summary>
/// Unlocking a repository whose one key file uses each key derivation profile, side by side: PBKDF2-HMAC-SHA256 at
/// 600,000 iterations (the baseline: what every key file cost before Argon2id), Argon2id at the default 64 MiB and
/// 10 passes, and Argon2id at the phone profile's 32 MiB and 4 passes (docs/security.md, "Passphrase key derivation").
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives its runner from this class.</remarks>
[MemoryDiagnoser]
public class KeyDerivationBenchmarks
{
    private const string Passphrase = "correct horse battery staple";

    private readonly InMemoryStorageBackend _pbkdf2 = new();
    private readonly InMemoryStorageBackend _argon2id = new();
    private readonly InMemoryStorageBackend _phone = new();

    [GlobalSetup]
    public void Setup()
    {
        Create(_pbkdf2, KeyDerivationProfile.Pbkdf2);
        Create(_argon2id, KeyDerivationProfile.Argon2id);
        Create(_phone, KeyDerivationProfile.Argon2idPhone);
    }

    /// <summary>The key file as earlier versions wrote it (and as <c>--kdf pbkdf2</c> still does).</summary>
    [Benchmark(Baseline = true)]
    public Task<uint> UnlockPbkdf2Async() => UnlockAsync(_pbkdf2);

    /// <summary>The default for new key files.</summary>
    [Benchmark]
    public Task<uint> UnlockArgon2idAsync() => UnlockAsync(_argon2id);

    /// <summary>The phone profile (<c>--kdf argon2id-phone</c>).</summary>
    [Benchmark]
    public Task<uint> UnlockArgon2idPhoneAsync() => UnlockAsync(_phone);

    private static void Create(InMemoryStorageBackend backend, KeyDerivationProfile profile) =>
        RepositoryKeys.InitializeAsync(backend, Passphrase, options: new RepositoryKeyOptions().UseProfile(profile)).GetAwaiter().GetResult().Dispose();

    private static async Task<uint> UnlockAsync(InMemoryStorageBackend backend)
    {
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(backend, Passphrase).ConfigureAwait(false);
        return keys.CurrentEpoch;
    }
}
