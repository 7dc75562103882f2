using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>
/// Builds the Google Drive backend ("drive") from saved settings: "folder" (a folder id; absent: the app data folder),
/// "api" (default https://www.googleapis.com/), the OAuth client ("client_id", else GHOSTIE_DRIVE_CLIENT_ID; "auth_url" and
/// "token_url", default Google's), "refresh_token_env" (default GHOSTIE_DRIVE_REFRESH_TOKEN; store name
/// "drive.refresh_token") and "token_env", the variable a fixed access token is read from (default
/// GHOSTIE_DRIVE_ACCESS_TOKEN; store name "drive.access_token"). A refresh token, when one is found, wins: access tokens
/// are then refreshed before they expire (<see cref="GoogleDriveAuthorization"/>); a refused refresh token is a
/// <see cref="BackendAuthorizationRevokedException"/>. A fixed access token lasts about an hour; a refused one is a
/// <see cref="GoogleDriveCredentialException"/>. <see cref="AuthorizeAsync"/> runs the installed-app authorization.
/// </summary>
public sealed class GoogleDriveBackendFactory : IStorageBackendFactory<GoogleDriveBackendOptions>, IAuthorizingBackendFactory
{
    /// <summary>The backend's name, "drive".</summary>
    public const string BackendName = "drive";

    /// <summary>The access token's name in a credential store.</summary>
    public const string TokenSecret = "drive.access_token";

    /// <summary>The refresh token's name in a credential store.</summary>
    public const string RefreshTokenSecret = "drive.refresh_token";

    /// <summary>The optional client secret's name in a credential store.</summary>
    public const string ClientSecretSecret = "drive.client_secret";

    /// <inheritdoc/>
    public string Name => BackendName;

    /// <inheritdoc/>
    public string Describe(IReadOnlyDictionary<string, string> settings) =>
        BackendSettings.Optional(settings, "folder") is { } folder ? $"the Google Drive folder '{folder}'" : "the Google Drive app data folder";

    /// <inheritdoc/>
    public Dictionary<string, string> GetSettings(GoogleDriveBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.ApiBaseUri != new GoogleDriveBackendOptions().ApiBaseUri)
        {
            settings["api"] = options.ApiBaseUri.ToString();
        }

        if (options.FolderId is not null)
        {
            settings["folder"] = options.FolderId;
        }

        settings["token_env"] = GoogleDriveBackendOptions.AccessTokenVariable;
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
        ArgumentNullException.ThrowIfNull(secrets);
        cancellationToken.ThrowIfCancellationRequested();
        var options = new GoogleDriveBackendOptions { FolderId = BackendSettings.Optional(settings, "folder") };
        if (BackendSettings.Optional(settings, "api") is { } api)
        {
            options.ApiBaseUri = new Uri(api);
        }

        string variable = BackendSettings.Optional(settings, "token_env") ?? GoogleDriveBackendOptions.AccessTokenVariable;
        var token = new BackendSecret(TokenSecret, variable);
        if (secrets.GetSecret(RefreshSecret(settings)) is { } refresh)
        {
            options.AccessTokenProvider = GoogleDriveAuthorization.CreateAccessTokenProvider(OAuthOptions(settings, secrets), refresh);
            return Task.FromResult<IStorageBackend>(new GoogleDriveBackend(options, loggerFactory.CreateLogger<GoogleDriveBackend>()));
        }

        options.AccessToken = secrets.GetSecret(token);
        if (options.AccessToken is null && secrets.AskSecret(token, $"Google OAuth access token with the drive.appdata scope (or set {variable}):", echo: false) is { } typed)
        {
            options.AccessToken = typed;
            secrets.KeepSecret(token, typed);
        }

        if (options.AccessToken is null)
        {
            throw new MissingBackendCredentialException("No Google access token was found for the drive backend",
                $"{variable} to an OAuth access token with the drive.appdata scope, or run '{GoogleDriveCredentialException.SetupCommand}'");
        }

        return Task.FromResult<IStorageBackend>(new GoogleDriveBackend(options, loggerFactory.CreateLogger<GoogleDriveBackend>()));
    }
    /// <inheritdoc/>
    public bool HasCredentialInEnvironment(IReadOnlyDictionary<string, string> settings, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string access = BackendSettings.Optional(settings, "token_env") ?? GoogleDriveBackendOptions.AccessTokenVariable;
        return !string.IsNullOrEmpty(environment(access)) || !string.IsNullOrEmpty(environment(RefreshSecret(settings).EnvironmentVariable!));
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, string>> AuthorizeAsync(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets,
        BackendAuthorizationPrompt prompt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        GoogleDriveOAuthOptions oauth = OAuthOptions(settings, secrets);
        string refresh = await GoogleDriveAuthorization.AuthorizeAsync(oauth, GoogleDriveOAuthOptions.ScopeFor(BackendSettings.Optional(settings, "folder")), prompt,
            cancellationToken).ConfigureAwait(false);
        var keep = new Dictionary<string, string>(StringComparer.Ordinal) { [RefreshTokenSecret] = refresh };
        if (oauth.ClientSecret is { Length: > 0 } clientSecret)
        {
            keep[ClientSecretSecret] = clientSecret;
        }

        return keep;
    }

    /// <summary>The OAuth client the settings describe: "client_id" (else <see cref="GoogleDriveOAuthOptions.ClientIdVariable"/>),
    /// "auth_url", "token_url", and the client secret from <see cref="GoogleDriveOAuthOptions.ClientSecretVariable"/> or the store.</summary>
    /// <param name="settings">The backend's settings.</param>
    /// <param name="secrets">Where the client secret is read from.</param>
    public static GoogleDriveOAuthOptions OAuthOptions(IReadOnlyDictionary<string, string> settings, IBackendSecretSource secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var oauth = new GoogleDriveOAuthOptions
        {
            ClientId = BackendSettings.Optional(settings, "client_id") ?? Environment.GetEnvironmentVariable(GoogleDriveOAuthOptions.ClientIdVariable),
            ClientSecret = secrets.GetSecret(new BackendSecret(ClientSecretSecret, GoogleDriveOAuthOptions.ClientSecretVariable)),
        };
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
        new(RefreshTokenSecret, BackendSettings.Optional(settings, "refresh_token_env") ?? GoogleDriveOAuthOptions.RefreshTokenVariable);
}
