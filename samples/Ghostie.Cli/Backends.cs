using Ghostie.Sync;
using Ghostie.Sync.Backends.AzureBlob;
using Ghostie.Sync.Backends.Dropbox;
using Ghostie.Sync.Backends.FileSystem;
using Ghostie.Sync.Backends.GitHubGist;
using Ghostie.Sync.Backends.GoogleDrive;
using Ghostie.Sync.Backends.Postgres;
using Ghostie.Sync.Backends.S3;
using Ghostie.Sync.Crypto;
using Microsoft.Extensions.Logging;

namespace Ghostie.Cli;

/// <summary>
/// The backends the CLI can use: turning <c>ghostie sync setup</c> options into the non-secret settings saved in
/// <c>sync/config.json</c>, and building the backend from them through each backend package's
/// <see cref="IStorageBackendFactory"/> (the same mapping every host uses). Credentials come from environment variables
/// (whose names the settings record), else from this device's encrypted credential store (<see cref="DeviceSecretStore"/>),
/// else from a prompt during setup (<see cref="CliSecretSource"/>). They are never written to config.json.
/// </summary>
internal static class Backends
{
    public const string Folder = FileSystemBackendFactory.BackendName;
    public const string S3 = S3BackendFactory.BackendName;
    public const string Azure = AzureBlobBackendFactory.BackendName;
    public const string Gist = GitHubGistBackendFactory.BackendName;
    public const string Postgres = PostgresBackendFactory.BackendName;
    public const string Drive = GoogleDriveBackendFactory.BackendName;
    public const string Dropbox = DropboxBackendFactory.BackendName;

    /// <summary>The variable the postgres backend reads its connection string from unless setup names another.</summary>
    public const string PostgresConnectionVariable = PostgresBackendFactory.ConnectionVariable;

    /// <summary>Every backend this version can build, by name.</summary>
    private static readonly StorageBackendFactories Factories = new(
        [new FileSystemBackendFactory(), new S3BackendFactory(), new AzureBlobBackendFactory(), new GitHubGistBackendFactory(), new PostgresBackendFactory(), new GoogleDriveBackendFactory(), new DropboxBackendFactory()]);

    /// <summary>The factory of a backend type, or null when this version has none.</summary>
    public static IStorageBackendFactory? FindFactory(string backend) => Factories.Find(backend);

    /// <summary>The backend types this version accepts.</summary>
    public static readonly string[] Available = [.. Factories.Names];

