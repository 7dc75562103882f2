namespace Ghostie.Sync.Crypto;

/// <summary>One key file of a repository: one passphrase (or recovery key) that unlocks the master key.</summary>
/// <param name="Id">The key file's id (16 hex digits), as given to remove or change calls.</param>
/// <param name="ObjectName">Its storage name (<c>keys/&lt;id&gt;</c>).</param>
/// <param name="Label">The label given when it was added (for example "primary" or "printed recovery key").</param>
/// <param name="CreatedAt">When it was written.</param>
/// <param name="Iterations">Its PBKDF2-HMAC-SHA256 iteration count, or its Argon2id passes (t) when <see cref="Kdf"/> is Argon2id.</param>
/// <param name="IsCurrent">Whether this session was unlocked with it.</param>
public sealed record KeyFileInfo(string Id, string ObjectName, string Label, DateTimeOffset CreatedAt, int Iterations, bool IsCurrent)
{
    /// <summary>Its key derivation function. Default (for a record made without it) PBKDF2-HMAC-SHA256.</summary>
    public KeyDerivationFunction Kdf { get; init; } = KeyDerivationFunction.Pbkdf2HmacSha256;

    /// <summary>Its Argon2id memory m in KiB; 0 for PBKDF2.</summary>
    public int MemoryKiB { get; init; }

    /// <summary>Its Argon2id parallelism p (always 1); 0 for PBKDF2.</summary>
    public int Parallelism { get; init; }

    /// <summary>Its parameters in one line, for people: "Argon2id m=65,536 KiB t=10 p=1" or "PBKDF2-HMAC-SHA256 600,000 iterations".</summary>
    public string KdfDescription => Kdf == KeyDerivationFunction.Argon2id
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Argon2id m={MemoryKiB:N0} KiB t={Iterations} p={Parallelism}")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"PBKDF2-HMAC-SHA256 {Iterations:N0} iterations");
}

/// <summary>Progress of <see cref="RepositoryKeys.ReencryptAsync"/>.</summary>
/// <param name="Processed">Objects looked at so far.</param>
/// <param name="Total">Objects to look at.</param>
/// <param name="Reencrypted">Objects rewritten under the current epoch so far.</param>
/// <param name="CurrentObject">The object just processed.</param>
public readonly record struct ReencryptionProgress(int Processed, int Total, int Reencrypted, string CurrentObject);

/// <summary>The outcome of <see cref="RepositoryKeys.ReencryptAsync"/>.</summary>
/// <param name="Reencrypted">Objects rewritten under the target epoch.</param>
/// <param name="AlreadyCurrent">Objects already under the target epoch (left alone; this is what makes the operation resumable).</param>
/// <param name="Missing">Objects named but not found in storage.</param>
/// <param name="TargetEpoch">The epoch objects were rewritten under.</param>
public sealed record ReencryptionResult(int Reencrypted, int AlreadyCurrent, int Missing, uint TargetEpoch);

/// <summary>
/// A file at a key-file name (<c>keys/&lt;16 hex&gt;</c>) that could not be read as a key file (damaged, not a key
/// file at all, or of a newer format): it was skipped, and another key file opened the repository. Report it so
/// its owner can remove it (<see cref="RepositoryKeys.RemoveKeyFileAsync"/>) or re-add their passphrase.
/// </summary>
/// <param name="Id">The file's key file id (the 16 hex digits of its name).</param>
/// <param name="ObjectName">Its storage name.</param>
/// <param name="Reason">Why it could not be read (no secret is ever part of it).</param>
public sealed record SkippedKeyFile(string Id, string ObjectName, string Reason);
