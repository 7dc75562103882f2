namespace Ghostie.Sync.Crypto;

/// <summary>The function that turns a passphrase into the key that wraps the master key (docs/format.md, "Key file").</summary>
public enum KeyDerivationFunction
{
    /// <summary>PBKDF2-HMAC-SHA256 (key file format v1, KDF id 1). FIPS-approved, but cheap to attack on GPUs.</summary>
    Pbkdf2HmacSha256 = 1,

    /// <summary>Argon2id version 0x13 (RFC 9106; key file format v2, KDF id 2), memory-hard. The default for new key files.</summary>
    Argon2id = 2,
}

/// <summary>
/// A named set of key derivation parameters for new key files (see <see cref="RepositoryKeyOptions.UseProfile"/> and
/// docs/security.md, "Passphrase key derivation"). The CLI names them <c>argon2id</c>, <c>argon2id-phone</c> and <c>pbkdf2</c>.
/// </summary>
public enum KeyDerivationProfile
{
    /// <summary>Argon2id with 65,536 KiB (64 MiB) of memory, 10 passes, parallelism 1: about half a second on a laptop. The default.</summary>
    Argon2id = 0,

    /// <summary>Argon2id with 32,768 KiB (32 MiB) of memory, 4 passes, parallelism 1: for phones, about a fifth of the default's work.</summary>
    Argon2idPhone = 1,

    /// <summary>PBKDF2-HMAC-SHA256 with 600,000 iterations (key file format v1): for deployments that must use FIPS-approved algorithms.</summary>
    Pbkdf2 = 2,
}
