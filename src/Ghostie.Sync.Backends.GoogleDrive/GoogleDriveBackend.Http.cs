using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Ghostie.Sync.Backends.GoogleDrive.Internal;
using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>Requests, the access token, retries and error mapping.</summary>
public sealed partial class GoogleDriveBackend
{
    private const int MaxErrorBodyBytes = 16 * 1024;
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private string? _token;  // the last refreshed token, so concurrent 401s share one refresh

    /// <summary>The access token for the next request: the fixed one, or the provider's, asked before every request (a
    /// provider caches its token and refreshes it when it is due, see <see cref="GoogleDriveAuthorization"/>).</summary>
    private async ValueTask<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (_options.AccessTokenProvider is null)
        {
            return _options.AccessToken!.Trim();
        }

        return Checked(await _options.AccessTokenProvider(false, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Asks the provider for a new token after <paramref name="refused"/> was refused; requests that were refused
    /// the same token meanwhile share one refresh.</summary>
    private async ValueTask<string?> RefreshAsync(string refused, CancellationToken cancellationToken)
    {
        if (_options.AccessTokenProvider is null)
        {
            return null;
        }

        await _tokenLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is string current && current != refused)
            {
                return current;  // another request refreshed it meanwhile
            }

            Log.RefreshingToken(_logger);
            _token = Checked(await _options.AccessTokenProvider(true, cancellationToken).ConfigureAwait(false));
            return _token;
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    private string Checked(string? token) =>
        string.IsNullOrWhiteSpace(token)
            ? throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"The access token provider of {DisplayName} returned no token. Run '{GoogleDriveCredentialException.SetupCommand}' to authorize this device.")
            : token.Trim();

    /// <summary>Sends a request built by <paramref name="build"/> (called again for a retry with a refreshed token). A 401
    /// is answered once with a refreshed token from the provider; a second 401, or a 401 on a fixed token, is a
    /// <see cref="GoogleDriveCredentialException"/>. Other responses are returned as they are, after their headers.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        string token = await TokenAsync(cancellationToken).ConfigureAwait(false);
        for (int round = 0; ; round++)
        {
            HttpRequestMessage request = build();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Interlocked.Increment(ref _requestCount);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // The content is owned by the caller (a pooled buffer); only the message goes.
                request.Content = null;
                request.Dispose();
            }

            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                return response;
            }

            response.Dispose();
            string? fresh = round == 0 ? await RefreshAsync(token, cancellationToken).ConfigureAwait(false) : null;
            if (fresh is null)
            {
                throw new GoogleDriveCredentialException(DisplayName, refreshed: round > 0);
            }

            token = fresh;
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string relative, HttpContent? content = null) =>
        new(method, new Uri(_options.ApiBaseUri, relative)) { Content = content };

    /// <summary>Reads Google's error reason from the body, classifies the response and releases it.</summary>
    private async Task<HttpAttemptException> FailureAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        using (response)
        {
            (string? reason, string? location) = await ReadReasonAsync(response, cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            RetryVerdict verdict = RetryVerdict.FromHttpResponse(response, _options.Retry.TimeProvider);

            // limits / handle-errors: 403 userRateLimitExceeded and rateLimitExceeded are rate limits, to be retried with
            // exponential backoff, as 429 is; every other 403 (permissions, quota) is permanent.
            if (status == 403 && reason is "userRateLimitExceeded" or "rateLimitExceeded")
            {
                verdict = RetryVerdict.Throttled(RetryVerdict.ReadRetryAfter(response.Headers.RetryAfter, _options.Retry.TimeProvider), $"HTTP 403 {reason}");
            }

            if (status != 404)
            {
                Log.RequestFailed(_logger, operation, status, reason);
            }

            return new HttpAttemptException(response.StatusCode, verdict, location is null ? reason : reason + "@" + location);
        }
    }

    private static async Task<(string? Reason, string? Location)> ReadReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            byte[] buffer = new byte[MaxErrorBodyBytes];
            int filled = 0;
            int read;
            while (filled < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
            {
                filled += read;
            }

            if (filled == 0)
            {
                return (null, null);
            }

            DriveErrorItem? item = JsonSerializer.Deserialize(buffer.AsSpan(0, filled), DriveJsonContext.Default.DriveErrorBody)?.Error?.Errors?.FirstOrDefault();
            return (item?.Reason, item?.Location);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or JsonException)
        {
            // The status alone still classifies the failure.
            return (null, null);
        }
    }

    /// <summary>Runs one operation with retries; permanent failures become typed errors.</summary>
    private async Task<T> RunAsync<T>(string verb, string? name, Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        string operation = name is null ? $"Google Drive {verb} in {DisplayName}" : $"Google Drive {verb} '{name}' in {DisplayName}";
        try
        {
            return await BackendRetry.ExecuteAsync(operation, attempt, Classify, _options.Retry, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpAttemptException e)
        {
            throw Map(e, operation);
        }
    }

    private static RetryVerdict Classify(Exception exception) =>
        exception is HttpAttemptException attempt ? attempt.Verdict : RetryVerdict.FromHttpException(exception);

    private GhostieSyncException Map(HttpAttemptException e, string operation)
    {
        int status = (int)e.Status;
        string what = $"HTTP {status}" + (e.ServiceCode is null ? "" : " " + e.ServiceCode);
        if (e.ServiceCode == "storageQuotaExceeded")
        {
            return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"{operation} failed: the Google Drive is full (storageQuotaExceeded). Nothing was half-written. Free space in Drive or Gmail, or buy storage, then sync again.",
                isTransient: false, e);
        }

        if (e.Status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            string scope = _options.FolderId is null ? "drive.appdata" : "drive.file (or drive)";
            return new GhostieSyncException(GhostieErrorCode.AccessDenied,
                $"{operation} was refused ({what}): the access token does not grant the {scope} scope this storage needs, or the Drive API is not enabled for its OAuth client. Run '{GoogleDriveCredentialException.SetupCommand}' again.",
                isTransient: false, e);
        }

        return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"{operation} failed ({what}). Google Drive refused the request; retrying will not help until the cause is fixed.",
            isTransient: false, e);
    }

    private static bool IsNotFound(HttpAttemptException e) => e.Status == HttpStatusCode.NotFound;
}
