using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ghostie.Sync.Testing;

/// <summary>A file or folder as the double stores it. Content lives in a blob file on disk (a 64 MiB object does not sit on
/// the test process's heap).</summary>
public sealed class DropboxNode
{
    public required string DisplayPath { get; set; }
    public required bool IsFolder { get; init; }
    public required string Id { get; init; }
    public string Rev { get; set; } = "";
    public string BlobPath { get; set; } = "";
    public long Size { get; set; }
    public string ContentHash { get; set; } = "";
    public DateTimeOffset ServerModified { get; set; }
}

/// <summary>
/// A loopback protocol double of the Dropbox API v2 (the documented subset an app-folder backend uses), written from
/// Dropbox's documentation, rule by rule:
/// <list type="bullet">
/// <item>HTTP documentation (https://www.dropbox.com/developers/documentation/http/documentation): RPC endpoints on the
/// API host take JSON bodies; content endpoints on the content host take their argument in the <c>Dropbox-API-Arg</c>
/// header, and downloads return their result in the <c>Dropbox-API-Result</c> header; HTTP range requests on downloads;
/// errors: 400 plain text (bad input), 401 JSON AuthError, 409 endpoint-specific JSON <c>{error_summary, error}</c>,
/// 429 with <c>Retry-After</c> (JSON RateLimitError or plain text), 5xx.</item>
/// <item>JSON encoding (https://www.dropbox.com/developers/reference/json-encoding): the header argument must be
/// "HTTP header safe" (0x7F and every non-ASCII character escaped as \uXXXX).</item>
/// <item>The API specification (github.com/dropbox/dropbox-api-spec, files.stone / auth.stone): WriteMode add / overwrite
/// / update(rev), autorename, strict_conflict, the conflict rules (a)-(c), UploadError / WriteError / LookupError /
/// DeleteError / UploadSessionLookupError (incorrect_offset with correct_offset, not_found, closed), content_hash
/// checks (content_hash_mismatch), list_folder / list_folder/continue with cursor and has_more, ListFolderContinueError
/// reset, delete_v2 with parent_rev, get_metadata, AuthError (invalid_access_token, expired_access_token,
/// missing_scope), RateLimitError (too_many_requests, too_many_write_operations, retry_after).</item>
/// <item>Content hash (https://www.dropbox.com/developers/reference/content-hash): <see cref="DropboxContentHash"/>.</item>
/// <item>Data ingress guide (https://www.dropbox.com/developers/reference/data-ingress-guide): 429 bodies may be JSON or
/// plain text; plain text means too_many_requests.</item>
/// </list>
/// The root of the namespace is the app folder (App folder access type): every path is relative to it. HttpListener on
/// 127.0.0.1, one port for the API host and one for the content host.
/// </summary>
public sealed partial class DropboxDouble : IAsyncDisposable
{
    /// <summary>The largest request payload Dropbox accepts on a content endpoint (150 MiB).</summary>
    public const long MaxPayload = 150L * 1024 * 1024;

