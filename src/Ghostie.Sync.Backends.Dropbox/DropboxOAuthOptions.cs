namespace Ghostie.Sync.Backends.Dropbox;

/// <summary>
/// The Dropbox app that authorizes the backend, as an installed app with PKCE (no app secret): its app key, the loopback
/// redirect registered for it, Dropbox's endpoints, and when access tokens are refreshed. No app key is shipped with
/// Ghostie.Sync: create a Dropbox app with "Scoped access" and "App folder" access in the App Console, tick the
/// <see cref="Scopes"/> on its Permissions tab, register <c>http://127.0.0.1:PORT/</c> (<see cref="DefaultRedirectPort"/>)
/// as a redirect URI, and give its app key here, in the settings ("app_key") or in <see cref="AppKeyVariable"/>.
/// See docs/backends/oauth.md.
/// </summary>
public sealed class DropboxOAuthOptions
{
    /// <summary>The environment variable the app key is read from when the settings carry none.</summary>
    public const string AppKeyVariable = "GHOSTIE_DROPBOX_APP_KEY";

    /// <summary>The environment variable a refresh token is read from, before the credential store.</summary>
    public const string RefreshTokenVariable = "GHOSTIE_DROPBOX_REFRESH_TOKEN";

    /// <summary>The loopback port of the redirect URI unless the settings name another ("redirect_port"): Dropbox matches
    /// a redirect URI exactly against the app's registered ones, port included, so the port cannot be random.</summary>
    public const int DefaultRedirectPort = 53682;

    /// <summary>The scopes the app-folder backend needs, per Dropbox's documentation of the endpoints it calls: list_folder
    /// and get_metadata (files.metadata.read), download (files.content.read), upload, upload sessions and delete_v2
    /// (files.content.write).</summary>
    public static IReadOnlyList<string> Scopes { get; } = ["files.metadata.read", "files.content.read", "files.content.write"];

    /// <summary>The app key (public: it names the app on Dropbox's consent page). Required.</summary>
    public string? AppKey { get; set; }

    /// <summary>The loopback port of the browser flow's redirect URI (default <see cref="DefaultRedirectPort"/>; 1024 to 65535).</summary>
    public int RedirectPort { get; set; } = DefaultRedirectPort;

    /// <summary>Dropbox's authorization page (default https://www.dropbox.com/oauth2/authorize).</summary>
    public Uri AuthorizationEndpoint { get; set; } = new("https://www.dropbox.com/oauth2/authorize");

    /// <summary>Dropbox's token endpoint (default https://api.dropboxapi.com/oauth2/token).</summary>
    public Uri TokenEndpoint { get; set; } = new("https://api.dropboxapi.com/oauth2/token");

    /// <summary>How long before an access token expires it is refreshed (default 5 minutes; Dropbox's short-lived tokens
    /// live about four hours).</summary>
    public TimeSpan RefreshMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock refresh times are taken from (default the system clock; tests: a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The handler token requests go through (tests). Not disposed. Null uses a private handler.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(AppKey))
        {
            errors.Add($"No Dropbox app key: give --client-id, or set {AppKeyVariable}. Ghostie ships none; create a Dropbox app with App folder access in the App Console (docs/backends/oauth.md).");
        }
        else if (AppKey.Any(c => c <= ' ' || c > '~'))
        {
            errors.Add("The Dropbox app key contains spaces or characters an app key never has; copy it again.");
        }

        if (RedirectPort is < 1024 or > 65535)
        {
            errors.Add($"DropboxOAuthOptions.RedirectPort is {RedirectPort}; use 1024 to 65535, the port of the redirect URI registered for the app.");
        }

        foreach ((string name, Uri? uri) in new[] { ("AuthorizationEndpoint", AuthorizationEndpoint), ("TokenEndpoint", TokenEndpoint) })
        {
            if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
            {
                errors.Add($"DropboxOAuthOptions.{name} must be an absolute https URL (plain http only on loopback, for a test double).");
            }
        }

        if (RefreshMargin < TimeSpan.Zero || RefreshMargin > TimeSpan.FromMinutes(30))
        {
            errors.Add("DropboxOAuthOptions.RefreshMargin must be between 0 and 30 minutes.");
        }

        if (TimeProvider is null)
        {
            errors.Add("DropboxOAuthOptions.TimeProvider must be set.");
        }

        return errors;
    }
}
