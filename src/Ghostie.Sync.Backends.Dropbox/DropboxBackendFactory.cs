using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.Dropbox;

/// <summary>
/// Builds the Dropbox backend ("dropbox") from saved settings: "folder" (inside the app folder; default the app folder
/// itself), "api" and "content" (hosts; default Dropbox's), and "token_env", the variable the access token is read from
/// (default GHOSTIE_DROPBOX_ACCESS_TOKEN; also kept in a credential store as "dropbox.access_token"). Refresh tokens are
/// not handled here yet: the OAuth setup flow supplies a <see cref="DropboxBackendOptions.AccessTokenProvider"/>.
/// </summary>
public sealed class DropboxBackendFactory : IStorageBackendFactory<DropboxBackendOptions>
{
    /// <summary>The backend's name, "dropbox".</summary>
    public const string BackendName = "dropbox";

    /// <summary>The access token's name in a credential store.</summary>
    public const string TokenSecret = "dropbox.access_token";

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
}
