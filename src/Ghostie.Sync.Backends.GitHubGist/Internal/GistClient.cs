using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Backends.GitHubGist.Internal;

/// <summary>
/// A thin typed client of the GitHub REST API for gists: list (Link pagination), get, create, update, delete, and raw
/// file reads. Every request goes through <see cref="BackendRetry"/>; primary and secondary rate limits are honoured;
/// 401, 403 and a 404 naming a missing scope become <see cref="GhostieErrorCode.AccessDenied"/>. The token is sent only
/// to the API, never to raw_url hosts.
/// </summary>
internal sealed class GistClient : IDisposable
{
    private const string ApiVersion = "2022-11-28";
    private const string DocsUrl = "https://docs.github.com/rest/gists/gists";
    private static readonly TimeSpan SecondaryLimitFirstWait = TimeSpan.FromMinutes(1);
    private readonly HttpClient _http;
    private readonly Uri _api;
    private readonly string _token;
    private readonly BackendRetryOptions _retry;
    private readonly TimeSpan _writeInterval;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private long _requests;
    private DateTimeOffset? _exhaustedUntil;
    private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;
    private int _secondaryStreak;

    public GistClient(Uri apiBase, string token, BackendRetryOptions retry, TimeSpan writeInterval, HttpMessageHandler? handler, string displayName, ILogger logger)
    {
        _api = apiBase.AbsoluteUri.EndsWith('/') ? apiBase : new Uri(apiBase.AbsoluteUri + "/");
        _token = token;
        _retry = retry;
        _writeInterval = writeInterval;
        _logger = logger;
        DisplayName = displayName;
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = DecompressionMethods.All })
            : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    public string DisplayName { get; }

    public long RequestCount => Interlocked.Read(ref _requests);

    private TimeProvider Clock => _retry.TimeProvider;

    /// <summary>The most full listings <see cref="ListStableAsync"/> makes before it gives up.</summary>
    public const int MaxListings = 5;

    /// <summary>
    /// Every gist of the authenticated user as one consistent view. GitHub pages the listing by page number over the
    /// gists ordered by updated_at, newest first, and each page is cut from the gists as they are when it is asked for:
    /// a gist created or updated by another client between two page requests pushes the rest back (one is listed twice),
    /// one deleted pulls them forward (one is never listed), and a gist updated meanwhile jumps to the already fetched
    /// first page (never listed). So: a listing that fits one page is one answer, hence a snapshot, and is used as is;
    /// a longer one is de-duplicated by id and repeated until two listings in a row agree on every gist
    /// <paramref name="relevant"/> selects (id, updated_at, file names and sizes). A race hides a gist from a listing only
    /// if another client changed something during that listing; for two agreeing listings to both be wrong, changes
    /// would have to land during each of them, in the same place.
    /// </summary>
    public async Task<List<GistResource>> ListStableAsync(Func<GistResource, bool> relevant, CancellationToken cancellationToken)
    {
        (List<GistResource> listing, int pages) = await ListOnceAsync(cancellationToken).ConfigureAwait(false);
        if (pages == 1)
        {
            return listing;
        }

        string previous = Fingerprint(listing, relevant);
        for (int round = 2; round <= MaxListings; round++)
        {
            (List<GistResource> again, _) = await ListOnceAsync(cancellationToken).ConfigureAwait(false);
            string current = Fingerprint(again, relevant);
            if (string.Equals(current, previous, StringComparison.Ordinal))
            {
                return again;
            }

            Log.ListingChanged(_logger, round);
            previous = current;
        }

        throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"The gists of {DisplayName} changed during each of {MaxListings} listings in a row (other devices or apps are writing to the account); try again in a moment.", isTransient: true);
    }

    /// <summary>One pass over the listing's pages (following rel="next"), de-duplicated by id: a gist listed twice keeps
    /// its later copy, fetched later and so at least as fresh.</summary>
    private async Task<(List<GistResource> Gists, int Pages)> ListOnceAsync(CancellationToken cancellationToken)
    {
        var byId = new Dictionary<string, GistResource>(StringComparer.Ordinal);
        Uri? next = new(_api, "gists?per_page=100");
        int page = 0;
        while (next is not null)
        {
            page++;
            if (page > 1000)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Listing the gists of {DisplayName} did not end after 1000 pages; the server's pagination is broken.");
            }

            Uri current = next;
            (List<GistResource> items, Uri? following) = await SendAsync($"GitHub list gists (page {page})", () => new HttpRequestMessage(HttpMethod.Get, current), api: true, write: false,
                async (response, ct) =>
                {
                    await using Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                    List<GistResource> list = await JsonSerializer.DeserializeAsync(body, GistJsonContext.Default.ListGistResource, ct).ConfigureAwait(false)
                        ?? throw Malformed("list gists");
                    return (list, NextLink(response));
                }, response => throw NotFoundError("listing the gists", response),
                cancellationToken).ConfigureAwait(false);
            foreach (GistResource gist in items)
            {
                byId[gist.Id] = gist;
            }

            next = following;
        }

        return ([.. byId.Values], page);
    }

    private static string Fingerprint(List<GistResource> gists, Func<GistResource, bool> relevant)
    {
        var text = new System.Text.StringBuilder();
        foreach (GistResource gist in gists.Where(relevant).OrderBy(g => g.Id, StringComparer.Ordinal))
        {
            text.Append(gist.Id).Append('@').Append(gist.UpdatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)).Append('{');
            foreach ((string name, GistFileResource? file) in gist.Files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                text.Append(name).Append(':').Append((file?.Size ?? -1).ToString(CultureInfo.InvariantCulture)).Append(';');
            }

            text.Append('}');
        }

        return text.ToString();
    }

    /// <summary>One gist (files without contents), or null when it does not exist.</summary>
    public Task<GistResource?> GetAsync(string gistId, CancellationToken cancellationToken) =>
        SendAsync<GistResource?>($"GitHub get gist {gistId}", () => new HttpRequestMessage(HttpMethod.Get, GistUri(gistId)), api: true, write: false,
            async (response, ct) => await ReadGistAsync(response, "get gist", ct).ConfigureAwait(false), _ => null, cancellationToken);

    /// <summary>Creates a secret gist with the given files.</summary>
    public Task<GistResource> CreateAsync(string description, IReadOnlyList<GistUpload> files, CancellationToken cancellationToken) =>
        SendAsync("GitHub create gist", () => new HttpRequestMessage(HttpMethod.Post, new Uri(_api, "gists")) { Content = new GistWriteContent(description, true, [], files) },
            api: true, write: true, (response, ct) => ReadGistAsync(response, "create gist", ct),
            response => throw NotFoundError("creating a gist", response), cancellationToken);

    /// <summary>Deletes and adds files in one commit; false when the gist does not exist. The answer (the whole gist,
    /// with up to a megabyte of every file's content) is drained unread: the caller knows what it changed.</summary>
    public Task<bool> UpdateAsync(string gistId, IReadOnlyList<string> deletions, IReadOnlyList<GistUpload> uploads, CancellationToken cancellationToken) =>
        SendAsync($"GitHub update gist {gistId}", () => new HttpRequestMessage(HttpMethod.Patch, GistUri(gistId)) { Content = new GistWriteContent(null, false, deletions, uploads) },
            api: true, write: true, async (response, ct) =>
            {
                await using Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                await body.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
                return true;
            }, _ => false, cancellationToken);

    /// <summary>Deletes a gist; false when it did not exist.</summary>
    public Task<bool> DeleteAsync(string gistId, CancellationToken cancellationToken) =>
        SendAsync($"GitHub delete gist {gistId}", () => new HttpRequestMessage(HttpMethod.Delete, GistUri(gistId)), api: true, write: true,
            (_, _) => Task.FromResult(true), _ => false, cancellationToken);

    /// <summary>Reads a file through its raw_url; <paramref name="read"/> consumes the body inside the attempt, so a
    /// connection broken halfway is retried as a whole. Returns <paramref name="notFound"/> on 404.</summary>
    public Task<T> ReadRawAsync<T>(string operation, string rawUrl, Func<Stream, CancellationToken, Task<T>> read, T notFound, CancellationToken cancellationToken)
    {
        // raw_urls point at a host of their own (gist.githubusercontent.com) that needs no token; plain http only when
        // both it and the API are loopback addresses (a local test double).
        if (!Uri.TryCreate(rawUrl, UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback && _api.IsLoopback)))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"{operation}: GitHub returned a raw_url that is not an https URL; {DisplayName} cannot read it.");
        }

        return SendAsync(operation, () => new HttpRequestMessage(HttpMethod.Get, uri), api: false, write: false, async (response, ct) =>
        {
            await using Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            return await read(body, ct).ConfigureAwait(false);
        }, _ => notFound, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The token's scopes when its X-OAuth-Scopes header shows a classic token without the gist scope, else null.</summary>
    private static string? MissingScope(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("X-OAuth-Scopes", out IEnumerable<string>? values))
        {
            return null; // a fine-grained token, an app token, or no such header: nothing to tell
        }

        string scopes = new(string.Join(", ", values).Where(c => !char.IsControl(c)).Take(200).ToArray());
        return scopes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains("gist", StringComparer.Ordinal) ? null : scopes.Trim();
    }

    /// <summary>A 404 where none can be right (listing, creating): the token cannot see the account's gists.</summary>
    private GhostieSyncException NotFoundError(string what, HttpResponseMessage response) =>
        new(GhostieErrorCode.AccessDenied,
            $"GitHub answered 404 to {what} for {DisplayName}: the token cannot reach the account's gists (HTTP {(int)response.StatusCode}). "
            + $"A classic token needs the 'gist' scope; a fine-grained token needs the account permission 'Gists' (read and write). Fix the token and set {GitHubGistBackendOptions.TokenVariable}.");

    private Uri GistUri(string gistId) => new(_api, "gists/" + Uri.EscapeDataString(gistId));

    private bool SameAuthority(Uri uri) =>
        string.Equals(uri.Scheme, _api.Scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(uri.Host, _api.Host, StringComparison.OrdinalIgnoreCase) && uri.Port == _api.Port;

    private GhostieSyncException Malformed(string what) =>
        new(GhostieErrorCode.BackendUnavailable, $"GitHub answered '{what}' for {DisplayName} with a body that is not a gist; is ApiBaseUri the GitHub REST API?", isTransient: true);

    private async Task<GistResource> ReadGistAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        GistResource gist = await JsonSerializer.DeserializeAsync(body, GistJsonContext.Default.GistResource, cancellationToken).ConfigureAwait(false) ?? throw Malformed(what);
        return string.IsNullOrEmpty(gist.Id) ? throw Malformed(what) : gist;
    }

    private Uri? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out IEnumerable<string>? values))
        {
            return null;
        }

        foreach (string part in values.SelectMany(v => v.Split(',')))
        {
            string[] pieces = part.Split(';', StringSplitOptions.TrimEntries);
            if (pieces.Length >= 2 && pieces[0].StartsWith('<') && pieces[0].EndsWith('>')
                && pieces.Skip(1).Any(p => p.Replace(" ", "", StringComparison.Ordinal) is "rel=\"next\"" or "rel=next"))
            {
                if (!Uri.TryCreate(pieces[0][1..^1], UriKind.Absolute, out Uri? next) || !SameAuthority(next))
                {
                    throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"GitHub's next-page link for {DisplayName} points to another host; refusing to send the token there.");
                }

                return next;
            }
        }

        return null;
    }

    private async Task<T> SendAsync<T>(string operation, Func<HttpRequestMessage> build, bool api, bool write,
        Func<HttpResponseMessage, CancellationToken, Task<T>> onSuccess, Func<HttpResponseMessage, T> onNotFound, CancellationToken cancellationToken)
    {
        // Each request starts a new series of secondary-limit waits: one that gave up (wait beyond MaxThrottleDelay, or
        // attempts spent) must not leave the next request to start where it stopped.
        lock (_gate)
        {
            _secondaryStreak = 0;
        }

        try
        {
            return await AttemptAsync(operation, build, api, write, onSuccess, onNotFound, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpAttemptException e)
        {
            // A permanent answer (400, 409, 412, ...): BackendRetry rethrows the attempt's own signal, which is internal
            // and must not reach the caller; it becomes the error model's exception, with the same status in its message.
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"{operation} failed ({e.Verdict.Reason}) at {DisplayName}. GitHub refused the request; retrying will not help until the cause is fixed.",
                isTransient: false, e);
        }
    }

    private async Task<T> AttemptAsync<T>(string operation, Func<HttpRequestMessage> build, bool api, bool write,
        Func<HttpResponseMessage, CancellationToken, Task<T>> onSuccess, Func<HttpResponseMessage, T> onNotFound, CancellationToken cancellationToken)
    {
        return await BackendRetry.ExecuteAsync(operation, async ct =>
        {
            if (api)
            {
                await WaitForRateLimitAsync(operation, ct).ConfigureAwait(false);
            }

            if (write)
            {
                await PaceWriteAsync(ct).ConfigureAwait(false);
            }

            using HttpRequestMessage request = build();
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Ghostie.Sync", "0.1"));
            if (api)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
                request.Headers.Add("X-GitHub-Api-Version", ApiVersion);
            }

            // The token goes to the API only: raw_url reads are anonymous (the URL of a secret gist's file is its own
            // capability), so the token never travels to the raw host or anywhere a raw_url might point.
            if (api)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            }

            Interlocked.Increment(ref _requests);
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (api)
            {
                ObserveRateLimit(response);
            }

            if (response.IsSuccessStatusCode)
            {
                if (api)
                {
                    lock (_gate)
                    {
                        _secondaryStreak = 0;
                    }
                }

                return await onSuccess(response, ct).ConfigureAwait(false);
            }

            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                // GitHub answers 404, not 403, when the token lacks the scope (so as not to reveal private resources):
                // a classic token's X-OAuth-Scopes tells that apart from a gist that is really gone.
                if (api && MissingScope(response) is string scopes)
                {
                    throw new GhostieSyncException(GhostieErrorCode.AccessDenied,
                        $"GitHub answered 404 to {operation} for {DisplayName} because the token lacks the 'gist' scope (it has: {(scopes.Length == 0 ? "no scopes" : scopes)}). "
                        + $"Grant the 'gist' scope to the token (Settings > Developer settings > Personal access tokens) or create one with it, and set {GitHubGistBackendOptions.TokenVariable}.");
                }

                return onNotFound(response);
            }

            string? message = await ReadErrorMessageAsync(response, ct).ConfigureAwait(false);
            throw Classify(operation, response, message);
        }, e => e is HttpAttemptException attempt ? attempt.Verdict : RetryVerdict.FromHttpException(e), _retry, cancellationToken).ConfigureAwait(false);
    }

    private Exception Classify(string operation, HttpResponseMessage response, string? message)
    {
        int status = (int)response.StatusCode;
        string shown = message is null ? $"HTTP {status}" : $"HTTP {status}: {message}";
        if (status is 403 or 429)
        {
            DateTimeOffset now = Clock.GetUtcNow();
            TimeSpan? hint = null;
            string reason = "";
            if (Header(response, "x-ratelimit-remaining") == "0" && ReadReset(response) is DateTimeOffset reset)
            {
                hint = reset > now ? reset - now : TimeSpan.Zero;
                reason = "primary rate limit";
                lock (_gate)
                {
                    _exhaustedUntil = null; // the retry's own wait covers it
                }
            }
            else if (RetryVerdict.ReadRetryAfter(response.Headers.RetryAfter, Clock) is TimeSpan after)
            {
                hint = after;
                reason = "secondary rate limit";
            }
            else if (status == 429 || (message?.Contains("rate limit", StringComparison.OrdinalIgnoreCase) ?? false))
            {
                // GitHub: without retry-after, "wait for at least one minute before retrying. If your request continues
                // to fail due to a secondary rate limit, wait for an exponentially increasing amount of time between
                // retries": 1, 2, 4, ... minutes, until a request succeeds.
                int streak;
                lock (_gate)
                {
                    streak = _secondaryStreak++;
                }

                hint = SecondaryLimitFirstWait * Math.Pow(2, Math.Min(streak, 16));
                reason = "secondary rate limit";
            }

            if (hint is TimeSpan wait)
            {
                if (wait > _retry.MaxThrottleDelay)
                {
                    return RateLimitError(operation, now + wait, reason);
                }

                Log.Throttled(_logger, operation, reason, wait.TotalSeconds);
                return new HttpAttemptException(response.StatusCode, RetryVerdict.Throttled(wait, $"{shown} ({reason})"), null);
            }

            if (status == 403)
            {
                // Not a rate limit, and not a missing classic scope (GitHub answers that with 404): a fine-grained token
                // without the Gists permission, an organization policy, or a blocked account.
                return new GhostieSyncException(GhostieErrorCode.AccessDenied,
                    $"GitHub refused {operation} for {DisplayName} ({shown}). A fine-grained token needs the account permission 'Gists' (read and write); "
                    + $"otherwise check that the token is allowed to act for the account, and set {GitHubGistBackendOptions.TokenVariable}.");
            }
        }

        if (status == 401)
        {
            return new GhostieSyncException(GhostieErrorCode.AccessDenied,
                $"GitHub rejected the token for {DisplayName} ({shown}): the token is invalid or expired; create a token with the gist scope and set {GitHubGistBackendOptions.TokenVariable}.");
        }

        if (status == 422)
        {
            return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"GitHub refused {operation} for {DisplayName} ({shown}). A gist limit was probably reached; lower MaxGistBytes or ChunkSize in GitHubGistBackendOptions.");
        }

        RetryVerdict verdict = RetryVerdict.FromHttpResponse(response, Clock);
        return new HttpAttemptException(response.StatusCode, verdict with { Reason = shown }, null);
    }

    private GhostieSyncException RateLimitError(string operation, DateTimeOffset until, string reason) =>
        new(GhostieErrorCode.BackendUnavailable,
            $"{operation} for {DisplayName} was not done: GitHub's {reason} is exhausted until {until.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC, "
            + $"longer than the allowed wait of {_retry.MaxThrottleDelay.TotalSeconds:0} s. Try again after that time.", isTransient: true);

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.FirstOrDefault()?.Trim() : null;

    private static DateTimeOffset? ReadReset(HttpResponseMessage response) =>
        long.TryParse(Header(response, "x-ratelimit-reset"), NumberStyles.None, CultureInfo.InvariantCulture, out long epoch) ? DateTimeOffset.FromUnixTimeSeconds(epoch) : null;

    private void ObserveRateLimit(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            return;
        }

        string? remaining = Header(response, "x-ratelimit-remaining");
        lock (_gate)
        {
            _exhaustedUntil = remaining == "0" ? ReadReset(response) : null;
        }
    }

    private async Task WaitForRateLimitAsync(string operation, CancellationToken cancellationToken)
    {
        DateTimeOffset? until;
        lock (_gate)
        {
            until = _exhaustedUntil;
        }

        DateTimeOffset now = Clock.GetUtcNow();
        if (until is not DateTimeOffset reset || reset <= now)
        {
            return;
        }

        TimeSpan wait = reset - now;
        if (wait > _retry.MaxThrottleDelay)
        {
            throw RateLimitError(operation, reset, "primary rate limit");
        }

        Log.WaitingForRateLimit(_logger, wait.TotalSeconds, reset, operation);
        await Task.Delay(wait, Clock, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_exhaustedUntil == reset)
            {
                _exhaustedUntil = null;
            }
        }
    }

    private async Task PaceWriteAsync(CancellationToken cancellationToken)
    {
        if (_writeInterval <= TimeSpan.Zero)
        {
            return;
        }

        TimeSpan wait;
        lock (_gate)
        {
            DateTimeOffset now = Clock.GetUtcNow();
            DateTimeOffset next = _lastWrite == DateTimeOffset.MinValue ? now : _lastWrite + _writeInterval;
            wait = next > now ? next - now : TimeSpan.Zero;
            _lastWrite = now + wait;
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, Clock, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<string?> ReadErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
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

            GitHubError? error = JsonSerializer.Deserialize(buffer.AsSpan(0, total), GistJsonContext.Default.GitHubError);
            string? message = error?.Message;
            if (string.IsNullOrWhiteSpace(message))
            {
                return null;
            }

            message = new string(message.Where(c => !char.IsControl(c)).Take(200).ToArray());
            return message;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
