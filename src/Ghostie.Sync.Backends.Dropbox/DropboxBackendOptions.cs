namespace Ghostie.Sync.Backends.Dropbox;

/// <summary>Options of the Dropbox backend. The repository lives in the app folder of a Dropbox app with the "App folder"
/// access type (Apps/&lt;app name&gt;/), optionally in a subfolder of it. See docs/backends/dropbox.md.</summary>
public sealed class DropboxBackendOptions
{
    /// <summary>The environment variable the factory reads the access token from by default.</summary>
    public const string AccessTokenVariable = "GHOSTIE_DROPBOX_ACCESS_TOKEN";

    /// <summary>The largest request body Dropbox accepts (150 MiB), so the highest <see cref="UploadSessionThreshold"/>.</summary>
    public const long MaxRequestBytes = 150L * 1024 * 1024;

    /// <summary>A Dropbox access token with the scopes files.metadata.read, files.content.read and files.content.write; when
    /// neither this nor <see cref="AccessTokenProvider"/> is set, <see cref="AccessTokenVariable"/> is read.
    /// Short-lived tokens expire (about four hours): prefer <see cref="AccessTokenProvider"/>. Never logged, never part of
    /// an exception message. Set this or <see cref="AccessTokenProvider"/>, not both.</summary>
    public string? AccessToken { get; set; }

    /// <summary>Returns the access token to use. Called with <c>false</c> before every request for the current token (cached by
    /// the provider, which refreshes it first when it is about to expire, as
    /// <see cref="DropboxAuthorization.CreateAccessTokenProvider"/> does), and with <c>true</c> after
    /// Dropbox answered 401 expired_access_token or invalid_access_token: refresh and return a new one. A second 401 with the
    /// new token is a <see cref="DropboxCredentialException"/>. Set this or <see cref="AccessToken"/>, not both.</summary>
    public Func<bool, CancellationToken, ValueTask<string>>? AccessTokenProvider { get; set; }

    /// <summary>The folder inside the app folder that holds the repository, for example "work" (default "": the app folder
    /// itself). Segments of A-Z, a-z, 0-9, '-', '_' and '.', separated by '/'; at most 200 characters.</summary>
    public string Folder { get; set; } = "";

    /// <summary>When <see cref="Folder"/> is set and does not exist: true treats it as an empty repository (the first write
    /// creates it); false (the default) fails with <see cref="GhostieErrorCode.StorageNotFound"/>, so a deleted or renamed
    /// folder is not taken for an empty repository. Setup sets it.</summary>
    public bool CreateFolderIfMissing { get; set; }

    /// <summary>Content larger than this goes through an upload session (upload_session/start, append_v2, finish) instead
    /// of one upload request (default and maximum 150 MiB, Dropbox's limit for one request; at least 1 KiB). Content that is
    /// not seekable and larger than one <see cref="UploadChunkSize"/> always goes through a session, so it is never held
    /// whole in memory.</summary>
    public long UploadSessionThreshold { get; set; } = MaxRequestBytes;

