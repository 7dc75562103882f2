namespace Ghostie.Sync.Backends.Dropbox;

/// <summary>
/// Dropbox refused the access token (HTTP 401 invalid_access_token or expired_access_token) and no fresh token helped:
/// there was no token provider to refresh it, or the refreshed token was refused too. The app's authorization must be
/// renewed: run <c>ghostie sync setup --backend dropbox</c> again. Code <see cref="GhostieErrorCode.AccessDenied"/>.
/// </summary>
public sealed class DropboxCredentialException : GhostieSyncException
{
    /// <summary>The command that renews the authorization.</summary>
    public const string SetupCommand = "ghostie sync setup --backend dropbox";

    /// <summary>Creates the exception.</summary>
    /// <param name="storage">The backend's display name.</param>
    /// <param name="reason">Dropbox's reason tag (invalid_access_token or expired_access_token).</param>
    /// <param name="refreshed">Whether a refreshed token was tried and refused too.</param>
    public DropboxCredentialException(string storage, string reason, bool refreshed)
        : base(GhostieErrorCode.AccessDenied,
            $"Dropbox refused the access token for {storage} ({reason}{(refreshed ? ", also after a refresh" : "")}): the app's authorization was revoked or expired. "
            + $"Run '{SetupCommand}' again to authorize the app.")
    {
        Reason = reason;
        Refreshed = refreshed;
    }

    /// <summary>Dropbox's reason tag.</summary>
    public string Reason { get; }

    /// <summary>Whether a refreshed token was refused too.</summary>
    public bool Refreshed { get; }
}