    /// <summary>Throws a usage error unless <paramref name="backend"/> is an available backend type.</summary>
    /// <param name="backend">The value of <c>--backend</c>.</param>
    public static void EnsureAvailable(string backend)
    {
        if (!Available.Contains(backend, StringComparer.Ordinal))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"The backend '{backend}' is not known. Use one of: {string.Join(", ", Available)}.");
        }
    }

    /// <summary>
    /// Whether <paramref name="backend"/> already holds a repository (any key file). Storage with objects of a
    /// repository but no key file (keys/ not delivered yet by a sync tool, or lost) is an error before any passphrase
    /// is asked for: setup never creates a repository over one.
    /// </summary>
    /// <exception cref="IncompleteRepositoryException">Heads, packs, epochs or other repository objects, but no key file.</exception>
    public static async Task<bool> HoldsRepositoryAsync(IStorageBackend backend, CancellationToken cancellationToken)
    {
        RepositoryContents contents = await RepositoryContents.ReadAsync(backend, cancellationToken).ConfigureAwait(false);
        if (contents.KeyFiles == 0 && !contents.IsEmpty)
        {
            throw new IncompleteRepositoryException(backend.DisplayName, contents);
        }

        return contents.KeyFiles > 0;
    }

    /// <summary>
    /// A repository folder that holds no object but already has folders of the repository layout (<c>keys/</c>,
    /// <c>h/</c>, ...) is being delivered by a file-sync tool, which creates folders before it copies files: creating a
    /// repository there would give the folder two repositories once the files arrive. Refused, nothing written.
    /// </summary>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.RepositoryNotInitialized"/> naming the folders.</exception>
    public static void RefuseRepositorySkeleton(string folder)
    {
        string[] found = [.. new[] { "keys", "epochs", "h", "p", "x", "xc", "v" }.Where(d => Directory.Exists(System.IO.Path.Combine(folder, d))).Select(d => d + "/")];
        if (found.Length > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.RepositoryNotInitialized,
                $"{folder} holds the folders of a repository ({string.Join(", ", found)}) but no objects in them yet: a file-sync tool (Syncthing, Dropbox, ...) creates folders before it copies files. " +
                "Nothing was created, written or deleted. Wait until your sync tool has delivered the repository, then run setup again; to create a new repository, choose an empty folder.");
        }
    }

    /// <summary>
    /// The non-secret settings for a new setup, checked for completeness, with the names of the environment
    /// variables credentials are read from.
    /// </summary>
    public static Dictionary<string, string> SettingsFromSetup(BackendSetupOptions o)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        void Set(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                settings[key] = value.Trim();
            }
        }

        if (!string.IsNullOrWhiteSpace(o.Endpoint))
        {
            if (!Uri.TryCreate(o.Endpoint.Trim(), UriKind.Absolute, out Uri? endpoint) || (endpoint.Scheme != Uri.UriSchemeHttps && endpoint.Scheme != Uri.UriSchemeHttp))
            {
                throw Usage($"--endpoint must be an absolute http:// or https:// URL, for example https://s3.eu-west-1.amazonaws.com.");
            }

            // A SAS URL or user:password@host pasted as the endpoint would put a credential into sync/config.json.
            if (endpoint.Query.Length > 1 || endpoint.UserInfo.Length > 0)
            {
                throw Usage("--endpoint must not carry credentials (a query string such as a SAS token, or user:password@). Give the bare service URL and put the credential in its environment variable (for a SAS: AZURE_STORAGE_SAS_TOKEN).");
            }
        }

        switch (o.Backend)
        {
            case Folder:
                if (string.IsNullOrWhiteSpace(o.Path))
                {
                    throw Usage("The folder backend needs --path <folder>: where the repository is (or is to be created).");
                }

                settings["path"] = Path.GetFullPath(o.Path);
                if (File.Exists(settings["path"]))
                {
                    throw Usage($"--path {settings["path"]} is a file, not a folder. Give the repository folder (it is created if missing).");
                }

                break;
            case S3:
                if (string.IsNullOrWhiteSpace(o.Bucket))
                {
                    throw Usage("The s3 backend needs --bucket <name> (and --endpoint <url> for an S3-compatible service such as MinIO, R2 or B2).");
                }

                Set("bucket", o.Bucket);
                Set("prefix", o.Prefix);
                Set("region", o.Region);
                Set("endpoint", o.Endpoint);
                if (o.PathStyle)
                {
                    settings["path_style"] = "true";
                }

                Set("profile", o.Profile);
                settings["access_key_env"] = o.AccessKeyEnv ?? S3BackendFactory.AccessKeyVariable;
                settings["secret_key_env"] = o.SecretEnv ?? S3BackendFactory.SecretKeyVariable;
                break;
            case Azure:
                if (string.IsNullOrWhiteSpace(o.Container))
                {
                    throw Usage("The azure backend needs --container <name>, and --account <name> or --endpoint <url>.");
                }

                if (string.IsNullOrWhiteSpace(o.Account) && string.IsNullOrWhiteSpace(o.Endpoint))
                {
                    throw Usage("The azure backend needs --account <storage account> (or --endpoint <url>, for example Azurite's http://127.0.0.1:10000/devstoreaccount1).");
                }

                Set("container", o.Container);
                Set("account", o.Account);
                Set("endpoint", o.Endpoint);
                Set("prefix", o.Prefix);
                settings["key_env"] = o.SecretEnv ?? AzureBlobBackendOptions.AccountKeyVariable;
                settings["sas_env"] = AzureBlobBackendOptions.SasTokenVariable;
                break;
            case Gist:
                Set("api", o.Endpoint);
                settings["tag"] = string.IsNullOrWhiteSpace(o.Tag) ? "default" : o.Tag.Trim();
                settings["token_env"] = o.SecretEnv ?? GitHubGistBackendOptions.TokenVariable;
                break;
            case Postgres:
                // The connection string holds the password: only the name of its variable is saved, never the string.
                string repository = string.IsNullOrWhiteSpace(o.Repository) ? "default" : o.Repository.Trim();
                if (!PostgresBackendOptions.IsRepositoryName(repository))
                {
                    throw Usage($"--repository '{repository}' is not a repository name: use 1 to 63 characters of a-z, 0-9, '-' and '_'.");
                }

                settings["repository"] = repository;
                settings["connection_env"] = o.SecretEnv ?? PostgresConnectionVariable;
                break;
            case Drive:
            case Dropbox:
                OAuthSettings(o, settings, Set);
                break;
            default:
                EnsureAvailable(o.Backend);
                break;
        }

        return settings;
    }

    /// <summary>The settings of the OAuth backends (drive, dropbox): the folder, the API hosts, the client id (saved: it is
    /// public), the OAuth endpoints when not the provider's, and the variables tokens are read from.</summary>
    private static void OAuthSettings(BackendSetupOptions o, Dictionary<string, string> settings, Action<string, string?> set)
    {
        bool drive = o.Backend == Drive;
        foreach ((string option, string? value) in new[] { ("--auth-url", o.AuthUrl), ("--token-url", o.TokenUrl), ("--content-endpoint", o.ContentEndpoint) })
        {
            if (value is not null && (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out Uri? uri) || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
                || uri.UserInfo.Length > 0))
            {
                throw Usage($"{option} must be an absolute https:// URL (plain http only on 127.0.0.1, for a test double), without credentials.");
            }
        }

        if (o.Folder is { } folder)
        {
            if (drive && !System.Text.RegularExpressions.Regex.IsMatch(folder.Trim(), "^[A-Za-z0-9_-]{1,200}$"))
            {
                throw Usage($"--folder '{folder}' is not a Drive folder id: give the id from the folder's address, https://drive.google.com/drive/folders/ID.");
            }

            set("folder", drive ? folder : folder.Trim().Trim('/'));
        }

        set("api", o.Endpoint);
        set(drive ? "client_id" : "app_key", o.ClientId ?? Environment.GetEnvironmentVariable(drive ? GoogleDriveOAuthOptions.ClientIdVariable : DropboxOAuthOptions.AppKeyVariable));
        set("auth_url", o.AuthUrl);
        set("token_url", o.TokenUrl);
        if (drive)
        {
            settings["token_env"] = GoogleDriveBackendOptions.AccessTokenVariable;
            settings["refresh_token_env"] = GoogleDriveOAuthOptions.RefreshTokenVariable;
            return;
        }

        set("content", o.ContentEndpoint);
        if (o.RedirectPort is { } port)
        {
            if (port is < 1024 or > 65535)
            {
                throw Usage($"--redirect-port {port} is not a port for the loopback redirect; use 1024 to 65535, the port of the redirect URI registered for the Dropbox app.");
            }

            settings["redirect_port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        settings["token_env"] = DropboxBackendOptions.AccessTokenVariable;
        settings["refresh_token_env"] = DropboxOAuthOptions.RefreshTokenVariable;
    }

    /// <summary>
    /// Builds the backend a configuration describes, through its package's <see cref="IStorageBackendFactory"/>. During
    /// setup (<paramref name="prompted"/> not null) missing credentials are asked for on the terminal and collected for
    /// the device credential store; later they must be found.
    /// </summary>
    /// <param name="backend">The backend type.</param>
    /// <param name="settings">Its non-secret settings.</param>
    /// <param name="home">The Ghostie home.</param>
    /// <param name="prompted">During setup: receives credentials typed at a prompt (name in the device store -> value),
    /// to be stored with <see cref="SavePrompted"/> only once setup succeeded, so a mistyped credential is never kept.
    /// Null outside setup: nothing is asked.</param>
    /// <param name="createStore">Create the bucket or container if missing.</param>
    /// <param name="loggers">Where the backend's log events go (stderr with --verbose).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public static async Task<IStorageBackend> CreateAsync(string backend, IReadOnlyDictionary<string, string> settings, GhostieHome home,
        Dictionary<string, string>? prompted, bool createStore, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        IStorageBackendFactory factory = Factories.Find(backend)
            ?? throw new GhostieSyncException(GhostieErrorCode.UnsupportedFormat,
                $"{home.ConfigPath} uses the backend '{backend}', which this version of ghostie does not support (available: {string.Join(", ", Available)}). Upgrade ghostie, or run 'ghostie sync setup' again.");
        try
        {
            return await factory.CreateAsync(settings, new CliSecretSource(new DeviceSecretStore(home.Root), prompted), loggers, createStore, cancellationToken).ConfigureAwait(false);
        }
        catch (MissingBackendCredentialException e)
        {
            throw MissingCredential(setup: prompted is not null, e.What, e.Variables, e);
        }
    }

    /// <summary>The error for a backend credential found nowhere: not in its variable, not stored on this device, not typed.</summary>
    private static GhostieSyncException MissingCredential(bool setup, string what, string variables, Exception? inner) =>
        new(GhostieErrorCode.NotConfigured, setup
            ? $"{what}: set {variables}, or run 'ghostie sync setup' on a terminal to be asked (a typed credential is kept encrypted on this device)."
            : $"{what}: set {variables}, or run 'ghostie sync setup' again on a terminal to store it encrypted on this device.",
            innerException: inner);

    /// <summary>A description of the storage for messages when no backend could be made yet (a bucket or container to be created).</summary>
    public static string Describe(string backend, IReadOnlyDictionary<string, string> settings) =>
        Factories.Find(backend)?.Describe(settings) ?? settings.GetValueOrDefault("path") ?? backend;

    /// <summary>Keeps the credentials typed during a setup that succeeded, encrypted on this device.</summary>
    /// <param name="home">The Ghostie home.</param>
    /// <param name="prompted">What <see cref="CreateAsync"/> collected.</param>
    public static void SavePrompted(GhostieHome home, IReadOnlyDictionary<string, string> prompted)
    {
        if (prompted.Count > 0)
        {
            new DeviceSecretStore(home.Root).SetMany(prompted);
        }
    }

    /// <summary>Forgets every backend credential stored on this device.</summary>
    public static bool ForgetCredentials(GhostieHome home) => new DeviceSecretStore(home.Root).Forget();

    /// <summary>
    /// Opens the sync manager of the configured home: with this device's cached key, or, when none is cached, with the
    /// passphrase from <c>GHOSTIE_PASSPHRASE</c> or a prompt.
    /// </summary>
    /// <exception cref="GhostieSyncException">Not set up (<see cref="GhostieErrorCode.NotConfigured"/>), the repository folder is
    /// missing (<see cref="GhostieErrorCode.BackendUnavailable"/>), or any error of <see cref="MemorySyncManager.OpenAsync"/>.</exception>
    public static async Task<MemorySyncManager> OpenAsync(CliContext context, CancellationToken cancellationToken) =>
        (await OpenWithBackendAsync(context, cancellationToken).ConfigureAwait(false)).Manager;

    /// <summary>As <see cref="OpenAsync"/>, and also returns the repository's backend (for features that store their own objects, such as handoff).</summary>
    public static async Task<(MemorySyncManager Manager, IStorageBackend Backend)> OpenWithBackendAsync(CliContext context, CancellationToken cancellationToken)
    {
        GhostieHome home = context.Home;
        SyncConfiguration configuration = ReadConfiguration(home);
        if (configuration.Backend == Folder)
        {
            string path = Required(configuration.Settings, "path", home);
            // FileSystemBackend creates a missing folder; for a configured repository a missing folder means an unmounted
            // disk or a moved share, and creating an empty one in its place would only hide that.
            if (!Directory.Exists(path))
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"The repository folder {path} does not exist. Mount or reconnect it, or run 'ghostie sync setup' with its new --path.", isTransient: true);
            }
        }

        IStorageBackend storage = await CreateAsync(configuration.Backend, configuration.Settings, home, prompted: null, createStore: false, context.Loggers, cancellationToken)
            .ConfigureAwait(false);
        context.Own(storage);  // disposed when the command ends, also when opening fails below
        string? passphrase = DeviceKeyCache.ForHome(home.Root).Exists
            ? Passphrase.FromEnvironment()
            : Passphrase.Require(newRepository: false, storage.DisplayName);
        MemorySyncManager manager = await MemorySyncManager.OpenAsync(storage, new GhostieSyncOptions { Home = home.Root }, passphrase,
            context.KeyOptions(), context.Loggers.CreateLogger<MemorySyncManager>(), cancellationToken).ConfigureAwait(false);
        WarnSkippedKeyFiles(context, manager.Keys.SkippedKeyFiles);
        await Commands.HandoffCommands.SendQueuedAsync(context, manager, storage, cancellationToken).ConfigureAwait(false); // the repository is reachable: what was queued offline goes now
        return (manager, storage);
    }

    /// <summary>
    /// Reports, on stderr, each file at a key-file name that could not be read as a key file and was skipped (docs/format.md,
    /// "Key files"): a damaged copy, a half-delivered file, or junk; the repository still opens with the others.
    /// </summary>
    public static void WarnSkippedKeyFiles(CliContext context, IReadOnlyList<SkippedKeyFile> skipped)
    {
        foreach (SkippedKeyFile file in skipped)
        {
            context.Warn($"{file.ObjectName} is not a readable key file ({file.Reason}); it was skipped. If it is a damaged copy, restore it; if it is not yours, remove it with 'ghostie key remove {file.Id}'.");
        }
    }

    /// <summary>The home's <c>sync/config.json</c>, refused when a newer version wrote it (its format is above this version's).</summary>
    /// <exception cref="GhostieSyncException">Not set up or unreadable (<see cref="GhostieErrorCode.NotConfigured"/>), or newer
    /// (<see cref="GhostieErrorCode.UnsupportedFormat"/>).</exception>
    public static SyncConfiguration ReadConfiguration(GhostieHome home)
    {
        SyncConfiguration configuration = home.ReadConfiguration();
        int supported = new SyncConfiguration().Format;
        if (configuration.Format > supported)
        {
            throw new GhostieSyncException(GhostieErrorCode.UnsupportedFormat,
                $"{home.ConfigPath} has format {configuration.Format}, written by a newer version of ghostie (this one reads format {supported}). Upgrade ghostie.");
        }

        return configuration;
    }

    private static string Required(IReadOnlyDictionary<string, string> settings, string key, GhostieHome home) =>
        settings.TryGetValue(key, out string? value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"{home.ConfigPath} does not name the backend's '{key}' setting. Run 'ghostie sync setup' again.");

    private static GhostieSyncException Usage(string message) => new(GhostieErrorCode.InvalidArgument, message);
}

