using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Crypto;

/// <summary>
/// Options for creating and unlocking repository keys. The key derivation settings apply to key files written with
/// these options (a new repository, an added or changed passphrase); unlocking always uses the parameters stored in
/// each key file, within the bounds of docs/format.md ("Key file").
/// </summary>
public sealed class RepositoryKeyOptions
{
    /// <summary>The lowest PBKDF2-HMAC-SHA256 iteration count accepted for new key files (OWASP 2023: 600,000).</summary>
    public const int MinimumIterations = 600_000;

    /// <summary>Argon2id memory of the default profile: 65,536 KiB (64 MiB).</summary>
    public const int DefaultArgon2MemoryKiB = 65_536;

    /// <summary>Argon2id passes of the default profile: 10 (about half a second on a laptop; docs/security.md).</summary>
    public const int DefaultArgon2Passes = 10;

    /// <summary>Argon2id memory of the phone profile (<see cref="KeyDerivationProfile.Argon2idPhone"/>): 32,768 KiB (32 MiB).</summary>
    public const int PhoneArgon2MemoryKiB = 32_768;

    /// <summary>Argon2id passes of the phone profile: 4.</summary>
    public const int PhoneArgon2Passes = 4;

    /// <summary>The least Argon2id memory accepted for new key files: 19,456 KiB (19 MiB, OWASP's floor for Argon2id).</summary>
    public const int MinimumArgon2MemoryKiB = 19_456;

    /// <summary>The fewest Argon2id passes accepted for new key files: 2 (OWASP's floor at 19 MiB).</summary>
    public const int MinimumArgon2Passes = 2;

    /// <summary>The key derivation function of new key files. Default <see cref="KeyDerivationFunction.Argon2id"/>.</summary>
    public KeyDerivationFunction Kdf { get; set; } = KeyDerivationFunction.Argon2id;

    /// <summary>Argon2id memory m of new key files, in KiB. Default 65,536 (64 MiB); <see cref="MinimumArgon2MemoryKiB"/> to 1,048,576 (1 GiB, what readers accept).</summary>
    public int Argon2MemoryKiB { get; set; } = DefaultArgon2MemoryKiB;

    /// <summary>
    /// Argon2id passes t of new key files. Default 10; at least <see cref="MinimumArgon2Passes"/>, at most 64, and memory
    /// times passes at most 4 GiB (what readers accept). Parallelism is always 1: libsodium, which computes Argon2id here,
    /// has one lane only, so a key file's parallelism field is 1.
    /// </summary>
    public int Argon2Passes { get; set; } = DefaultArgon2Passes;

    /// <summary>PBKDF2-HMAC-SHA256 iterations for new key files when <see cref="Kdf"/> is PBKDF2. Default 600,000; at least <see cref="MinimumIterations"/>.
    /// Existing key files keep the parameters stored in them; change them by changing the passphrase.</summary>
    public int Pbkdf2Iterations { get; set; } = MinimumIterations;

    /// <summary>Length of the random salt of new PBKDF2 key files, in bytes. Default 32; 16 to 64. Argon2id key files
    /// always have a 16-byte salt (the only length libsodium takes).</summary>
    public int SaltLength { get; set; } = 32;

    /// <summary>The clock used for key file and epoch creation times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where key management events go. Never receives a passphrase, key or plaintext. Default: nowhere.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Lets tests create key files with as few as 1,000 PBKDF2 iterations or 8 KiB and 1 pass of Argon2id. Never set outside tests.</summary>
    internal bool AllowWeakKdfForTesting { get; set; }

