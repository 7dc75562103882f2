namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>
/// The OAuth 2.0 client of an installed app that authorizes the Google Drive backend (Google's "Desktop app" client type):
/// its client id, its optional client secret, Google's endpoints, and when access tokens are refreshed. No client id is
/// shipped with Ghostie.Sync: create one in the Google Cloud console (APIs and services, Credentials, OAuth client id,
/// Desktop app) and give it here, in the settings ("client_id") or in <see cref="ClientIdVariable"/>. See docs/backends/oauth.md.
/// </summary>
public sealed class GoogleDriveOAuthOptions
{
    /// <summary>The environment variable the client id is read from when the settings carry none.</summary>
    public const string ClientIdVariable = "GHOSTIE_DRIVE_CLIENT_ID";

    /// <summary>The environment variable the optional client secret is read from (also kept in a credential store as
    /// <see cref="GoogleDriveBackendFactory.ClientSecretSecret"/>).</summary>
    public const string ClientSecretVariable = "GHOSTIE_DRIVE_CLIENT_SECRET";

    /// <summary>The environment variable a refresh token is read from, before the credential store.</summary>
    public const string RefreshTokenVariable = "GHOSTIE_DRIVE_REFRESH_TOKEN";

    /// <summary>The scope for a folder the user picks (files this app created or opened): https://www.googleapis.com/auth/drive.file.</summary>
    public const string FileScope = "https://www.googleapis.com/auth/drive.file";

    /// <summary>The OAuth client id (public: it names the app on Google's consent page). Required.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret of a Desktop app client, if it has one. Google documents it as not confidential for
    /// installed apps; it is still never logged, never in an exception message, and kept only in the encrypted device store.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Google's authorization endpoint (default https://accounts.google.com/o/oauth2/v2/auth).</summary>
    public Uri AuthorizationEndpoint { get; set; } = new("https://accounts.google.com/o/oauth2/v2/auth");

    /// <summary>Google's token endpoint (default https://oauth2.googleapis.com/token).</summary>
    public Uri TokenEndpoint { get; set; } = new("https://oauth2.googleapis.com/token");

    /// <summary>How long before an access token expires it is refreshed (default 5 minutes; Google's tokens live about an hour).</summary>
    public TimeSpan RefreshMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock refresh times are taken from (default the system clock; tests: a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The handler token requests go through (tests). Not disposed. Null uses a private handler.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>The narrowest scope for the storage: <see cref="GoogleDriveBackendOptions.AppDataScope"/> for the app data
    /// folder (no folder id), <see cref="FileScope"/> for a folder the user picked.</summary>
    /// <param name="folderId">The folder id, or null.</param>
    public static string ScopeFor(string? folderId) => folderId is null ? GoogleDriveBackendOptions.AppDataScope : FileScope;

    /// <summary>Every problem with these options (empty when valid). Never contains the client secret.</summary>
    public IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ClientId))
        {
            errors.Add($"No Google OAuth client id: give --client-id, or set {ClientIdVariable}. Ghostie ships none; create a \"Desktop app\" OAuth client in the Google Cloud console (docs/backends/oauth.md).");
        }
        else if (ClientId.Any(c => c <= ' ' || c > '~'))
        {
            errors.Add("The Google OAuth client id contains spaces or characters a client id never has; copy it again.");
        }

        foreach ((string name, Uri? uri) in new[] { ("AuthorizationEndpoint", AuthorizationEndpoint), ("TokenEndpoint", TokenEndpoint) })
        {
            if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
            {
                errors.Add($"GoogleDriveOAuthOptions.{name} must be an absolute https URL (plain http only on loopback, for a test double).");
            }
        }

        if (RefreshMargin < TimeSpan.Zero || RefreshMargin > TimeSpan.FromMinutes(30))
        {
            errors.Add("GoogleDriveOAuthOptions.RefreshMargin must be between 0 and 30 minutes.");
        }

        if (TimeProvider is null)
        {
            errors.Add("GoogleDriveOAuthOptions.TimeProvider must be set.");
        }

        return errors;
    }
}
