using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ghostie.Sync.Testing;

/// <summary>A file of a gist as the double stores it (content in a blob file on disk, so a 64 MiB object does not sit
/// on the test process's managed heap).</summary>
public sealed record DoubleFile(string Name, string BlobId, long Size);

/// <summary>A gist as the double stores it.</summary>
public sealed class DoubleGist
{
    public required string Id { get; init; }
    public string Description { get; set; } = "";
    public bool Public { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public SortedDictionary<string, DoubleFile> Files { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The double's order of writes: GitHub shows updated_at in whole seconds but orders listings by the
    /// full time, so two gists edited in one second still list newest first. Higher is more recent.</summary>
    public long UpdateSequence { get; set; }
}

/// <summary>One request the double answered (API or raw host), with the double's clock at its arrival.</summary>
public sealed record DoubleRequest(DateTimeOffset At, string Method, string PathAndQuery, int Status, bool Raw, bool HadAuthorization);

/// <summary>
/// A loopback protocol double of the GitHub REST API for gists, written rule by rule from GitHub's documentation
/// (each rule cites its page; the rules are tested in GistDoubleRuleTests):
/// <list type="bullet">
/// <item>List gists for the authenticated user (https://docs.github.com/rest/gists/gists#list-gists-for-the-authenticated-user):
/// newest <c>updated_at</c> first, <c>per_page</c> (default 30, max 100) and <c>page</c> (default 1), <c>since</c>
/// (only gists updated at or after it), <c>Link</c> headers (https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api).
/// Every page request is answered from the gists as they are at that moment, so a gist created, updated or deleted by
/// another client between two page requests shifts the later pages exactly as real page-numbered paging does
/// (<see cref="BeforeListPage"/> lets a test be that other client).</item>
/// <item>Create, get, update (add, replace, rename, delete by null), delete (https://docs.github.com/rest/gists/gists);
/// file contents in API answers cut at one megabyte with <c>truncated</c>, file lists cut at 300 files; the full
/// content through <c>raw_url</c> up to ten megabytes, larger files only by cloning (the raw host refuses them).</item>
/// <item><c>raw_url</c> points at a host of its own (gist.githubusercontent.com on GitHub; here another loopback
/// address) that needs no token; <see cref="RawRequestsWithAuthorization"/> counts raw requests that carried one.</item>
/// <item>Authentication: 401 "Bad credentials" for a wrong token; a token without the <c>gist</c> scope gets 404 Not
/// Found, not 403 (https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api, and the gists
/// page's source); classic tokens' answers carry <c>X-OAuth-Scopes</c> and <c>X-Accepted-OAuth-Scopes</c>
/// (https://docs.github.com/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps).</item>
/// <item>Rate limits (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api): x-ratelimit-*
/// headers; the primary limit spent answers 403 (or 429, <see cref="PrimaryLimitStatus"/>) with
/// x-ratelimit-remaining 0; scripted secondary limits answer 403 or 429, with <c>retry-after</c> when scripted so;
/// with <see cref="EnforceRetryWaits"/> a request sent before the documented wait (retry-after, else one minute) has
/// passed meets the secondary limit again and is counted in <see cref="EarlyRetries"/>.</item>
/// <item>GitHub's error bodies (message, documentation_url, status); a per-gist size limit (422, not documented).</item>
/// </list>
/// HttpListener on 127.0.0.1 (API) and 127.0.0.2 (raw host; another port on 127.0.0.1 where that address is missing).
/// </summary>
public sealed partial class GistDouble : IAsyncDisposable
{
    public const int DefaultContentLimit = 1024 * 1024;
    public const int FileListLimit = 300;

    /// <summary>Files larger than ten megabytes are not served by raw_url ("you'll need to clone the gist").</summary>
    public const long DefaultRawFileLimit = 10_000_000;

    /// <summary>What GitHub asks for when no retry-after comes with a secondary limit: "wait for at least one minute".</summary>
    public static readonly TimeSpan SecondaryLimitMinimumWait = TimeSpan.FromMinutes(1);
    private const string Docs = "https://docs.github.com/rest/gists/gists";
    private readonly HttpListener _listener = new();
    private readonly HttpListener _rawListener = new();
    private readonly ConcurrentQueue<(long Arrival, DoubleRequest Request)> _requests = new();
    private readonly Dictionary<string, DoubleGist> _gists = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _blobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(HttpStatusCode Status, int? RetryAfter)> _secondary = new();
    private readonly string _blobRoot = Path.Combine(Path.GetTempPath(), "ghostie-gist-double-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly object _gate = new();

    // A pool of its own: the shared pool keeps big arrays per thread, which would inflate the heap the tests measure.
    private readonly ArrayPool<byte> _pool = ArrayPool<byte>.Create(16 * 1024 * 1024, 8);
    private readonly Task _loop;
    private readonly Task _rawLoop;
    private long _blobCounter;
    private long _sequence;
    private long _arrivals;
    private int _rawWithAuthorization;
    private int _earlyRetries;
    private DateTimeOffset _penaltyUntil = DateTimeOffset.MinValue;
    private int _lastSecondaryStatus = 403;
    private int _apiRequests;
    private int _rawRequests;
    private int _used;
    private DateTimeOffset _windowReset = DateTimeOffset.MinValue;

    public GistDouble(string token, TimeProvider? clock = null)
    {
        Token = token;
        Clock = clock ?? TimeProvider.System;
        Directory.CreateDirectory(_blobRoot);
        BaseUri = Start(_listener, "127.0.0.1");
        try
        {
            RawBaseUri = Start(_rawListener, "127.0.0.2");
        }
        catch (HttpListenerException)
        {
            RawBaseUri = Start(_rawListener, "127.0.0.1");
        }

        _loop = Task.Run(() => AcceptLoopAsync(_listener, raw: false));
        _rawLoop = Task.Run(() => AcceptLoopAsync(_rawListener, raw: true));
    }

    private static Uri Start(HttpListener listener, string host)
    {
        for (int tries = 0; ; tries++)
        {
            int port = ServerProcess.FreePort();
            try
            {
                listener.Prefixes.Clear();
                listener.Prefixes.Add($"http://{host}:{port}/");
                listener.Start();
                return new Uri($"http://{host}:{port}/");
            }
            catch (HttpListenerException) when (tries < 20)
            {
            }
        }
    }

    /// <summary>The API host (api.github.com).</summary>
    public Uri BaseUri { get; }

    /// <summary>The host raw_urls point at (gist.githubusercontent.com): another address than <see cref="BaseUri"/>.</summary>
    public Uri RawBaseUri { get; }

    /// <summary>The token's OAuth scopes as X-OAuth-Scopes lists them (comma separated); without <c>gist</c> every gist
    /// endpoint answers 404. Null: a fine-grained token, which sends no X-OAuth-Scopes header.</summary>
    public string? Scopes { get; set; } = "repo, gist";

    /// <summary>Status of an answer when the primary limit is spent: GitHub documents 403 or 429.</summary>
    public HttpStatusCode PrimaryLimitStatus { get; set; } = HttpStatusCode.Forbidden;

    /// <summary>When set, a request sent while a secondary limit's wait (retry-after, else one minute) still runs meets
    /// the limit again, as GitHub warns; off by default because many tests give the client a clock the double does not share.</summary>
    public bool EnforceRetryWaits { get; set; }

    /// <summary>Requests sent before a secondary limit's wait had passed (counted whether or not enforced).</summary>
    public int EarlyRetries => Volatile.Read(ref _earlyRetries);

    /// <summary>Files larger than this are refused by the raw host (ten megabytes, as GitHub documents).</summary>
    public long RawFileLimit { get; set; } = DefaultRawFileLimit;

    /// <summary>Runs before a listing page is answered, with its page number: a test acting as another client changes
    /// gists here, between two page requests of the client under test.</summary>
    public Func<int, Task>? BeforeListPage { get; set; }

    /// <summary>Raw-host requests that carried an Authorization header (the raw host needs none; a client that sends its
    /// token there hands it to another host).</summary>
    public int RawRequestsWithAuthorization => Volatile.Read(ref _rawWithAuthorization);

    /// <summary>Every request answered so far, in order of arrival. An entry is added once its answer is sent, so the
    /// last answer a client received may still be missing for a moment: see <see cref="RequestsAsync"/>.</summary>
    public IReadOnlyList<DoubleRequest> Requests => _requests.ToArray().OrderBy(r => r.Arrival).Select(r => r.Request).ToList();

    /// <summary><see cref="Requests"/> once it holds at least <paramref name="count"/> entries (at most 10 s).</summary>
    public async Task<IReadOnlyList<DoubleRequest>> RequestsAsync(int count)
    {
        for (int i = 0; i < 1000 && _requests.Count < count; i++)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        return Requests;
    }

    /// <summary>How much of a file's content get/create/update answers carry (one megabyte, as GitHub documents).</summary>
    public int ContentLimit { get; set; } = DefaultContentLimit;

    public string Token { get; set; }

    public TimeProvider Clock { get; set; }

    /// <summary>Makes gist ids (random 32 hex digits by default); tests set it to force an order among same-second gists.</summary>
    public Func<string> GistIds { get; set; } = () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The most bytes a gist's files may hold together (422 beyond).</summary>
    public long MaxGistBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Requests per window (primary rate limit).</summary>
    public int RateLimit { get; set; } = 5000;

    public TimeSpan RateWindow { get; set; } = TimeSpan.FromHours(1);

    public int ApiRequests => Volatile.Read(ref _apiRequests);

    public int RawRequests => Volatile.Read(ref _rawRequests);

    /// <summary>The next <paramref name="count"/> API requests hit a secondary rate limit.</summary>
    public void InjectSecondaryLimit(int count, HttpStatusCode status, int? retryAfterSeconds)
    {
        for (int i = 0; i < count; i++)
        {
            _secondary.Enqueue((status, retryAfterSeconds));
        }
    }

    public IReadOnlyList<DoubleGist> Gists()
    {
        lock (_gate)
        {
            return _gists.Values.Select(g => new DoubleGist
            {
                Id = g.Id, Description = g.Description, Public = g.Public, CreatedAt = g.CreatedAt, UpdatedAt = g.UpdatedAt,
                Files = new SortedDictionary<string, DoubleFile>(g.Files, StringComparer.Ordinal), UpdateSequence = g.UpdateSequence,
            }).ToList();
        }
    }

    public IReadOnlyList<DoubleGist> GistsTagged(string tag) => Gists().Where(g => g.Description == "ghostie-sync:" + tag).ToList();

    /// <summary>Creates a gist directly (foreign gists, hand-made damage, another device's write).</summary>
    public string Seed(string description, IReadOnlyDictionary<string, string> files)
    {
        var gist = new DoubleGist { Id = NewId(), Description = description, CreatedAt = Now(), UpdatedAt = Now() };
        foreach ((string name, string content) in files)
        {
            gist.Files[name] = StoreBlob(name, Encoding.UTF8.GetBytes(content));
        }

        lock (_gate)
        {
            gist.UpdateSequence = ++_sequence;
            _gists[gist.Id] = gist;
        }

        return gist.Id;
    }

    /// <summary>Changes a gist directly as another client's update would: files set (null content deletes the file)
    /// and updated_at moved to now, so the gist moves to the head of the listing.</summary>
    public void Edit(string gistId, IReadOnlyDictionary<string, string?> files)
    {
        var stored = files.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => StoreBlob(f.Key, Encoding.UTF8.GetBytes(f.Value!)));
        lock (_gate)
        {
            DoubleGist gist = _gists[gistId];
            var updated = new SortedDictionary<string, DoubleFile>(gist.Files, StringComparer.Ordinal);
            foreach ((string name, string? content) in files)
            {
                if (content is null)
                {
                    updated.Remove(name);
                }
                else
                {
                    updated[name] = stored[name];
                }
            }

            gist.Files = updated;
            Touch(gist);
        }
    }

    public void Remove(string gistId)
    {
        lock (_gate)
        {
            _gists.Remove(gistId);
        }
    }

    public byte[] ReadFile(string gistId, string fileName)
    {
        lock (_gate)
        {
            return File.ReadAllBytes(_blobs[_gists[gistId].Files[fileName].BlobId]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach ((HttpListener listener, Task loop) in new[] { (_listener, _loop), (_rawListener, _rawLoop) })
        {
            listener.Stop();
            listener.Close();
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }

        try
        {
            Directory.Delete(_blobRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private DateTimeOffset Now()
    {
        DateTimeOffset now = Clock.GetUtcNow();
        return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }

    private string NewId() => GistIds();

    /// <summary>Marks a gist as just updated (caller holds the gate).</summary>
    private void Touch(DoubleGist gist)
    {
        gist.UpdatedAt = Now();
        gist.UpdateSequence = ++_sequence;
    }

    private DoubleFile StoreBlob(string name, ReadOnlySpan<byte> content)
    {
        string id = Interlocked.Increment(ref _blobCounter).ToString("x8", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        string path = Path.Combine(_blobRoot, id);
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(content);
        }

        _blobs[id] = path;
        return new DoubleFile(name, id, content.Length);
    }

    private async Task AcceptLoopAsync(HttpListener listener, bool raw)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context, raw));
        }
    }

    private async Task HandleAsync(HttpListenerContext context, bool raw)
    {
        HttpListenerRequest request = context.Request;
        HttpListenerResponse response = context.Response;
        DateTimeOffset at = Clock.GetUtcNow();
        long arrival = Interlocked.Increment(ref _arrivals);
        try
        {
            if (raw)
            {
                await ServeRawAsync(request, response).ConfigureAwait(false);
            }
            else
            {
                await RouteAsync(request, response).ConfigureAwait(false);
            }

            _requests.Enqueue((arrival, new DoubleRequest(at, request.HttpMethod, request.Url!.PathAndQuery, response.StatusCode, raw, request.Headers["Authorization"] is not null)));
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            try
            {
                response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async Task RouteAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        string path = request.Url!.AbsolutePath;
        Interlocked.Increment(ref _apiRequests);
        if (string.IsNullOrEmpty(request.UserAgent))
        {
            await ErrorAsync(response, 403, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.").ConfigureAwait(false);
            return;
        }

        string? version = request.Headers["X-GitHub-Api-Version"];
        if (version is not null && version != "2022-11-28")
        {
            await ErrorAsync(response, 400, $"API version '{version}' is not supported.").ConfigureAwait(false);
            return;
        }

        // "Authorization: Bearer TOKEN" or "token TOKEN" (https://docs.github.com/rest/authentication/authenticating-to-the-rest-api);
        // the scheme is case-insensitive, as in every HTTP authentication scheme (RFC 9110 11.1).
        string[] auth = (request.Headers["Authorization"] ?? "").Split(' ', 2);
        if (auth.Length != 2 || !(auth[0].Equals("Bearer", StringComparison.OrdinalIgnoreCase) || auth[0].Equals("token", StringComparison.OrdinalIgnoreCase)) || auth[1] != Token)
        {
            await ErrorAsync(response, 401, "Bad credentials").ConfigureAwait(false);
            return;
        }

        // Scopes for OAuth apps: X-OAuth-Scopes lists the token's scopes, X-Accepted-OAuth-Scopes what the action checks for.
        string? scopes = Scopes;
        if (scopes is not null)
        {
            response.AddHeader("X-OAuth-Scopes", scopes);
        }

        bool gistEndpoint = path == "/gists" || path.StartsWith("/gists/", StringComparison.Ordinal);
        if (gistEndpoint)
        {
            response.AddHeader("X-Accepted-OAuth-Scopes", "gist");
        }

        if (SecondaryLimited(out int secondaryStatus, out int? retryAfter))
        {
            if (retryAfter is int seconds)
            {
                response.AddHeader("retry-after", seconds.ToString(CultureInfo.InvariantCulture));
            }

            AddRateHeaders(response, consume: false);
            await ErrorAsync(response, secondaryStatus, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.").ConfigureAwait(false);
            return;
        }

        if (!AddRateHeaders(response, consume: true))
        {
            await ErrorAsync(response, (int)PrimaryLimitStatus, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.").ConfigureAwait(false);
            return;
        }

        // The gists page: "When an OAuth client does not have the gists scope, the API will return a 404 'Not Found'
        // response regardless of the validity of the credentials"; troubleshooting: 404, not 403, so as to reveal nothing.
        if (gistEndpoint && scopes is not null && !scopes.Split(',', StringSplitOptions.TrimEntries).Contains("gist", StringComparer.Ordinal))
        {
            await ErrorAsync(response, 404, "Not Found").ConfigureAwait(false);
            return;
        }

        Match match = GistPath().Match(path);
        switch (request.HttpMethod, path)
        {
            case ("GET", "/gists"):
                await ListAsync(request, response).ConfigureAwait(false);
                return;
            case ("POST", "/gists"):
                await CreateAsync(request, response).ConfigureAwait(false);
                return;
        }

        if (!match.Success)
        {
            await ErrorAsync(response, 404, "Not Found").ConfigureAwait(false);
            return;
        }

        string id = match.Groups[1].Value;
        switch (request.HttpMethod)
        {
            case "GET":
                DoubleGist? gist = Find(id);
                if (gist is null)
                {
                    await ErrorAsync(response, 404, "Not Found").ConfigureAwait(false);
                    return;
                }

                await WriteGistAsync(response, 200, gist).ConfigureAwait(false);
                return;
            case "PATCH":
                await UpdateAsync(id, request, response).ConfigureAwait(false);
                return;
            case "DELETE":
                bool removed;
                lock (_gate)
                {
                    removed = _gists.Remove(id);
                }

                if (!removed)
                {
                    await ErrorAsync(response, 404, "Not Found").ConfigureAwait(false);
                    return;
                }

                response.StatusCode = 204;
                return;
            default:
                await ErrorAsync(response, 404, "Not Found").ConfigureAwait(false);
                return;
        }
    }

    /// <summary>A scripted secondary limit, or (rate limits page) a request sent before the last one's wait passed:
    /// "if the retry-after response header is present, you should not retry your request until after that many seconds
    /// has elapsed. Otherwise, you should wait for at least one minute before retrying."</summary>
    private bool SecondaryLimited(out int status, out int? retryAfter)
    {
        DateTimeOffset now = Clock.GetUtcNow();
        lock (_gate)
        {
            status = _lastSecondaryStatus;
            if (now < _penaltyUntil)
            {
                _earlyRetries++;
                if (EnforceRetryWaits)
                {
                    retryAfter = null;
                    return true;
                }
            }

            if (_secondary.TryDequeue(out (HttpStatusCode Status, int? RetryAfter) limit))
            {
                _lastSecondaryStatus = status = (int)limit.Status;
                retryAfter = limit.RetryAfter;
                _penaltyUntil = now + (limit.RetryAfter is int seconds ? TimeSpan.FromSeconds(seconds) : SecondaryLimitMinimumWait);
                return true;
            }
        }

        retryAfter = null;
        return false;
    }

    [GeneratedRegex("^/gists/([0-9a-zA-Z]+)$")]
    private static partial Regex GistPath();

    private DoubleGist? Find(string id)
    {
        lock (_gate)
        {
            return _gists.TryGetValue(id, out DoubleGist? gist) ? gist : null;
        }
    }

    /// <summary>Adds x-ratelimit-* headers; false when the budget is spent.</summary>
    private bool AddRateHeaders(HttpListenerResponse response, bool consume)
    {
        int used;
        DateTimeOffset reset;
        bool allowed;
        lock (_gate)
        {
            DateTimeOffset now = Clock.GetUtcNow();
            if (now >= _windowReset)
            {
                _used = 0;
                _windowReset = new DateTimeOffset((now + RateWindow).Ticks + TimeSpan.TicksPerSecond - 1 - ((now + RateWindow).Ticks + TimeSpan.TicksPerSecond - 1) % TimeSpan.TicksPerSecond, TimeSpan.Zero);
            }

            allowed = _used < RateLimit;
            if (allowed && consume)
            {
                _used++;
            }

            used = _used;
            reset = _windowReset;
        }

        response.AddHeader("x-ratelimit-limit", RateLimit.ToString(CultureInfo.InvariantCulture));
        response.AddHeader("x-ratelimit-remaining", Math.Max(0, RateLimit - used).ToString(CultureInfo.InvariantCulture));
        response.AddHeader("x-ratelimit-used", used.ToString(CultureInfo.InvariantCulture));
        response.AddHeader("x-ratelimit-reset", reset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        response.AddHeader("x-ratelimit-resource", "core");
        return allowed;
    }

    private static async Task ErrorAsync(HttpListenerResponse response, int status, string message, string? errorsJson = null)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        string body = "{\"message\":" + JsonSerializer.Serialize(message) + (errorsJson is null ? "" : ",\"errors\":" + errorsJson)
            + ",\"documentation_url\":\"" + Docs + "\",\"status\":\"" + status.ToString(CultureInfo.InvariantCulture) + "\"}";
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
    }

    /// <summary>The raw host: /{owner}/{gist}/raw/{blob}/{file}, as gist.githubusercontent.com's raw_urls. It needs no
    /// token and counts against no API rate limit; files over ten megabytes are refused ("for files larger than ten
    /// megabytes, you'll need to clone the gist via the URL provided by git_pull_url"; what the raw host answers then is
    /// not documented: the double answers 403 with a plain-text reason).</summary>
    private async Task ServeRawAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        Interlocked.Increment(ref _rawRequests);
        if (request.Headers["Authorization"] is not null)
        {
            Interlocked.Increment(ref _rawWithAuthorization);
        }

        string[] parts = request.Url!.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string? blobPath = null;
        if (request.HttpMethod == "GET" && parts.Length == 5 && parts[2] == "raw")
        {
            lock (_gate)
            {
                if (_gists.ContainsKey(parts[1]) && _blobs.TryGetValue(parts[3], out string? found))
                {
                    blobPath = found;
                }
            }
        }

        if (blobPath is null)
        {
            response.StatusCode = 404;
            byte[] notFound = "404: Not Found"u8.ToArray();
            await response.OutputStream.WriteAsync(notFound).ConfigureAwait(false);
            return;
        }

        await using var file = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        if (file.Length > RawFileLimit)
        {
            response.StatusCode = 403;
            byte[] tooLarge = "File too large to serve raw; clone the gist with git to read it."u8.ToArray();
            await response.OutputStream.WriteAsync(tooLarge).ConfigureAwait(false);
            return;
        }

        response.StatusCode = 200;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength64 = file.Length;
        await file.CopyToAsync(response.OutputStream).ConfigureAwait(false);
    }

    /// <summary>List gists for the authenticated user: newest updated_at first, per_page (default 30, at most 100),
    /// page (default 1), since ("only show results that were last updated after the given time", ISO 8601
    /// YYYY-MM-DDTHH:MM:SSZ; GitHub includes a gist updated exactly then). Each page is cut from the gists as they are
    /// when that page is asked for: nothing holds the order still between pages.</summary>
    private async Task ListAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        int perPage = int.TryParse(request.QueryString["per_page"], NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? Math.Clamp(p, 1, 100) : 30;
        int page = int.TryParse(request.QueryString["page"], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n : 1;
        string? sinceText = request.QueryString["since"];
        DateTimeOffset since = DateTimeOffset.MinValue;
        if (sinceText is not null && !DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out since))
        {
            await ErrorAsync(response, 422, "Invalid request.\n\nInvalid value for \"since\".").ConfigureAwait(false);
            return;
        }

        if (BeforeListPage is Func<int, Task> hook)
        {
            await hook(page).ConfigureAwait(false);
        }

        List<DoubleGist> all;
        lock (_gate)
        {
            all = _gists.Values.Where(g => g.UpdatedAt >= since)
                .OrderByDescending(g => g.UpdatedAt).ThenByDescending(g => g.UpdateSequence).ToList();
        }

        int last = Math.Max(1, (all.Count + perPage - 1) / perPage);
        var links = new List<string>();
        string sinceQuery = sinceText is null ? "" : "&since=" + Uri.EscapeDataString(sinceText);
        string Link(int target, string rel) => $"<{BaseUri}gists?per_page={perPage}{sinceQuery}&page={target}>; rel=\"{rel}\"";
        if (page < last)
        {
            links.Add(Link(page + 1, "next"));
            links.Add(Link(last, "last"));
        }

        if (page > 1)
        {
            links.Add(Link(1, "first"));
            links.Add(Link(page - 1, "prev"));
        }

        if (links.Count > 0)
        {
            response.AddHeader("Link", string.Join(", ", links));
        }

        List<DoubleGist> pageItems = all.Skip((page - 1) * perPage).Take(perPage).Select(Snapshot).ToList();
        await SendJsonAsync(response, 200, large: false, async writer =>
        {
            writer.WriteStartArray();
            foreach (DoubleGist gist in pageItems)
            {
                await WriteGistBodyAsync(writer, gist, withContent: false).ConfigureAwait(false);
            }

            writer.WriteEndArray();
        }).ConfigureAwait(false);
    }

    /// <summary>Small answers go out in one write with a Content-Length (chunked answers written piecemeal meet
    /// Nagle's algorithm and delayed ACKs: a 40 ms stall per answer); large ones are streamed in 64 KiB pieces.</summary>
    private static async Task SendJsonAsync(HttpListenerResponse response, int status, bool large, Func<Utf8JsonWriter, Task> write)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        if (large)
        {
            response.SendChunked = true;
            await using var buffered = new BufferedStream(response.OutputStream, 64 * 1024);
            await using (var writer = new Utf8JsonWriter(buffered))
            {
                await write(writer).ConfigureAwait(false);
                await writer.FlushAsync().ConfigureAwait(false);
            }

            await buffered.FlushAsync().ConfigureAwait(false);
            return;
        }

        using var memory = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(memory))
        {
            await write(writer).ConfigureAwait(false);
            await writer.FlushAsync().ConfigureAwait(false);
        }

        response.ContentLength64 = memory.Length;
        await response.OutputStream.WriteAsync(memory.GetBuffer().AsMemory(0, (int)memory.Length)).ConfigureAwait(false);
    }

    private DoubleGist Snapshot(DoubleGist gist)
    {
        lock (_gate)
        {
            return new DoubleGist
            {
                Id = gist.Id, Description = gist.Description, Public = gist.Public, CreatedAt = gist.CreatedAt, UpdatedAt = gist.UpdatedAt,
                Files = new SortedDictionary<string, DoubleFile>(gist.Files, StringComparer.Ordinal), UpdateSequence = gist.UpdateSequence,
            };
        }
    }

    private async Task WriteGistAsync(HttpListenerResponse response, int status, DoubleGist gist)
    {
        DoubleGist snapshot = Snapshot(gist);
        bool large = snapshot.Files.Values.Sum(f => Math.Min(f.Size, ContentLimit)) > 256 * 1024;
        await SendJsonAsync(response, status, large, writer => WriteGistBodyAsync(writer, snapshot, withContent: true)).ConfigureAwait(false);
    }

    private async Task WriteGistBodyAsync(Utf8JsonWriter writer, DoubleGist gist, bool withContent)
    {
        writer.WriteStartObject();
        writer.WriteString("url", $"{BaseUri}gists/{gist.Id}");
        writer.WriteString("id", gist.Id);
        writer.WriteString("html_url", $"https://gist.github.com/{gist.Id}");
        writer.WriteString("git_pull_url", $"https://gist.github.com/{gist.Id}.git");
        writer.WriteString("description", gist.Description);
        writer.WriteBoolean("public", gist.Public);
        writer.WriteString("created_at", gist.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        writer.WriteString("updated_at", gist.UpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        writer.WriteStartObject("owner");
        writer.WriteString("login", "octo-double");
        writer.WriteNumber("id", 1);
        writer.WriteEndObject();
        writer.WriteNumber("comments", 0);
        writer.WriteStartObject("files");
        foreach (DoubleFile file in gist.Files.Values.Take(FileListLimit))
        {
            writer.WriteStartObject(file.Name);
            writer.WriteString("filename", file.Name);
            writer.WriteString("type", "text/plain");
            writer.WriteNull("language");
            writer.WriteString("raw_url", $"{RawBaseUri}octo-double/{gist.Id}/raw/{file.BlobId}/{Uri.EscapeDataString(file.Name)}");
            writer.WriteNumber("size", file.Size);
            if (withContent)
            {
                writer.WriteBoolean("truncated", file.Size > ContentLimit);
                writer.WritePropertyName("content");
                await WriteContentAsync(writer, file).ConfigureAwait(false);
            }

            writer.WriteEndObject();
            if (writer.BytesPending > 32 * 1024)
            {
                await writer.FlushAsync().ConfigureAwait(false);
            }
        }

        writer.WriteEndObject();
        writer.WriteBoolean("truncated", gist.Files.Count > FileListLimit);
        writer.WriteEndObject();
    }

    /// <summary>The file's content as a JSON string, cut at one megabyte, streamed from disk in slices.</summary>
    private async Task WriteContentAsync(Utf8JsonWriter writer, DoubleFile file)
    {
        if (!_blobs.TryGetValue(file.BlobId, out string? path))
        {
            writer.WriteStringValue("");
            return;
        }

        byte[] slice = _pool.Rent(64 * 1024);
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
            long remaining = Math.Min(stream.Length, ContentLimit);
            if (remaining == 0)
            {
                writer.WriteStringValue("");
                return;
            }

            while (remaining > 0)
            {
                int read = await stream.ReadAsync(slice.AsMemory(0, (int)Math.Min(slice.Length, remaining))).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                remaining -= read;
                writer.WriteStringValueSegment(slice.AsSpan(0, read), isFinalSegment: remaining == 0);
                await writer.FlushAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _pool.Return(slice);
        }
    }
}