    /// <summary>Sets <see cref="Kdf"/> and its parameters to a named profile (docs/security.md, "Passphrase key derivation").</summary>
    /// <param name="profile">The profile.</param>
    /// <returns>These options.</returns>
    public RepositoryKeyOptions UseProfile(KeyDerivationProfile profile)
    {
        switch (profile)
        {
            case KeyDerivationProfile.Argon2id:
                (Kdf, Argon2MemoryKiB, Argon2Passes) = (KeyDerivationFunction.Argon2id, DefaultArgon2MemoryKiB, DefaultArgon2Passes);
                break;
            case KeyDerivationProfile.Argon2idPhone:
                (Kdf, Argon2MemoryKiB, Argon2Passes) = (KeyDerivationFunction.Argon2id, PhoneArgon2MemoryKiB, PhoneArgon2Passes);
                break;
            case KeyDerivationProfile.Pbkdf2:
                (Kdf, Pbkdf2Iterations) = (KeyDerivationFunction.Pbkdf2HmacSha256, MinimumIterations);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(profile), profile, "Use Argon2id, Argon2idPhone or Pbkdf2.");
        }

        return this;
    }

    internal Internal.KdfParameters NewKeyFileKdf() => Kdf == KeyDerivationFunction.Argon2id
        ? Internal.KdfParameters.Argon2id(Argon2MemoryKiB, Argon2Passes)
        : Internal.KdfParameters.Pbkdf2(Pbkdf2Iterations);

    internal int NewKeyFileSaltLength() => Kdf == KeyDerivationFunction.Argon2id ? Internal.KeyFileFormat.Argon2SaltLength : SaltLength;

    internal void Validate()
    {
        if (Kdf is not (KeyDerivationFunction.Argon2id or KeyDerivationFunction.Pbkdf2HmacSha256))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"RepositoryKeyOptions.Kdf is {(int)Kdf}; use Argon2id or Pbkdf2HmacSha256.");
        }

        int minimum = AllowWeakKdfForTesting ? Internal.KeyFileFormat.MinIterationsToOpen : MinimumIterations;
        if (Pbkdf2Iterations < minimum || Pbkdf2Iterations > Internal.KeyFileFormat.MaxIterationsToOpen)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"RepositoryKeyOptions.Pbkdf2Iterations is {Pbkdf2Iterations:N0}; use {minimum:N0} to {Internal.KeyFileFormat.MaxIterationsToOpen:N0}.");
        }

        int minimumMemory = AllowWeakKdfForTesting ? Internal.KeyFileFormat.MinArgon2MemoryKiBToOpen : MinimumArgon2MemoryKiB;
        if (Argon2MemoryKiB < minimumMemory || Argon2MemoryKiB > Internal.KeyFileFormat.MaxArgon2MemoryKiBToOpen)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"RepositoryKeyOptions.Argon2MemoryKiB is {Argon2MemoryKiB:N0}; use {minimumMemory:N0} to {Internal.KeyFileFormat.MaxArgon2MemoryKiBToOpen:N0} KiB.");
        }

        int minimumPasses = AllowWeakKdfForTesting ? Internal.KeyFileFormat.MinArgon2PassesToOpen : MinimumArgon2Passes;
        if (Argon2Passes < minimumPasses || Argon2Passes > Internal.KeyFileFormat.MaxArgon2PassesToOpen)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"RepositoryKeyOptions.Argon2Passes is {Argon2Passes:N0}; use {minimumPasses} to {Internal.KeyFileFormat.MaxArgon2PassesToOpen}.");
        }

        if ((long)Argon2MemoryKiB * Argon2Passes > Internal.KeyFileFormat.MaxArgon2WorkToOpen)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"RepositoryKeyOptions.Argon2MemoryKiB times Argon2Passes is {(long)Argon2MemoryKiB * Argon2Passes:N0} KiB; readers accept at most {Internal.KeyFileFormat.MaxArgon2WorkToOpen:N0} (4 GiB of memory filled): lower one of them.");
        }

        if (SaltLength is < Internal.KeyFileFormat.MinSaltLength or > Internal.KeyFileFormat.MaxSaltLength)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"RepositoryKeyOptions.SaltLength is {SaltLength}; use {Internal.KeyFileFormat.MinSaltLength} to {Internal.KeyFileFormat.MaxSaltLength} bytes.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(Logger);
    }
}