    /// <summary>The bytes sent per upload-session request, and the most a single upload holds in memory (default 8 MiB;
    /// 1 KiB up to <see cref="UploadSessionThreshold"/>).</summary>
    public int UploadChunkSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Entries asked for per list_folder page (default 2000, Dropbox's maximum; 1 to 2000).</summary>
    public int ListPageSize { get; set; } = 2000;

    /// <summary>How many broken connections one download may survive; each is resumed with an HTTP range request on the
    /// revision being read (default 3).</summary>
    public int MaxDownloadResumes { get; set; } = 3;

    /// <summary>The RPC host (default https://api.dropboxapi.com/; tests: the protocol double).</summary>
    public Uri ApiBaseUri { get; set; } = new("https://api.dropboxapi.com/");

    /// <summary>The content host (default https://content.dropboxapi.com/; tests: the protocol double).</summary>
    public Uri ContentBaseUri { get; set; } = new("https://content.dropboxapi.com/");

    /// <summary>Retries, backoff, throttling ceiling and the clock.</summary>
    public BackendRetryOptions Retry { get; set; } = new();

    /// <summary>The handler HTTP requests go through (tests insert fault injection here). Not disposed by the backend.
    /// Null uses a private <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Every problem with these options, as messages naming the option and what to do (empty when valid). Messages
    /// never contain the token.</summary>
    public IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        if (AccessTokenProvider is null && ResolveToken() is null)
        {
            errors.Add($"No Dropbox access token: set DropboxBackendOptions.AccessToken (or the {AccessTokenVariable} environment variable for the ghostie command), or AccessTokenProvider, or run 'ghostie sync setup --backend dropbox'.");
        }
        else if (AccessTokenProvider is not null && !string.IsNullOrWhiteSpace(AccessToken))
        {
            errors.Add("DropboxBackendOptions.AccessToken and AccessTokenProvider are both set; set only one.");
        }
        else if (ResolveToken() is string token && token.Any(c => c <= ' ' || c > '~'))
        {
            errors.Add("The Dropbox access token contains spaces or characters a token never has; copy it again.");
        }

        if (!IsValidFolder(Folder))
        {
            errors.Add($"DropboxBackendOptions.Folder '{Folder}' is invalid: use segments of A-Z, a-z, 0-9, '-', '_' and '.' separated by '/' (not '.' or '..'), at most 200 characters, or \"\" for the app folder itself.");
        }

        CheckHost(errors, ApiBaseUri, nameof(ApiBaseUri), "https://api.dropboxapi.com/");
        CheckHost(errors, ContentBaseUri, nameof(ContentBaseUri), "https://content.dropboxapi.com/");
        if (UploadSessionThreshold is < 1024 or > MaxRequestBytes)
        {
            errors.Add($"DropboxBackendOptions.UploadSessionThreshold is {UploadSessionThreshold}; use 1,024 to {MaxRequestBytes:N0} bytes (150 MiB, Dropbox's limit for one request).");
        }

        if (UploadChunkSize < 1024 || UploadChunkSize > UploadSessionThreshold)
        {
            errors.Add($"DropboxBackendOptions.UploadChunkSize is {UploadChunkSize}; use 1,024 bytes up to UploadSessionThreshold ({UploadSessionThreshold:N0}).");
        }

        if (ListPageSize is < 1 or > 2000)
        {
            errors.Add($"DropboxBackendOptions.ListPageSize is {ListPageSize}; use 1 to 2000.");
        }

        if (MaxDownloadResumes is < 0 or > 100)
        {
            errors.Add($"DropboxBackendOptions.MaxDownloadResumes is {MaxDownloadResumes}; use 0 to 100.");
        }

        if (Retry is null)
        {
            errors.Add("DropboxBackendOptions.Retry must be set.");
        }
        else
        {
            try
            {
                Retry.Validate();
            }
            catch (GhostieSyncException ex)
            {
                errors.Add(ex.Message);
            }
        }

        return errors;
    }

    /// <summary>The fixed token to use: <see cref="AccessToken"/>, else the <see cref="AccessTokenVariable"/> environment
    /// variable; null when neither is set (or a provider is used).</summary>
    public string? ResolveToken()
    {
        if (AccessTokenProvider is not null)
        {
            return null;
        }

        string? token = string.IsNullOrWhiteSpace(AccessToken) ? Environment.GetEnvironmentVariable(AccessTokenVariable) : AccessToken;
        return string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }

    /// <summary>The folder as a Dropbox path: "" (the app folder) or "/a/b".</summary>
    internal string RootPath => Folder.Trim('/').Length == 0 ? "" : "/" + Folder.Trim('/');

    internal static bool IsValidFolder(string? folder)
    {
        if (folder is null || folder.Length > 200)
        {
            return false;
        }

        string trimmed = folder.Trim('/');
        return trimmed.Length == 0 || trimmed.Split('/').All(s => s.Length > 0 && s is not ("." or "..")
            && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
    }

    private static void CheckHost(List<string> errors, Uri? uri, string name, string example)
    {
        if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"DropboxBackendOptions.{name} must be an absolute http(s) URI, for example {example}.");
        }
        else if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            errors.Add($"DropboxBackendOptions.{name} '{uri}' is plain http: the token would travel in the clear. Use https.");
        }
    }
}