    private static readonly JsonWriterOptions HeaderSafe = new() { Encoder = JavaScriptEncoder.Default };
    private readonly HttpListener _listener = new();
    private readonly object _gate = new();
    private readonly Dictionary<string, DropboxNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DropboxNode> _revisions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ListCursor> _cursors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TokenState> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Injected> _injected = new();
    private readonly string _blobRoot = Path.Combine(Path.GetTempPath(), "ghostie-dropbox-double-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly Task _loop;
    private long _counter;
    private int _dropResponses;
    private int _breakDownloads;
    private long _breakAfter;
    private int _corruptDownloads;
    private int _corruptCommits;

    /// <summary>Starts the double with one valid access token (granted every scope).</summary>
    /// <param name="token">The access token the double accepts.</param>
    /// <param name="clock">The clock for server_modified and session expiry (default the system clock).</param>
    public DropboxDouble(string token, TimeProvider? clock = null)
    {
        Clock = clock ?? TimeProvider.System;
        AddToken(token);
        Directory.CreateDirectory(_blobRoot);
        for (int tries = 0; ; tries++)
        {
            int api = ServerProcess.FreePort();
            int content = ServerProcess.FreePort();
            if (api == content)
            {
                continue;
            }

            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{api}/");
                _listener.Prefixes.Add($"http://127.0.0.1:{content}/");
                _listener.Start();
                ApiUri = new Uri($"http://127.0.0.1:{api}/");
                ContentUri = new Uri($"http://127.0.0.1:{content}/");
                break;
            }
            catch (HttpListenerException) when (tries < 20)
            {
            }
        }

        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The scopes an app-folder backend needs (https://www.dropbox.com/developers/reference/auth-types, scopes).</summary>
    public static IReadOnlyList<string> AllScopes { get; } = ["files.metadata.read", "files.content.read", "files.content.write"];

    /// <summary>Stands for https://api.dropboxapi.com/ (RPC endpoints).</summary>
    public Uri ApiUri { get; } = null!;

    /// <summary>Stands for https://content.dropboxapi.com/ (content-upload and content-download endpoints).</summary>
    public Uri ContentUri { get; } = null!;

    /// <summary>The clock.</summary>
    public TimeProvider Clock { get; set; }

    /// <summary>The most entries a list_folder page holds, whatever the request's limit (default 2000, Dropbox's maximum).</summary>
    public int MaxPageSize { get; set; } = 2000;

    /// <summary>Entries per page when the request gives no limit (Dropbox does not document it; 500 here).</summary>
    public int DefaultPageSize { get; set; } = 500;

    /// <summary>How long an upload session lives (7 days, files.stone upload_session/start).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Every request seen: "host route" (for example "content files/upload"), in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The Dropbox-API-Arg header of every content request, in order (to check header safety and arguments).</summary>
    public ConcurrentQueue<string> ContentArgs { get; } = new();

    /// <summary>The Range header of every download that had one.</summary>
    public ConcurrentQueue<string> Ranges { get; } = new();

    /// <summary>Accepts another access token, granted <paramref name="scopes"/> (default all of <see cref="AllScopes"/>).</summary>
    public void AddToken(string token, params string[] scopes) =>
        _tokens[token] = new TokenState(scopes.Length == 0 ? [.. AllScopes] : [.. scopes], Expired: false);

    /// <summary>From now on the token is answered 401 expired_access_token (an access token's short life ended).</summary>
    public void ExpireToken(string token)
    {
        if (_tokens.TryGetValue(token, out TokenState? state))
        {
            _tokens[token] = state with { Expired = true };
        }
    }

    /// <summary>Revokes a token: from now on it is answered 401 invalid_access_token.</summary>
    public void RevokeToken(string token) => _tokens.TryRemove(token, out _);

    /// <summary>The next <paramref name="count"/> requests get 429: a JSON RateLimitError with <paramref name="reason"/>
    /// (too_many_requests or too_many_write_operations) and retry_after, or, when <paramref name="json"/> is false, a plain
    /// text body; always a Retry-After header.</summary>
    public void InjectRateLimit(int count, string reason, int retryAfterSeconds, bool json = true)
    {
        for (int i = 0; i < count; i++)
        {
            _injected.Enqueue(new Injected(429, reason, retryAfterSeconds, json, WritesOnly: false));
        }
    }

    /// <summary>The next <paramref name="count"/> write requests (upload, session finish, delete) get the endpoint's own
    /// 409 too_many_write_operations (namespace lock contention), with no Retry-After.</summary>
    public void InjectWriteContention(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _injected.Enqueue(new Injected(409, "too_many_write_operations", 0, true, WritesOnly: true));
        }
    }

    /// <summary>The next <paramref name="count"/> requests are carried out, but the connection is cut instead of answering
    /// (the client never learns the outcome).</summary>
    public void DropNextResponses(int count) => Interlocked.Add(ref _dropResponses, count);

    /// <summary>The next <paramref name="count"/> downloads send <paramref name="afterBytes"/> bytes of the body, then cut the connection.</summary>
    public void BreakNextDownloads(int count, long afterBytes)
    {
        Interlocked.Exchange(ref _breakAfter, afterBytes);
        Interlocked.Add(ref _breakDownloads, count);
    }

    /// <summary>The next <paramref name="count"/> downloads serve one byte altered (the Dropbox-API-Result header stays true).</summary>
    public void CorruptNextDownloads(int count) => Interlocked.Add(ref _corruptDownloads, count);

    /// <summary>The next <paramref name="count"/> commits store the content with one byte altered (damage after the request
    /// was checked); the metadata returned and stored describes what was stored.</summary>
    public void CorruptNextCommits(int count) => Interlocked.Add(ref _corruptCommits, count);

    /// <summary>Invalidates every list_folder cursor: list_folder/continue answers 409 reset.</summary>
    public void ResetListCursors()
    {
        lock (_gate)
        {
            foreach (ListCursor cursor in _cursors.Values)
            {
                cursor.Reset = true;
            }
        }
    }

    /// <summary>The files and folders stored, by lowercased path (copies).</summary>
    public IReadOnlyDictionary<string, DropboxNode> Snapshot()
    {
        lock (_gate)
        {
            return _nodes.ToDictionary(p => p.Key, p => new DropboxNode
            {
                DisplayPath = p.Value.DisplayPath, IsFolder = p.Value.IsFolder, Id = p.Value.Id, Rev = p.Value.Rev, BlobPath = p.Value.BlobPath,
                Size = p.Value.Size, ContentHash = p.Value.ContentHash, ServerModified = p.Value.ServerModified,
            }, StringComparer.Ordinal);
        }
    }

    /// <summary>The content of the file at <paramref name="path"/> (for example "/h/laptop"), or null.</summary>
    public byte[]? ReadFile(string path)
    {
        lock (_gate)
        {
            return _nodes.TryGetValue(path.ToLowerInvariant(), out DropboxNode? node) && !node.IsFolder ? File.ReadAllBytes(node.BlobPath) : null;
        }
    }

    /// <summary>Upload sessions started and not yet finished.</summary>
    public int OpenSessions
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Values.Count(s => !s.Finished);
            }
        }
    }

    /// <inheritdoc />
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

    private sealed record TokenState(HashSet<string> Scopes, bool Expired);

    private sealed record Injected(int Status, string Reason, int RetryAfter, bool Json, bool WritesOnly);

    private sealed class UploadSession
    {
        public required string BlobPath { get; init; }
        public long Offset { get; set; }
        public bool Closed { get; set; }
        public bool Finished { get; set; }
        public DateTimeOffset Created { get; init; }
    }

    private sealed class ListCursor
    {
        public required List<DropboxNode> Entries { get; init; }
        public int Position { get; set; }
        public int Limit { get; init; }
        public bool Reset { get; set; }
    }

    /// <summary>An endpoint's 409 answer: <c>{"error_summary": "a/b/c/...", "error": {...}}</c>.</summary>
    private sealed class RouteError(string summary, Action<Utf8JsonWriter> error) : Exception(summary)
    {
        public string Summary { get; } = summary;
        public Action<Utf8JsonWriter> Error { get; } = error;
    }

    /// <summary>A 400 answer: plain text naming the problem, as Dropbox answers bad input.</summary>
    private sealed class BadInput(string message) : Exception(message);

    private string NewId() => "id:" + Convert.ToBase64String(BitConverter.GetBytes(Interlocked.Increment(ref _counter))).TrimEnd('=').Replace('+', '-').Replace('/', '_') + "AAAAAAAAA";

    // Rev: files.stone alias Rev = String(min_length=9, pattern="[0-9a-f]+").
    private string NewRev() => Interlocked.Increment(ref _counter).ToString("x9", CultureInfo.InvariantCulture) + Random.Shared.Next(0x10000).ToString("x4", CultureInfo.InvariantCulture);

    private string NewBlobPath() => Path.Combine(_blobRoot, Interlocked.Increment(ref _counter).ToString("x8", CultureInfo.InvariantCulture));

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
            var reply = new Reply(response);
            await RouteAsync(context.Request, reply).ConfigureAwait(false);
            if (reply.Aborted)
            {
                return;
            }

            if (TakeOne(ref _dropResponses))
            {
                // Carried out, never answered: the headers promise a body that never comes, then the connection is cut.
                response.StatusCode = 200;
                response.ContentLength64 = 1024;
                await response.OutputStream.FlushAsync().ConfigureAwait(false);
                response.Abort();
                return;
            }

            await reply.SendAsync().ConfigureAwait(false);
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

    /// <summary>An answer being built; sent after the route, unless the connection is to be dropped.</summary>
    private sealed class Reply(HttpListenerResponse response)
    {
        public HttpListenerResponse Response { get; } = response;
        public int Status { get; set; } = 200;
        public string ContentType { get; set; } = "application/json";
        public byte[] Body { get; set; } = [];
        public Func<HttpListenerResponse, Task>? Streamer { get; set; }
        public bool Aborted { get; set; }

        public async Task SendAsync()
        {
            Response.StatusCode = Status;
            Response.ContentType = ContentType;
            if (Streamer is not null)
            {
                await Streamer(Response).ConfigureAwait(false);
                return;
            }

            Response.ContentLength64 = Body.Length;
            await Response.OutputStream.WriteAsync(Body).ConfigureAwait(false);
        }
    }

    private static byte[] Json(Action<Utf8JsonWriter> write, bool headerSafe = false)
    {
        using var memory = new MemoryStream();
        using (var writer = new Utf8JsonWriter(memory, headerSafe ? HeaderSafe : default))
        {
            write(writer);
        }

        return memory.ToArray();
    }

    private static void Text(Reply reply, int status, string text)
    {
        reply.Status = status;
        reply.ContentType = "text/plain; charset=utf-8";
        reply.Body = Encoding.UTF8.GetBytes(text);
    }

    private static void JsonError(Reply reply, int status, string summary, Action<Utf8JsonWriter> error)
    {
        reply.Status = status;
        reply.ContentType = "application/json";
        reply.Body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("error_summary", summary + "/...");
            w.WritePropertyName("error");
            error(w);
            w.WriteEndObject();
        });
    }

    /// <summary>A union value: <c>{".tag": tag}</c>, with optional fields written by <paramref name="fields"/>.</summary>
    private static Action<Utf8JsonWriter> Tag(string tag, Action<Utf8JsonWriter>? fields = null) => w =>
    {
        w.WriteStartObject();
        w.WriteString(".tag", tag);
        fields?.Invoke(w);
        w.WriteEndObject();
    };

    /// <summary>A union member whose value is another union: <c>{".tag": tag, tag: inner}</c>.</summary>
    private static Action<Utf8JsonWriter> Nested(string tag, Action<Utf8JsonWriter> inner) => Tag(tag, w =>
    {
        w.WritePropertyName(tag);
        inner(w);
    });

    private async Task RouteAsync(HttpListenerRequest request, Reply reply)
    {
        bool content = request.Url!.Port == ContentUri.Port;
        string path = request.Url.AbsolutePath;
        if (!path.StartsWith("/2/", StringComparison.Ordinal))
        {
            Text(reply, 404, "Unknown API version.");
            return;
        }

        string route = path[3..];
        Requests.Enqueue((content ? "content " : "api ") + route);
        if (request.HttpMethod != "POST")
        {
            Text(reply, 405, "Method not allowed; use POST.");
            return;
        }

        if (!Routes.TryGetValue(route, out RouteInfo? info))
        {
            Text(reply, 404, $"Unknown API function: \"{route}\".");
            return;
        }

        // HTTP documentation: RPC endpoints are on the API host, content endpoints on the content host.
        if (info.Content != content)
        {
            Text(reply, 400, $"Error in call to API function \"{route}\": This function is on the {(info.Content ? "content" : "api")} host.");
            return;
        }

        string? authorization = request.Headers["Authorization"];
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            Text(reply, 400, $"Error in call to API function \"{route}\": Must provide HTTP header \"Authorization\" or URL parameter \"authorization\".");
            return;
        }

        // auth.stone AuthError, as 401 with a JSON body.
        if (!_tokens.TryGetValue(authorization[7..], out TokenState? token))
        {
            JsonError(reply, 401, "invalid_access_token", Tag("invalid_access_token"));
            return;
        }

        if (token.Expired)
        {
            JsonError(reply, 401, "expired_access_token", Tag("expired_access_token"));
            return;
        }

        if (!token.Scopes.Contains(info.Scope))
        {
            JsonError(reply, 401, "missing_scope", Tag("missing_scope", w => w.WriteString("required_scope", info.Scope)));
            return;
        }

        if (TakeInjected(info.Write) is Injected injected)
        {
            if (injected.Status == 429)
            {
                reply.Response.AddHeader("Retry-After", injected.RetryAfter.ToString(CultureInfo.InvariantCulture));
                if (injected.Json)
                {
                    JsonError(reply, 429, injected.Reason, w =>
                    {
                        w.WriteStartObject();
                        w.WritePropertyName("reason");
                        Tag(injected.Reason)(w);
                        w.WriteNumber("retry_after", injected.RetryAfter);
                        w.WriteEndObject();
                    });
                }
                else
                {
                    Text(reply, 429, "Too many requests");
                }
            }
            else
            {
                (string summary, Action<Utf8JsonWriter> error) = info.Contention();
                JsonError(reply, 409, summary, error);
            }

            return;
        }

        try
        {
            using JsonDocument arg = await ReadArgumentAsync(request, route, info).ConfigureAwait(false);
            CheckFields(route, arg.RootElement, info.Fields);
            await info.Handler(this, request, arg.RootElement, reply).ConfigureAwait(false);
        }
        catch (BadInput bad)
        {
            Text(reply, 400, bad.Message);
        }
        catch (RouteError error)
        {
            JsonError(reply, 409, error.Summary, error.Error);
        }
    }

    private Injected? TakeInjected(bool write)
    {
        if (!_injected.TryPeek(out Injected? next) || (next.WritesOnly && !write))
        {
            return null;
        }

        return _injected.TryDequeue(out Injected? taken) ? taken : null;
    }

    private async Task<JsonDocument> ReadArgumentAsync(HttpListenerRequest request, string route, RouteInfo info)
    {
        string prefix = $"Error in call to API function \"{route}\": ";
        if (!info.Content)
        {
            // RPC: the argument is the JSON request body.
            string? type = request.ContentType;
            if (type is null || !(type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || type == "text/plain; charset=dropbox-cors-hack"))
            {
                throw new BadInput(prefix + $"Bad HTTP \"Content-Type\" header: \"{type}\". Expecting one of \"application/json\", \"application/json; charset=utf-8\", \"text/plain; charset=dropbox-cors-hack\".");
            }

            using var body = new MemoryStream();
            await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
            try
            {
                return JsonDocument.Parse(body.ToArray());
            }
            catch (JsonException)
            {
                throw new BadInput(prefix + "request body: could not decode input as JSON");
            }
        }

        // Content endpoints: the argument is in the Dropbox-API-Arg header, which must be HTTP header safe.
        string? header = request.Headers["Dropbox-API-Arg"];
        if (header is null)
        {
            throw new BadInput(prefix + "Must provide HTTP header \"Dropbox-API-Arg\" or URL parameter \"arg\".");
        }

        ContentArgs.Enqueue(header);
        if (header.Any(c => c >= 0x7F))
        {
            throw new BadInput(prefix + "HTTP header \"Dropbox-API-Arg\": could not decode input as JSON (non-ASCII characters must be escaped as \\uXXXX).");
        }

        // HttpListener decodes header bytes as Latin-1; anything at or above 0x7F was refused above.
        if (info.Upload && request.ContentType != "application/octet-stream" && request.ContentType != "text/plain; charset=dropbox-cors-hack")
        {
            throw new BadInput(prefix + $"Bad HTTP \"Content-Type\" header: \"{request.ContentType}\". Expecting one of \"application/octet-stream\", \"text/plain; charset=dropbox-cors-hack\".");
        }

        try
        {
            return JsonDocument.Parse(header);
        }
        catch (JsonException)
        {
            throw new BadInput(prefix + "HTTP header \"Dropbox-API-Arg\": could not decode input as JSON");
        }
    }

    private static void CheckFields(string route, JsonElement arg, IReadOnlySet<string> known)
    {
        if (arg.ValueKind == JsonValueKind.Null && known.Count == 0)
        {
            return;
        }

        if (arg.ValueKind != JsonValueKind.Object)
        {
            throw new BadInput($"Error in call to API function \"{route}\": request body: expected an object");
        }

        foreach (JsonProperty property in arg.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                throw new BadInput($"Error in call to API function \"{route}\": request body: unknown field \"{property.Name}\"");
            }
        }
    }

    private static string? OptionalString(JsonElement arg, string name) =>
        arg.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool OptionalBool(JsonElement arg, string name, bool fallback, string route)
    {
        if (!arg.TryGetProperty(name, out JsonElement value))
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new BadInput($"Error in call to API function \"{route}\": request body: {name}: expected boolean"),
        };
    }

    private static string RequiredString(JsonElement arg, string name, string route) =>
        OptionalString(arg, name) ?? throw new BadInput($"Error in call to API function \"{route}\": request body: missing required field \"{name}\"");
}