/// <summary>The <c>ghostie sync setup</c> options that describe the backend.</summary>
internal sealed record BackendSetupOptions(
    string Backend, string? Path, string? Bucket, string? Container, string? Account, string? Endpoint, string? Prefix,
    string? Region, bool PathStyle, string? Profile, string? Tag, string? AccessKeyEnv, string? SecretEnv)
{
    /// <summary>postgres: the repository's name in the database (default "default").</summary>
    public string? Repository { get; init; }

    /// <summary>drive, dropbox: the OAuth client id (Google) or app key (Dropbox).</summary>
    public string? ClientId { get; init; }

    /// <summary>drive: a folder id (scope drive.file); dropbox: a folder inside the app folder.</summary>
    public string? Folder { get; init; }

    /// <summary>drive, dropbox: the authorization endpoint, when not the provider's (a test double).</summary>
    public string? AuthUrl { get; init; }

    /// <summary>drive, dropbox: the token endpoint, when not the provider's (a test double).</summary>
    public string? TokenUrl { get; init; }

    /// <summary>dropbox: the content host, when not Dropbox's.</summary>
    public string? ContentEndpoint { get; init; }

    /// <summary>dropbox: the port of the registered loopback redirect URI.</summary>
    public int? RedirectPort { get; init; }
}

/// <summary>
/// Credentials for the backend factories, as the CLI finds them: the environment variable the saved settings name, then
/// (during setup or a rotation) what was typed or authorized earlier in this command, then this device's encrypted
/// credential store, then a prompt on the terminal. A typed credential is collected for the store, which keeps it only
/// once the command succeeded; it comes before the stored one, so a new authorization replaces a revoked one.
/// </summary>
internal sealed class CliSecretSource(DeviceSecretStore store, Dictionary<string, string>? prompted) : IBackendSecretSource
{
    public string? GetSecret(BackendSecret secret) =>
        (secret.EnvironmentVariable is { Length: > 0 } variable && Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null)
        ?? prompted?.GetValueOrDefault(secret.Name)
        ?? store.TryGet(secret.Name);

    public string? AskSecret(BackendSecret secret, string prompt, bool echo) =>
        prompted is not null && !Console.IsInputRedirected ? Prompt.Secret(prompt, echo) : null;

    public void KeepSecret(BackendSecret secret, string value)
    {
        if (prompted is not null)
        {
            prompted[secret.Name] = value;
        }
    }
}
