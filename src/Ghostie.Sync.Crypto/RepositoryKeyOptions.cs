using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Crypto;

/// <summary>Options for creating and unlocking repository keys.</summary>
public sealed class RepositoryKeyOptions
{
    /// <summary>The lowest PBKDF2-HMAC-SHA256 iteration count accepted for new key files (OWASP 2023: 600,000).</summary>
    public const int MinimumIterations = 600_000;

    /// <summary>PBKDF2-HMAC-SHA256 iterations for new key files. Default 600,000; at least <see cref="MinimumIterations"/>.
    /// Existing key files keep the count stored in them; raise it by changing the passphrase.</summary>
    public int Pbkdf2Iterations { get; set; } = MinimumIterations;

    /// <summary>Length of the random salt of new key files, in bytes. Default 32; 16 to 64.</summary>
    public int SaltLength { get; set; } = 32;

    /// <summary>The clock used for key file and epoch creation times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where key management events go. Never receives a passphrase, key or plaintext. Default: nowhere.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Lets tests create key files with as few as 1,000 iterations. Never set outside tests.</summary>
    internal bool AllowWeakKdfForTesting { get; set; }

    internal void Validate()
    {
        int minimum = AllowWeakKdfForTesting ? Internal.KeyFileFormat.MinIterationsToOpen : MinimumIterations;
        if (Pbkdf2Iterations < minimum || Pbkdf2Iterations > Internal.KeyFileFormat.MaxIterationsToOpen)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"RepositoryKeyOptions.Pbkdf2Iterations is {Pbkdf2Iterations:N0}; use {minimum:N0} to {Internal.KeyFileFormat.MaxIterationsToOpen:N0}.");
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
