using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Benchmarks.Crypto;

/// <summary>
/// Unlocking a repository with its passphrase (one PBKDF2 key file, 600,000 PBKDF2-HMAC-SHA256 iterations)
/// against the bare key derivation it is made of. The ratio shows what the rest of unlock costs on top of PBKDF2:
/// listing and reading the key file and the epoch, HKDF, unwrapping, and opening the epoch object.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives its runner from this class.</remarks>
[MemoryDiagnoser]
public class UnlockBenchmarks
{
    private const string Passphrase = "correct horse battery staple";

    private readonly byte[] _passphraseUtf8 = Encoding.UTF8.GetBytes(Passphrase);
    private readonly byte[] _salt = new byte[32];
    private readonly byte[] _derived = new byte[32];
    private InMemoryStorageBackend _backend = null!;

    [GlobalSetup]
    public void Setup()
    {
        RandomNumberGenerator.Fill(_salt);
        _backend = new InMemoryStorageBackend();
        // PBKDF2 explicitly: the default for new key files is Argon2id now (KeyDerivationBenchmarks compares the two).
        var options = new RepositoryKeyOptions().UseProfile(KeyDerivationProfile.Pbkdf2);
        Check(options.Pbkdf2Iterations == RepositoryKeyOptions.MinimumIterations && RepositoryKeyOptions.MinimumIterations == 600_000);
        RepositoryKeys.InitializeAsync(_backend, Passphrase, options: options).GetAwaiter().GetResult().Dispose();
    }

    /// <summary>What unlock cannot go below: the key derivation alone, with the same parameters.</summary>
    [Benchmark(Baseline = true)]
    public byte[] Pbkdf2()
    {
        Rfc2898DeriveBytes.Pbkdf2(_passphraseUtf8, _salt, _derived, RepositoryKeyOptions.MinimumIterations, HashAlgorithmName.SHA256);
        return _derived;
    }

    [Benchmark]
    public async Task<uint> UnlockAsync()
    {
        using RepositoryKeys keys = await RepositoryKeys.UnlockAsync(_backend, Passphrase).ConfigureAwait(false);
        return keys.CurrentEpoch;
    }

    private static void Check(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("The PBKDF2 profile's iteration count is no longer 600,000; update this benchmark and docs/performance.md.");
        }
    }
}
