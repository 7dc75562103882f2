using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.Dropbox.Internal;

/// <summary>An endpoint's 409 answer: the tag chain of its structured error (for example "path/conflict/file") and, for
/// an incorrect_offset, the correct offset.</summary>
internal sealed record DropboxError(string Tags, long? CorrectOffset)
{
    public bool Is(string tags) => Tags == tags || Tags.StartsWith(tags + "/", StringComparison.Ordinal);
}

/// <summary>The part of a FileMetadata the backend reads.</summary>
internal sealed record DropboxFile(string Rev, long Size, string? ContentHash);

/// <summary>
/// A thin client of the Dropbox API v2 (https://www.dropbox.com/developers/documentation/http/documentation): RPC calls with
/// JSON bodies on the API host; content calls with the argument in the Dropbox-API-Arg header (HTTP-header-safe JSON) on the
/// content host. Every request goes through <see cref="BackendRetry"/>; 429 waits for Retry-After; 409
/// too_many_write_operations (lock contention) backs off; 401 expired or invalid tokens are refreshed once through the token
/// provider, a second 401 is a <see cref="DropboxCredentialException"/>. The token goes only to the two configured hosts.
/// </summary>
internal sealed class DropboxClient : IDisposable
{
    private static readonly JsonWriterOptions HeaderSafe = new() { Encoder = JavaScriptEncoder.Default };
    private readonly HttpClient _http;
    private readonly Uri _api;
    private readonly Uri _content;
    private readonly Func<bool, CancellationToken, ValueTask<string>> _tokens;
    private readonly bool _canRefresh;
    private readonly BackendRetryOptions _retry;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private string? _token;
    private long _requests;

    public DropboxClient(DropboxBackendOptions options, string displayName, ILogger logger)
    {
        _api = WithSlash(options.ApiBaseUri);
        _content = WithSlash(options.ContentBaseUri);
        string? fixedToken = options.ResolveToken();
        _canRefresh = options.AccessTokenProvider is not null;
        _tokens = options.AccessTokenProvider ?? ((_, _) => ValueTask.FromResult(fixedToken!));
        _retry = options.Retry;
        _logger = logger;
        DisplayName = displayName;
        _http = options.HttpMessageHandler is null
            ? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            : new HttpClient(options.HttpMessageHandler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    public string DisplayName { get; }

    public long RequestCount => Interlocked.Read(ref _requests);

    public BackendRetryOptions Retry => _retry;

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");

    /// <summary>JSON for an argument: HTTP header safe (non-ASCII and 0x7F escaped as \uXXXX), so usable as Dropbox-API-Arg.</summary>
    public static string Arg(Action<Utf8JsonWriter> write)
    {
        using var memory = new MemoryStream();
        using (var writer = new Utf8JsonWriter(memory, HeaderSafe))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        // The default encoder escapes every non-ASCII character; DEL is escaped here in case it is let through.
        return Encoding.ASCII.GetString(memory.ToArray()).Replace("\u007f", "\\u007f", StringComparison.Ordinal);
    }

    public HttpRequestMessage Rpc(string route, string json) =>
        new(HttpMethod.Post, new Uri(_api, "2/" + route)) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public HttpRequestMessage ContentCall(string route, string arg, HttpContent? body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_content, "2/" + route)) { Content = body };
        if (body is not null)
        {
            body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        request.Headers.TryAddWithoutValidation("Dropbox-API-Arg", arg);
        return request;
    }

    /// <summary>
    /// Runs one call with retries. <paramref name="onSuccess"/> reads a 2xx answer inside the attempt (so a body cut short
    /// is retried) and says whether it keeps the response (a download); <paramref name="onError"/> turns a 409 into a
    /// result or throws. <paramref name="attempts"/> counts the attempts that reached the point of sending.
    /// </summary>
    public async Task<T> CallAsync<T>(string operation, Func<HttpRequestMessage> build,
        Func<HttpResponseMessage, CancellationToken, Task<(T Value, bool Keep)>> onSuccess, Func<DropboxError, T> onError,
        CancellationToken cancellationToken, StrongBox<int>? attempts = null)
    {
        try
        {
            return await BackendRetry.ExecuteAsync(operation, async ct =>
            {
                if (attempts is not null)
                {
                    attempts.Value++;
                }

                HttpResponseMessage response = await SendAuthorizedAsync(build, ct).ConfigureAwait(false);
                bool keep = false;
                try
                {
                    int status = (int)response.StatusCode;
                    if (status is >= 200 and < 300)
                    {
                        (T value, keep) = await onSuccess(response, ct).ConfigureAwait(false);
                        if (!keep)
                        {
                            // The whole answer must arrive: a connection cut after the headers is a failed attempt (the call
                            // may have been carried out; every caller copes with its repetition).
                            await (await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false)).CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
                        }

                        return value;
                    }

                    Classified failure = await ClassifyAsync(operation, response, ct).ConfigureAwait(false);
                    throw failure.Exception;
                }
                catch (EndpointErrorSignal signal)
                {
                    return onError(signal.Error);
                }
                finally
                {
                    if (!keep)
                    {
                        response.Dispose();
                    }
                }
            }, e => e is HttpAttemptException attempt ? attempt.Verdict : RetryVerdict.FromHttpException(e), _retry, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpAttemptException e)
        {
            // A permanent HTTP answer: BackendRetry rethrows the attempt's own signal, which must not reach the caller.
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"{operation} failed ({e.Message}) at {DisplayName}. Dropbox refused the request; retrying will not help until the cause is fixed.", isTransient: false, e);
        }
    }

