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
}

/// <summary>
/// A loopback protocol double of the GitHub REST API for gists (the documented subset the backend uses): list gists
/// of the authenticated user with Link pagination, create, get, update (add, replace, rename, delete by null), delete;
/// raw_url serving full contents; one-megabyte content truncation and the 300-file listing truncation; GitHub's error
/// bodies; token check (401); primary rate limits (x-ratelimit-* headers, 403 when exhausted) and scripted secondary
/// limits (403/429 with retry-after); a per-gist size limit (422). HttpListener on 127.0.0.1.
/// </summary>
public sealed partial class GistDouble : IAsyncDisposable
{
    public const int DefaultContentLimit = 1024 * 1024;
    public const int FileListLimit = 300;
    private const string Docs = "https://docs.github.com/rest/gists/gists";
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, DoubleGist> _gists = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _blobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(HttpStatusCode Status, int? RetryAfter)> _secondary = new();
    private readonly string _blobRoot = Path.Combine(Path.GetTempPath(), "ghostie-gist-double-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly object _gate = new();

    // A pool of its own: the shared pool keeps big arrays per thread, which would inflate the heap the tests measure.
    private readonly ArrayPool<byte> _pool = ArrayPool<byte>.Create(16 * 1024 * 1024, 8);
    private readonly Task _loop;
    private long _blobCounter;
    private int _apiRequests;
    private int _rawRequests;
    private int _used;
    private DateTimeOffset _windowReset = DateTimeOffset.MinValue;

    public GistDouble(string token, TimeProvider? clock = null)
    {
        Token = token;
        Clock = clock ?? TimeProvider.System;
        Directory.CreateDirectory(_blobRoot);
        for (int tries = 0; ; tries++)
        {
            int port = ServerProcess.FreePort();
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                BaseUri = new Uri($"http://127.0.0.1:{port}/");
                break;
            }
            catch (HttpListenerException) when (tries < 20)
            {
            }
        }

        _loop = Task.Run(AcceptLoopAsync);
    }

    public Uri BaseUri { get; } = null!;

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
                Files = new SortedDictionary<string, DoubleFile>(g.Files, StringComparer.Ordinal),
            }).ToList();
        }
    }

    public IReadOnlyList<DoubleGist> GistsTagged(string tag) => Gists().Where(g => g.Description == "ghostie-sync:" + tag).ToList();

    /// <summary>Creates a gist directly (foreign gists, hand-made damage).</summary>
    public string Seed(string description, IReadOnlyDictionary<string, string> files)
    {
        var gist = new DoubleGist { Id = NewId(), Description = description, CreatedAt = Now(), UpdatedAt = Now() };
        foreach ((string name, string content) in files)
        {
            gist.Files[name] = StoreBlob(name, Encoding.UTF8.GetBytes(content));
        }

        lock (_gate)
        {
            _gists[gist.Id] = gist;
        }

        return gist.Id;
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
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
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

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        HttpListenerResponse response = context.Response;
        try
        {
            await RouteAsync(context.Request, response).ConfigureAwait(false);
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
        if (path.StartsWith("/raw/", StringComparison.Ordinal) && request.HttpMethod == "GET")
        {
            Interlocked.Increment(ref _rawRequests);
            await ServeRawAsync(path, response).ConfigureAwait(false);
            return;
        }

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

        string? auth = request.Headers["Authorization"];
        if (auth != "Bearer " + Token && auth != "token " + Token)
        {
            await ErrorAsync(response, 401, "Bad credentials").ConfigureAwait(false);
            return;
        }

        if (_secondary.TryDequeue(out (HttpStatusCode Status, int? RetryAfter) limit))
        {
            if (limit.RetryAfter is int seconds)
            {
                response.AddHeader("retry-after", seconds.ToString(CultureInfo.InvariantCulture));
            }

            AddRateHeaders(response, consume: false);
            await ErrorAsync(response, (int)limit.Status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.").ConfigureAwait(false);
            return;
        }

        if (!AddRateHeaders(response, consume: true))
        {
            await ErrorAsync(response, 403, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.").ConfigureAwait(false);
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

    private async Task ServeRawAsync(string path, HttpListenerResponse response)
    {
        // /raw/{gist}/{blob}/{file}
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string? blobPath = null;
        if (parts.Length == 4)
        {
            lock (_gate)
            {
                if (_gists.ContainsKey(parts[1]) && _blobs.TryGetValue(parts[2], out string? found))
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

        response.StatusCode = 200;
        response.ContentType = "text/plain; charset=utf-8";
        await using var file = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        response.ContentLength64 = file.Length;
        await file.CopyToAsync(response.OutputStream).ConfigureAwait(false);
    }

    private async Task ListAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        int perPage = int.TryParse(request.QueryString["per_page"], NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? Math.Clamp(p, 1, 100) : 30;
        int page = int.TryParse(request.QueryString["page"], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n : 1;
        List<DoubleGist> all;
        lock (_gate)
        {
            all = _gists.Values.OrderByDescending(g => g.CreatedAt).ThenByDescending(g => g.Id, StringComparer.Ordinal).ToList();
        }

        int last = Math.Max(1, (all.Count + perPage - 1) / perPage);
        var links = new List<string>();
        string Link(int target, string rel) => $"<{BaseUri}gists?per_page={perPage}&page={target}>; rel=\"{rel}\"";
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
                Files = new SortedDictionary<string, DoubleFile>(gist.Files, StringComparer.Ordinal),
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
            writer.WriteString("raw_url", $"{BaseUri}raw/{gist.Id}/{file.BlobId}/{Uri.EscapeDataString(file.Name)}");
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
