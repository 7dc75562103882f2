using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.Dropbox;

/// <summary>
/// Builds the Dropbox backend ("dropbox") from saved settings: "folder" (inside the app folder; default the app folder
/// itself), "api" and "content" (hosts; default Dropbox's), and "token_env", the variable the access token is read from
/// (default GHOSTIE_DROPBOX_ACCESS_TOKEN; also kept in a credential store as "dropbox.access_token"), the app ("app_key",
/// else GHOSTIE_DROPBOX_APP_KEY; "redirect_port"; "auth_url" and "token_url", default Dropbox's) and "refresh_token_env"
/// (default GHOSTIE_DROPBOX_REFRESH_TOKEN; store name "dropbox.refresh_token"). A refresh token, when one is found, wins:
/// access tokens are then refreshed before they expire (<see cref="DropboxAuthorization"/>); a refused refresh token is a
/// <see cref="BackendAuthorizationRevokedException"/>. <see cref="AuthorizeAsync"/> runs the installed-app authorization.
/// </summary>
public sealed class DropboxBackendFactory : IStorageBackendFactory<DropboxBackendOptions>, IAuthorizingBackendFactory
{
    /// <summary>The backend's name, "dropbox".</summary>
    public const string BackendName = "dropbox";

    /// <summary>The access token's name in a credential store.</summary>
    public const string TokenSecret = "dropbox.access_token";

    /// <summary>The refresh token's name in a credential store.</summary>
    public const string RefreshTokenSecret = "dropbox.refresh_token";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public string Describe(IReadOnlyDictionary<string, string> settings) =>
        BackendSettings.Optional(settings, "folder") is { } folder ? $"Dropbox app folder '{folder.Trim('/')}'" : "Dropbox app folder";

    /// <inheritdoc/>
    public Dictionary<string, string> GetSettings(DropboxBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var defaults = new DropboxBackendOptions();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.RootPath.Length > 0)
        {
            settings["folder"] = options.RootPath.TrimStart('/');
        }

        if (options.ApiBaseUri != defaults.ApiBaseUri)
        {
            settings["api"] = options.ApiBaseUri.ToString();
        }

        if (options.ContentBaseUri != defaults.ContentBaseUri)
        {
            settings["content"] = options.ContentBaseUri.ToString();
        }

        settings["token_env"] = DropboxBackendOptions.AccessTokenVariable;
        return settings;
    }

    /// <inheritdoc/>
    public Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, bool createStore = false,
        CancellationToken cancellationToken = default) =>
        CreateAsync(settings, secrets, NullLoggerFactory.Instance, createStore, cancellationToken);

    /// <inheritdoc/>
    public Task<IStorageBackend> CreateAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets, ILoggerFactory loggerFactory,
        bool createStore = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(secrets);
        cancellationToken.ThrowIfCancellationRequested();
        var options = new DropboxBackendOptions { Folder = BackendSettings.Optional(settings, "folder") ?? "", CreateFolderIfMissing = createStore };
        if (BackendSettings.Optional(settings, "api") is { } api)
        {
            options.ApiBaseUri = new Uri(api);
        }

        if (BackendSettings.Optional(settings, "content") is { } content)
        {
            options.ContentBaseUri = new Uri(content);
        }

        string variable = BackendSettings.Optional(settings, "token_env") ?? DropboxBackendOptions.AccessTokenVariable;
        var secret = new BackendSecret(TokenSecret, variable);
        if (secrets.GetSecret(RefreshSecret(settings)) is { } refresh)
        {
            options.AccessTokenProvider = DropboxAuthorization.CreateAccessTokenProvider(OAuthOptions(settings), refresh);
            return Task.FromResult<IStorageBackend>(new DropboxBackend(options, loggerFactory.CreateLogger<DropboxBackend>()));
        }

        options.AccessToken = secrets.GetSecret(secret);
        if (options.AccessToken is null && secrets.AskSecret(secret, $"Dropbox access token of your app with App folder access (or set {variable}):", echo: false) is { } typed)
        {
            options.AccessToken = typed;
            secrets.KeepSecret(secret, typed);
        }

        if (options.AccessToken is null)
        {
            throw new MissingBackendCredentialException("No Dropbox access token was found for the dropbox backend",
                $"{variable} to an access token of a Dropbox app with App folder access (scopes files.metadata.read, files.content.read, files.content.write)");
        }

        return Task.FromResult<IStorageBackend>(new DropboxBackend(options, loggerFactory.CreateLogger<DropboxBackend>()));
    }
    /// <inheritdoc/>
    public bool HasCredentialInEnvironment(IReadOnlyDictionary<string, string> settings, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string access = BackendSettings.Optional(settings, "token_env") ?? DropboxBackendOptions.AccessTokenVariable;
        return !string.IsNullOrEmpty(environment(access)) || !string.IsNullOrEmpty(environment(RefreshSecret(settings).EnvironmentVariable!));
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, string>> AuthorizeAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets,
        BackendAuthorizationPrompt prompt, CancellationToken cancellationToken = default)
    {
        string refresh = await DropboxAuthorization.AuthorizeAsync(OAuthOptions(settings), prompt, cancellationToken).ConfigureAwait(false);
        return new Dictionary<string, string>(StringComparer.Ordinal) { [RefreshTokenSecret] = refresh };
    }

    /// <summary>The app the settings describe: "app_key" (else <see cref="DropboxOAuthOptions.AppKeyVariable"/>),
    /// "redirect_port", "auth_url" and "token_url".</summary>
    /// <param name="settings">The backend's settings.</param>
    /// <exception cref="GhostieSyncException">"redirect_port" is not a number.</exception>
    public static DropboxOAuthOptions OAuthOptions(IReadOnlyDictionary<string, string> settings)
    {
        var oauth = new DropboxOAuthOptions
        {
            AppKey = BackendSettings.Optional(settings, "app_key") ?? Environment.GetEnvironmentVariable(DropboxOAuthOptions.AppKeyVariable),
        };
        if (BackendSettings.Optional(settings, "redirect_port") is { } port)
        {
            oauth.RedirectPort = int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value)
                ? value
                : throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"The dropbox setting redirect_port '{port}' is not a port number; use the port of the redirect URI registered for the app.");
        }

        if (BackendSettings.Optional(settings, "auth_url") is { } auth)
        {
            oauth.AuthorizationEndpoint = new Uri(auth);
        }

        if (BackendSettings.Optional(settings, "token_url") is { } tokenUrl)
        {
            oauth.TokenEndpoint = new Uri(tokenUrl);
        }

        return oauth;
    }

    private static BackendSecret RefreshSecret(IReadOnlyDictionary<string, string> settings) =>
        new(RefreshTokenSecret, BackendSettings.Optional(settings, "refresh_token_env") ?? DropboxOAuthOptions.RefreshTokenVariable);
}