    /// <summary>The provider's token, asked before every request: a provider caches its token and refreshes it when it is
    /// due (<see cref="DropboxAuthorization"/>); a fixed token is returned as it is.</summary>
    private async Task<string> CurrentTokenAsync(CancellationToken cancellationToken) =>
        await _tokens(false, cancellationToken).ConfigureAwait(false);

    /// <summary>A new token after <paramref name="refused"/> was refused; several requests failing at once refresh once.</summary>
    private async Task<string> RefreshedTokenAsync(string refused, CancellationToken cancellationToken)
    {
        await _tokenLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is string current && current != refused)
            {
                return current;
            }

            _token = await _tokens(true, cancellationToken).ConfigureAwait(false);
            Log.TokenRefreshed(_logger, DisplayName);
            return _token;
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    private async Task<HttpResponseMessage> SendAuthorizedAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        string token = await CurrentTokenAsync(cancellationToken).ConfigureAwait(false);
        bool refreshed = false;
        while (true)
        {
            using HttpRequestMessage request = build();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Interlocked.Increment(ref _requests);
            HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                return response;
            }

            JsonElement? error;
            using (response)
            {
                error = await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            }

            string tags = error is JsonElement e ? TagChain(e).Tags : "";
            if (tags is "expired_access_token" or "invalid_access_token" || tags.Length == 0)
            {
                string reason = tags.Length == 0 ? "HTTP 401" : tags;
                if (!_canRefresh || refreshed)
                {
                    throw new DropboxCredentialException(DisplayName, reason, refreshed);
                }

                token = await RefreshedTokenAsync(token, cancellationToken).ConfigureAwait(false);
                refreshed = true;
                continue;
            }

