namespace Ghostie.Sync.Crypto;

/// <summary>
/// The key this device holds (its cached master key, or the one a passphrase opened) is no longer the repository's:
/// the repository was re-keyed (<see cref="RepositoryKeys.RekeyAsync"/>, for example to revoke a lost device), or its
/// key ring object was replaced. Nothing was opened. Unlock with the repository's current passphrase; a host that has
/// it falls back to it (and caches the new key). Code <see cref="GhostieErrorCode.WrongPassphrase"/>.
/// </summary>
public sealed class RepositoryRekeyedException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="location">Where the repository is (the backend's display name).</param>
    /// <param name="innerException">The failed opening of the key ring object.</param>
    public RepositoryRekeyedException(string location, Exception? innerException = null)
        : base(GhostieErrorCode.WrongPassphrase,
            $"The repository in {location} was re-keyed (a device was revoked), so the key this device holds no longer opens it (or its key ring object '{RepositoryKeys.KeyRingName}' was replaced). " +
            "Unlock with the repository's current passphrase: forget this device's cached key ('ghostie sync forget') and run the command again with the new passphrase. If this device was the one revoked, it can no longer read what is written from now on.",
            isTransient: false, innerException)
    {
    }
}
