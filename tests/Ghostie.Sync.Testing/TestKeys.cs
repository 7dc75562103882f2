using Ghostie.Sync.Crypto;

namespace Ghostie.Sync.Testing;

/// <summary>Key options for tests.</summary>
public static class TestKeys
{
    /// <summary>A weak key derivation (1,000 PBKDF2 iterations, allowed for tests only), so suites stay fast; the real
    /// default is proven separately in the crypto tests.</summary>
    /// <param name="time">The clock key files and epochs are stamped with; the system clock when null.</param>
    public static RepositoryKeyOptions FastOptions(TimeProvider? time = null) =>
        new() { Pbkdf2Iterations = 1_000, AllowWeakKdfForTesting = true, TimeProvider = time ?? TimeProvider.System };
}
