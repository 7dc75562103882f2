using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.Dropbox;

/// <summary>
/// Authorizing this device for Dropbox as an installed app: the authorization code flow with PKCE (S256) and offline
/// access (token_access_type=offline), through the browser with the app's loopback redirect, or Dropbox's no-redirect
/// flow (the code is shown on Dropbox's page and pasted) when no browser is at hand; and an access token provider from a
/// refresh token for <see cref="DropboxBackendOptions.AccessTokenProvider"/>. See docs/backends/oauth.md.
/// </summary>
public static class DropboxAuthorization
{
    /// <summary>Runs the authorization for <see cref="DropboxOAuthOptions.Scopes"/> and returns the refresh token (a
    /// secret: keep it in an encrypted store, never log it).</summary>
    /// <param name="options">The app.</param>
    /// <param name="prompt">The person.</param>
    /// <param name="cancellationToken">Cancels the flow.</param>
    /// <exception cref="GhostieSyncException">Invalid options, no browser and nobody to paste, the person refused, the code
    /// was refused, or Dropbox returned no refresh token (see <see cref="IAuthorizingBackendFactory.AuthorizeAsync"/>).</exception>
    public static async Task<string> AuthorizeAsync(DropboxOAuthOptions options, BackendAuthorizationPrompt prompt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        using OAuthTokenClient client = Client(options);
        OAuthTokens tokens = await InstalledAppFlow.AuthorizeAsync(client, string.Join(' ', DropboxOAuthOptions.Scopes), prompt, options.RedirectPort, cancellationToken)
            .ConfigureAwait(false);
        return tokens.RefreshToken is { Length: > 0 } refresh
            ? refresh
            : throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                "Dropbox authorized the app but returned no refresh token (offline access), so this device could not sync after a few hours. Run the command again.");
    }

    /// <summary>An access token provider for <see cref="DropboxBackendOptions.AccessTokenProvider"/>: exchanges the refresh
    /// token for a short-lived access token, again before it expires (<see cref="DropboxOAuthOptions.RefreshMargin"/>) and
    /// when Dropbox refused one. A refused refresh token is a <see cref="BackendAuthorizationRevokedException"/>.</summary>
    /// <param name="options">The app (the one the refresh token was issued to).</param>
    /// <param name="refreshToken">The refresh token.</param>
    /// <exception cref="GhostieSyncException">Invalid options.</exception>
    public static Func<bool, CancellationToken, ValueTask<string>> CreateAccessTokenProvider(DropboxOAuthOptions options, string refreshToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(refreshToken);
        var token = new RefreshingAccessToken(Client(options), refreshToken.Trim(), options.TimeProvider, options.RefreshMargin);
        return token.GetAsync;
    }

    internal static OAuthTokenClient Client(DropboxOAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.GetValidationErrors() is { Count: > 0 } errors)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured, string.Join(" ", errors));
        }

        // token_access_type=offline: without it Dropbox returns only a short-lived access token and no refresh token.
        var provider = new OAuthProvider("Dropbox", DropboxBackendFactory.BackendName, options.AuthorizationEndpoint, options.TokenEndpoint,
            [new("token_access_type", "offline")], PasteNeedsRedirect: false);
        return new OAuthTokenClient(provider, options.AppKey!.Trim(), clientSecret: null, options.HttpMessageHandler);
    }
}
