namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>
/// Google refused the access token (HTTP 401), and a fresh one from <see cref="GoogleDriveBackendOptions.AccessTokenProvider"/>
/// was refused too (or the token is fixed and cannot be refreshed): the authorization was revoked, expired for good, or
/// belongs to another OAuth client. The remedy is to authorize again: <c>ghostie sync setup --backend drive</c>.
/// <see cref="GhostieErrorCode.AccessDenied"/>, not transient. The message never contains a token.
/// </summary>
public sealed class GoogleDriveCredentialException : GhostieSyncException
{
    /// <summary>The command that authorizes this device again.</summary>
    public const string SetupCommand = "ghostie sync setup --backend drive";

    /// <summary>Creates the exception.</summary>
    /// <param name="store">The storage, as <see cref="IStorageBackend.DisplayName"/> names it.</param>
    /// <param name="refreshed">Whether a refreshed token was refused too.</param>
    /// <param name="innerException">The failed request, if any.</param>
    public GoogleDriveCredentialException(string store, bool refreshed, Exception? innerException = null)
        : base(GhostieErrorCode.AccessDenied,
            $"{store} refused the access token (HTTP 401 Invalid Credentials){(refreshed ? ", and a refreshed token too" : "")}: the Google authorization was revoked or has expired. Run '{SetupCommand}' again to authorize this device.",
            isTransient: false, innerException)
    {
        Refreshed = refreshed;
    }

    /// <summary>Whether a refreshed token was refused too.</summary>
    public bool Refreshed { get; }
}
