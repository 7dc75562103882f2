using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>
/// Authorizing this device for Google Drive as an installed app: the authorization code flow with PKCE (S256) and a
/// loopback redirect, or the paste flow when no browser is at hand, returning a refresh token; and an access token
/// provider from a refresh token for <see cref="GoogleDriveBackendOptions.AccessTokenProvider"/>. See docs/backends/oauth.md.
/// </summary>
public static class GoogleDriveAuthorization
{
    /// <summary>Runs the authorization for <paramref name="scope"/> and returns the refresh token (a secret: keep it in an
    /// encrypted store, never log it).</summary>
    /// <param name="options">The OAuth client.</param>
    /// <param name="scope">The scope, normally <see cref="GoogleDriveOAuthOptions.ScopeFor"/>.</param>
    /// <param name="prompt">The person.</param>
    /// <param name="cancellationToken">Cancels the flow.</param>
    /// <exception cref="GhostieSyncException">Invalid options, no browser and nobody to paste, the person refused, the code
    /// was refused, or Google returned no refresh token (see <see cref="IAuthorizingBackendFactory.AuthorizeAsync"/>).</exception>
    public static async Task<string> AuthorizeAsync(GoogleDriveOAuthOptions options, string scope, BackendAuthorizationPrompt prompt,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        using OAuthTokenClient client = Client(options);
        OAuthTokens tokens = await InstalledAppFlow.AuthorizeAsync(client, scope, prompt, redirectPort: 0, cancellationToken).ConfigureAwait(false);
        return tokens.RefreshToken is { Length: > 0 } refresh
            ? refresh
            : throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                "Google authorized the app but returned no refresh token, so this device could not sync after an hour. Check that the client id is a \"Desktop app\" client, then run the command again.");
    }

    /// <summary>An access token provider for <see cref="GoogleDriveBackendOptions.AccessTokenProvider"/>: exchanges the
    /// refresh token for an access token, again before it expires (<see cref="GoogleDriveOAuthOptions.RefreshMargin"/>) and
    /// when Drive refused one. A refused refresh token is a <see cref="BackendAuthorizationRevokedException"/>.</summary>
    /// <param name="options">The OAuth client (the one the refresh token was issued to).</param>
    /// <param name="refreshToken">The refresh token.</param>
    /// <exception cref="GhostieSyncException">Invalid options.</exception>
    public static Func<bool, CancellationToken, ValueTask<string>> CreateAccessTokenProvider(GoogleDriveOAuthOptions options, string refreshToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(refreshToken);
        var token = new RefreshingAccessToken(Client(options), refreshToken.Trim(), options.TimeProvider, options.RefreshMargin);
        return token.GetAsync;
    }

    internal static OAuthTokenClient Client(GoogleDriveOAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.GetValidationErrors() is { Count: > 0 } errors)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured, string.Join(" ", errors));
        }

        var provider = new OAuthProvider("Google", GoogleDriveBackendFactory.BackendName, options.AuthorizationEndpoint, options.TokenEndpoint, [], PasteNeedsRedirect: true);
        return new OAuthTokenClient(provider, options.ClientId!.Trim(), options.ClientSecret, options.HttpMessageHandler);
    }
}
