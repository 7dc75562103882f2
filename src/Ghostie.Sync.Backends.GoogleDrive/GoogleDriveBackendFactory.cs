using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>
/// Builds the Google Drive backend ("drive") from saved settings: "folder" (a folder id; absent: the app data folder),
/// "api" (default https://www.googleapis.com/) and "token_env", the variable an access token is read from (default
/// GHOSTIE_DRIVE_ACCESS_TOKEN; store name "drive.access_token"). Until the OAuth setup flow stores a refresh token, the
/// token is a fixed access token (valid about an hour); a refused one is a <see cref="GoogleDriveCredentialException"/>.
/// </summary>
public sealed class GoogleDriveBackendFactory : IStorageBackendFactory<GoogleDriveBackendOptions>
{
    /// <summary>The backend's name, "drive".</summary>
    public const string BackendName = "drive";

    /// <summary>The access token's name in a credential store.</summary>
    public const string TokenSecret = "drive.access_token";

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
}
