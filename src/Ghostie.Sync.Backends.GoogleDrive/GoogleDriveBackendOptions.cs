namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>Options of the Google Drive backend. See docs/backends/google-drive.md.</summary>
public sealed class GoogleDriveBackendOptions
{
    /// <summary>The environment variable the factory reads an access token from unless the settings name another.</summary>
    public const string AccessTokenVariable = "GHOSTIE_DRIVE_ACCESS_TOKEN";

    /// <summary>The OAuth scope the app data folder needs (the default storage).</summary>
    public const string AppDataScope = "https://www.googleapis.com/auth/drive.appdata";

    /// <summary>The granularity of resumable chunks: every chunk but the last is a multiple of 256 KiB (Google's rule).</summary>
    public const int ChunkGranularity = 256 * 1024;

    /// <summary>The largest object sent in one multipart request (Google: multipart uploads are for 5 MB or less).</summary>
    public const int MaxMultipartBytes = 5 * 1024 * 1024;

    /// <summary>A fixed OAuth 2.0 access token (scope <see cref="AppDataScope"/>, or drive.file for <see cref="FolderId"/>).
    /// Access tokens expire after about an hour; prefer <see cref="AccessTokenProvider"/>. Exactly one of the two is set.
    /// Never logged, never part of an exception message.</summary>
    public string? AccessToken { get; set; }

    /// <summary>Returns an access token. Called with <c>false</c> before every request (return the current token, cached, and
    /// refresh it first when it is about to expire, as <see cref="GoogleDriveAuthorization.CreateAccessTokenProvider"/> does);
    /// with <c>true</c> after Google refused the token (HTTP 401): refresh and return a new one. A 401 on the refreshed token is a
    /// <see cref="GoogleDriveCredentialException"/>. Exactly one of this and <see cref="AccessToken"/> is set.</summary>
    public Func<bool, CancellationToken, ValueTask<string>>? AccessTokenProvider { get; set; }

    /// <summary>The id of a Drive folder to keep the repository in (from the folder's URL,
    /// https://drive.google.com/drive/folders/ID), instead of the hidden app data folder (the default, null). The token then
    /// needs the drive.file scope (files this app created) or drive.</summary>
    public string? FolderId { get; set; }

    /// <summary>The API root (default https://www.googleapis.com/; tests: the loopback protocol double). Plain http only for loopback.</summary>
    public Uri ApiBaseUri { get; set; } = new("https://www.googleapis.com/");

    /// <summary>Retries, backoff, throttling ceiling and the clock.</summary>
    public BackendRetryOptions Retry { get; set; } = new();

    /// <summary>Objects larger than this go through a resumable upload; smaller ones in one multipart request. Default and
    /// maximum <see cref="MaxMultipartBytes"/>; at least 1.</summary>
    public int ResumableThreshold { get; set; } = MaxMultipartBytes;

    /// <summary>The size of one resumable chunk (default 8 MiB): a multiple of <see cref="ChunkGranularity"/>, 256 KiB to 64 MiB.
    /// A failed chunk is resumed from the last byte Google confirmed.</summary>
    public int ChunkSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>How old a duplicate (a second file with an object's name, which Drive allows) must be before
    /// <see cref="GoogleDriveBackend.CleanupAsync"/> deletes it (default 1 day): a younger one may belong to an upload another
    /// device has not finished.</summary>
    public TimeSpan DuplicateGracePeriod { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The handler HTTP requests go through (tests insert fault injection here). Not disposed by the backend. Null
    /// uses a private <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Every problem with these options, as messages naming the option and what to do (empty when valid). Never
    /// contains the token.</summary>
    public IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(AccessToken) == (AccessTokenProvider is null))
        {
            errors.Add(AccessTokenProvider is null
                ? $"No Google access token: set GoogleDriveBackendOptions.AccessTokenProvider (or AccessToken, or {AccessTokenVariable} for the factory), or run '{GoogleDriveCredentialException.SetupCommand}'."
                : "GoogleDriveBackendOptions sets both AccessToken and AccessTokenProvider: set only one.");
        }
        else if (AccessToken is not null && AccessToken.Trim().Any(c => c <= ' ' || c > '~'))
        {
            errors.Add("The Google access token contains spaces or characters a token never has; copy it again.");
        }

        if (ApiBaseUri is null || !ApiBaseUri.IsAbsoluteUri || (ApiBaseUri.Scheme != Uri.UriSchemeHttps && ApiBaseUri.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add("GoogleDriveBackendOptions.ApiBaseUri must be an absolute http(s) URI, for example https://www.googleapis.com/.");
        }
        else if (ApiBaseUri.Scheme == Uri.UriSchemeHttp && !ApiBaseUri.IsLoopback)
        {
            errors.Add($"GoogleDriveBackendOptions.ApiBaseUri '{ApiBaseUri}' is plain http: the token would travel in the clear. Use https.");
        }

        if (FolderId is not null && !IsFolderId(FolderId))
        {
            errors.Add($"GoogleDriveBackendOptions.FolderId '{FolderId}' is not a Drive folder id (letters, digits, '-' and '_', as in https://drive.google.com/drive/folders/ID).");
        }

        if (ResumableThreshold is < 1 or > MaxMultipartBytes)
        {
            errors.Add($"GoogleDriveBackendOptions.ResumableThreshold is {ResumableThreshold}; use 1 to {MaxMultipartBytes} bytes.");
        }

        if (ChunkSize < ChunkGranularity || ChunkSize > 64 * 1024 * 1024 || ChunkSize % ChunkGranularity != 0)
        {
            errors.Add($"GoogleDriveBackendOptions.ChunkSize is {ChunkSize}; use a multiple of 262,144 bytes (256 KiB) from 256 KiB to 64 MiB.");
        }

        if (DuplicateGracePeriod < TimeSpan.Zero)
        {
            errors.Add("GoogleDriveBackendOptions.DuplicateGracePeriod must not be negative.");
        }

        if (Retry is null)
        {
            errors.Add("GoogleDriveBackendOptions.Retry must be set.");
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

    internal static bool IsFolderId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 200 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