            if (tags == "missing_scope")
            {
                string scope = error is JsonElement m && m.TryGetProperty("required_scope", out JsonElement s) ? Clean(s.GetString()) : "a required scope";
                throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"Dropbox refused a request for {DisplayName}: the app's token lacks the scope {scope}. Enable files.metadata.read, files.content.read and files.content.write in the App Console (Permissions), then run '{DropboxCredentialException.SetupCommand}' again.");
            }

            throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                $"Dropbox refused the account for {DisplayName} ({Clean(tags)}). Check the account in Dropbox, then run '{DropboxCredentialException.SetupCommand}' again.");
        }
    }

    private sealed class EndpointErrorSignal(DropboxError error) : Exception(error.Tags)
    {
        public DropboxError Error { get; } = error;
    }

    private sealed record Classified(Exception Exception);

    /// <summary>A non-2xx, non-401 answer: 409 endpoint errors are handed to the caller (except lock contention, retried);
    /// 429 waits for Retry-After; 5xx retried; 400 and 403 permanent with Dropbox's text.</summary>
    private async Task<Classified> ClassifyAsync(string operation, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        int status = (int)response.StatusCode;
        if (status == 409)
        {
            JsonElement? body = await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            DropboxError error = body is JsonElement e ? TagChain(e) : new DropboxError("unknown", null);
            if (error.Tags.Split('/').Contains("too_many_write_operations"))
            {
                // Namespace lock contention (data ingress guide): retry after a backoff.
                Log.Throttled(_logger, operation, "too_many_write_operations", 0);
                return new(new HttpAttemptException(response.StatusCode, RetryVerdict.Throttled(null, "HTTP 409 too_many_write_operations"), "too_many_write_operations"));
            }

            return new(new EndpointErrorSignal(error));
        }

        if (status == 429)
        {
            TimeSpan? hint = RetryVerdict.ReadRetryAfter(response.Headers.RetryAfter, _retry.TimeProvider);
            string reason = "too_many_requests";
            if (response.Content.Headers.ContentType?.MediaType == "application/json"
                && await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false) is JsonElement rate)
            {
                if (rate.TryGetProperty("reason", out JsonElement r) && r.TryGetProperty(".tag", out JsonElement tag))
                {
                    reason = Clean(tag.GetString());
                }

                if (hint is null && rate.TryGetProperty("retry_after", out JsonElement after) && after.TryGetInt64(out long seconds))
                {
                    hint = TimeSpan.FromSeconds(seconds);
                }
            }

            Log.Throttled(_logger, operation, reason, hint?.TotalSeconds ?? 0);
            return new(new HttpAttemptException(response.StatusCode, RetryVerdict.Throttled(hint, $"HTTP 429 {reason}"), reason));
        }

        if (status is 400 or 403)
        {
            string text = Clean(await ReadTextAsync(response, cancellationToken).ConfigureAwait(false));
            return new(status == 403
                ? new GhostieSyncException(GhostieErrorCode.AccessDenied, $"Dropbox refused {operation} for {DisplayName} (HTTP 403: {text}): the account or app may not use this. Check the app's access type is 'App folder'.")
                : new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Dropbox refused {operation} for {DisplayName} as a bad request (HTTP 400: {text}). This is a fault of this backend or a change of the API; retrying will not help."));
        }

        RetryVerdict verdict = RetryVerdict.FromHttpResponse(response, _retry.TimeProvider);
        return new(new HttpAttemptException(response.StatusCode, verdict, null));
    }

    /// <summary>Follows a Stone error value: its ".tag", then the member of that name when it is an object (a union member),
    /// else "reason" (UploadWriteFailed), collecting the tags: "path/conflict/file".</summary>
    internal static DropboxError TagChain(JsonElement error)
    {
        var tags = new List<string>();
        long? offset = null;
        JsonElement current = error;
        for (int depth = 0; depth < 8 && current.ValueKind == JsonValueKind.Object; depth++)
        {
            if (current.TryGetProperty("correct_offset", out JsonElement o) && o.TryGetInt64(out long correct))
            {
                offset = correct;
            }

            if (!current.TryGetProperty(".tag", out JsonElement tag) || tag.ValueKind != JsonValueKind.String)
            {
                break;
            }

            string name = tag.GetString()!;
            tags.Add(name);
            current = current.TryGetProperty(name, out JsonElement inner) && inner.ValueKind == JsonValueKind.Object ? inner
                : current.TryGetProperty("reason", out JsonElement reason) ? reason : default;
        }

        return new DropboxError(tags.Count == 0 ? "unknown" : string.Join('/', tags), offset);
    }

    /// <summary>The "error" member of a JSON error body (null when the body is not JSON).</summary>
    private static async Task<JsonElement?> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await ReadTextAsync(response, cancellationToken).ConfigureAwait(false);
        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out JsonElement error) ? error.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<string> ReadTextAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            byte[] buffer = new byte[16 * 1024];
            await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            int total = 0;
            int read;
            while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return "";
        }
    }

    /// <summary>Text from Dropbox for a message: no control characters, at most 200 characters.</summary>
    internal static string Clean(string? text) => text is null ? "" : new string(text.Where(c => !char.IsControl(c)).Take(200).ToArray());

    /// <summary>Reads the FileMetadata fields the backend uses.</summary>
    internal static DropboxFile ReadFile(JsonElement metadata, string what)
    {
        if (metadata.ValueKind != JsonValueKind.Object || !metadata.TryGetProperty("rev", out JsonElement rev) || rev.ValueKind != JsonValueKind.String
            || !metadata.TryGetProperty("size", out JsonElement size) || !size.TryGetInt64(out long length))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Dropbox answered {what} without a file's metadata (rev, size); is the API base URI Dropbox's?", isTransient: true);
        }

        string? hash = metadata.TryGetProperty("content_hash", out JsonElement h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
        return new DropboxFile(rev.GetString()!, length, hash);
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using JsonDocument document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
        return document.RootElement.Clone();
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _http.Dispose();
        _tokenLock.Dispose();
    }
}

/// <summary>A mutable box (attempt counters shared with retry lambdas).</summary>
internal sealed class StrongBox<T>
{
    public T Value = default!;
}
