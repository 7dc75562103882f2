using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Testing;

/// <summary>Key options for tests.</summary>
public static class TestKeys
{
    /// <summary>A weak key derivation (Argon2id with 64 KiB and 1 pass, the default function with parameters allowed for
    /// tests only; 1,000 PBKDF2 iterations where a test picks PBKDF2), so suites stay fast; the real defaults are proven
    /// separately in the crypto tests.</summary>
    /// <param name="time">The clock key files and epochs are stamped with; the system clock when null.</param>
    public static RepositoryKeyOptions FastOptions(TimeProvider? time = null) => new()
    {
        Kdf = KeyDerivationFunction.Argon2id,
        Argon2MemoryKiB = 64,
        Argon2Passes = 1,
        Pbkdf2Iterations = 1_000,
        AllowWeakKdfForTesting = true,
        TimeProvider = time ?? TimeProvider.System,
    };
}
