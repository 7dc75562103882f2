using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Testing;

/// <summary>A file (or folder) as the Drive double stores it. Content lives in a blob file on disk, so a 64 MiB object
/// does not sit on the test process's managed heap.</summary>
public sealed class DriveDoubleFile
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    public required string Space { get; init; }
    public List<string> Parents { get; init; } = [];
    public string MimeType { get; set; } = "application/octet-stream";
    public DateTimeOffset CreatedTime { get; init; }
    public DateTimeOffset ModifiedTime { get; set; }
    public long Size { get; set; }
    public long Version { get; set; } = 1;
    public bool Trashed { get; set; }
    public string? BlobPath { get; set; }
    public Dictionary<string, string> AppProperties { get; init; } = new(StringComparer.Ordinal);
    public bool IsFolder => MimeType == DriveDouble.FolderMimeType;

    internal DriveDoubleFile Copy() => new()
    {
        Id = Id, Name = Name, Space = Space, Parents = [.. Parents], MimeType = MimeType, CreatedTime = CreatedTime,
        ModifiedTime = ModifiedTime, Size = Size, Version = Version, Trashed = Trashed, BlobPath = BlobPath,
        AppProperties = new Dictionary<string, string>(AppProperties, StringComparer.Ordinal),
    };
}

/// <summary>
/// A loopback protocol double of the Google Drive API v3, the documented subset a storage client uses, written from
/// Google's documentation, one rule at a time (each rule below names its page; every rule has a test in
/// tests/Ghostie.Sync.Backends.GoogleDrive.Tests/DriveDoubleRuleTests.cs):
/// <list type="bullet">
/// <item>files.list (https://developers.google.com/drive/api/reference/rest/v3/files/list): <c>q</c>, <c>spaces</c>,
/// <c>pageSize</c> 1-1000 (default 100), <c>pageToken</c> / <c>nextPageToken</c> absent on the last page; pages may be
/// short or empty before the end ("Partial or empty result pages are possible even before the end of the files list
/// has been reached"); a rejected page token is a 400.</item>
/// <item>the search grammar subset (https://developers.google.com/drive/api/guides/search-files and ref-search-terms):
/// <c>'ID' in parents</c>, <c>name = '...'</c>, <c>trashed = false</c>, <c>mimeType = / != '...'</c>,
/// <c>appProperties has { key='k' and value='v' }</c>, joined with <c>and</c>; quotes escaped with a backslash.</item>
/// <item>the application data folder (https://developers.google.com/drive/api/guides/appdata): files created with
/// <c>parents: ["appDataFolder"]</c>, listed only with <c>spaces=appDataFolder</c>, reachable only with the
/// <c>drive.appdata</c> (or <c>drive</c>) scope.</item>
/// <item>duplicate names: Drive identifies files by id, and two files in one folder may have the same name
/// (https://developers.google.com/drive/api/guides/about-files: "Drive ... files are identified by ID, not name").</item>
/// <item>appProperties (https://developers.google.com/drive/api/guides/properties): private to the app, at most 30 per
/// app per file, at most 124 bytes of UTF-8 per key plus value; searchable.</item>
/// <item>uploads (https://developers.google.com/drive/api/guides/manage-uploads): multipart (metadata + media, for 5 MB
/// or less) and resumable: the initiating request answers 200 with the session URI in <c>Location</c>; chunks are PUT
/// with <c>Content-Range: bytes a-b/total</c> (or <c>/*</c> while the total is unknown); every chunk but the last is a
/// multiple of 256 KiB; an incomplete upload answers <c>308 Resume Incomplete</c> with <c>Range: bytes=0-N</c> (no
/// Range when nothing was received); a status query is an empty PUT with <c>Content-Range: bytes */total</c>; a
/// completed upload answers 200 with the file; an expired session answers 404 (restart from the beginning).</item>
/// <item>downloads (https://developers.google.com/drive/api/guides/manage-downloads): <c>files.get?alt=media</c>, with
/// an HTTP <c>Range</c> header answered 206.</item>
/// <item>errors (https://developers.google.com/drive/api/guides/handle-errors): the <c>{"error":{"code","message",
/// "errors":[{"domain","reason","message",...}]}}</c> body; 401 <c>authError</c> for a bad or expired token;
/// 403 <c>userRateLimitExceeded</c> / <c>rateLimitExceeded</c> and 429 <c>rateLimitExceeded</c> (scripted, see
/// <see cref="InjectRateLimit"/>); 403 <c>insufficientPermissions</c> for a missing scope; 403
/// <c>storageQuotaExceeded</c>; 404 <c>notFound</c> "File not found: ID." for a missing file or parent.</item>
/// </list>
/// Where the documentation is silent the double is strict, and says so in a comment (a chunk that does not start where
/// the session stands, a Content-Range that disagrees with the body: 400).
/// </summary>
public sealed partial class DriveDouble : IAsyncDisposable
{
    public const string FolderMimeType = "application/vnd.google-apps.folder";
    public const string AppDataScope = "https://www.googleapis.com/auth/drive.appdata";
    public const string DriveScope = "https://www.googleapis.com/auth/drive";
    public const string DriveFileScope = "https://www.googleapis.com/auth/drive.file";
    public const int ChunkGranularity = 256 * 1024;
    private const string AppDataSpace = "appDataFolder";

    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, DriveDoubleFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string[]> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(int Status, string Reason, int? RetryAfter)> _rateLimits = new();
    private readonly string _blobRoot = Path.Combine(Path.GetTempPath(), "ghostie-drive-double-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly object _gate = new();
    private readonly Task _loop;
    private readonly string _appDataFolderId;
    private long _counter;
    private int _requests;

    /// <summary>Starts the double on a free loopback port.</summary>
    /// <param name="token">An access token accepted with the <c>drive.appdata</c> and <c>drive.file</c> scopes.</param>
    /// <param name="clock">The clock of createdTime / modifiedTime and session expiry.</param>
    public DriveDouble(string token, TimeProvider? clock = null)
    {
        Clock = clock ?? TimeProvider.System;
        AddToken(token, AppDataScope, DriveFileScope);
        Directory.CreateDirectory(_blobRoot);
        _appDataFolderId = NewId();
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

    public TimeProvider Clock { get; set; }

    /// <summary>Makes file ids (random by default); tests set it to force an order among duplicates.</summary>
    public Func<string>? FileIds { get; set; }

    /// <summary>The most files one list page holds whatever pageSize asks (the documented maximum is 1000; tests lower it).</summary>
    public int ServerPageLimit { get; set; } = 1000;

    /// <summary>When set, every first page of a listing is empty but carries a nextPageToken (allowed by the docs).</summary>
    public bool EmptyFirstPages { get; set; }

    /// <summary>The bytes the account may hold (403 storageQuotaExceeded beyond).</summary>
    public long StorageQuotaBytes { get; set; } = long.MaxValue;

    /// <summary>How long a resumable session lives (the docs: about a week).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>HTTP requests received.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>"METHOD path?uploadType" of every request, in order (no tokens).</summary>
    public ConcurrentQueue<string> RequestLog { get; } = new();

    /// <summary>Accepts <paramref name="token"/> with the given OAuth scopes.</summary>
    public void AddToken(string token, params string[] scopes) => _tokens[token] = scopes;

    /// <summary>Stops accepting <paramref name="token"/> (expired or revoked): 401 from now on.</summary>
    public void RevokeToken(string token) => _tokens.TryRemove(token, out _);

    /// <summary>The next <paramref name="count"/> API requests fail with a rate-limit error: 403 with reason
    /// userRateLimitExceeded or rateLimitExceeded, or 429 rateLimitExceeded; Retry-After only when given.</summary>
    public void InjectRateLimit(int count, int status = 403, string reason = "userRateLimitExceeded", int? retryAfterSeconds = null)
    {
        for (int i = 0; i < count; i++)
        {
            _rateLimits.Enqueue((status, reason, retryAfterSeconds));
        }
    }

    /// <summary>Creates a folder in My Drive (the space of <c>drive</c>) and returns its id.</summary>
    public string SeedFolder(string name)
    {
        DateTimeOffset now = Clock.GetUtcNow();
        var folder = new DriveDoubleFile { Id = NewId(), Name = name, Space = "drive", Parents = ["root"], MimeType = FolderMimeType, CreatedTime = now, ModifiedTime = now };
        lock (_gate)
        {
            _files[folder.Id] = folder;
        }

        return folder.Id;
    }

    /// <summary>Creates a file directly (another device's write, hand-made duplicates). <paramref name="parent"/> is a
    /// folder id or "appDataFolder".</summary>
    public string SeedFile(string parent, string name, byte[] content, IReadOnlyDictionary<string, string>? appProperties = null, DateTimeOffset? createdTime = null)
    {
        DateTimeOffset now = createdTime ?? Clock.GetUtcNow();
        string blob = NewBlobPath();
        File.WriteAllBytes(blob, content);
        bool appData = parent == AppDataSpace;
        var file = new DriveDoubleFile
        {
            Id = NewId(), Name = name, Space = appData ? AppDataSpace : "drive", Parents = [appData ? _appDataFolderId : parent],
            CreatedTime = now, ModifiedTime = now, Size = content.Length, BlobPath = blob,
            AppProperties = appProperties is null ? new(StringComparer.Ordinal) : new(appProperties, StringComparer.Ordinal),
        };
        lock (_gate)
        {
            _files[file.Id] = file;
        }

        return file.Id;
    }

    /// <summary>Every stored file and folder (copies).</summary>
    public IReadOnlyList<DriveDoubleFile> Files()
    {
        lock (_gate)
        {
            return _files.Values.Select(f => f.Copy()).ToList();
        }
    }

    /// <summary>The files of the app data folder (copies).</summary>
    public IReadOnlyList<DriveDoubleFile> AppDataFiles() => Files().Where(f => f.Space == AppDataSpace).ToList();

    public byte[] ReadContent(string fileId)
    {
        lock (_gate)
        {
            return _files[fileId].BlobPath is string path ? File.ReadAllBytes(path) : [];
        }
    }

    public void Remove(string fileId)
    {
        lock (_gate)
        {
            _files.Remove(fileId);
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

    private string NewId()
    {
        if (FileIds is { } ids)
        {
            return ids();
        }

        // Drive ids are opaque URL-safe strings of about 33 characters.
        return "1" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
    }

    private string NewBlobPath() =>
        Path.Combine(_blobRoot, Interlocked.Increment(ref _counter).ToString("x8", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));

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
            bool keep = await RouteAsync(context.Request, response).ConfigureAwait(false);
            if (keep)
            {
                response.Close();
            }
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            Abort(response);
        }
    }

    private static void Abort(HttpListenerResponse response)
    {
        try
        {
            response.Abort();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Routes one request; false when the response was aborted on purpose (a dropped connection).</summary>
    private async Task<bool> RouteAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        Interlocked.Increment(ref _requests);
        string path = request.Url!.AbsolutePath;
        string? uploadType = request.QueryString["uploadType"];
        RequestLog.Enqueue($"{request.HttpMethod} {path}{(uploadType is null ? "" : "?" + uploadType)}{(request.QueryString["upload_id"] is null ? "" : "&session")}");

        // handle-errors: "401: Invalid Credentials ... the access token you're using is either expired or invalid".
        string? auth = request.Headers["Authorization"];
        if (auth is null || !auth.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.TryGetValue(auth["Bearer ".Length..], out string[]? scopes))
        {
            response.AddHeader("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"");
            await ErrorAsync(response, 401, "global", "authError", "Invalid Credentials", "header", "Authorization").ConfigureAwait(false);
            return true;
        }

        // limits: "If you exceed a quota, you'll receive a 403: User rate limit exceeded ... Additional rate limit
        // checks on the Drive backend might also generate a 429: Too many requests".
        if (_rateLimits.TryDequeue(out (int Status, string Reason, int? RetryAfter) limit))
        {
            if (limit.RetryAfter is int seconds)
            {
                response.AddHeader("Retry-After", seconds.ToString(CultureInfo.InvariantCulture));
            }

            string message = limit.Reason == "userRateLimitExceeded" ? "User Rate Limit Exceeded" : "Rate Limit Exceeded";
            await ErrorAsync(response, limit.Status, "usageLimits", limit.Reason, message).ConfigureAwait(false);
            return true;
        }

        var access = new Access(scopes);
        if (path.StartsWith("/upload/drive/v3/files", StringComparison.Ordinal))
        {
            string? id = path.Length > "/upload/drive/v3/files/".Length ? path["/upload/drive/v3/files/".Length..] : null;
            return await UploadAsync(request, response, access, id).ConfigureAwait(false);
        }

        if (path == "/drive/v3/files" && request.HttpMethod == "GET")
        {
            await ListAsync(request, response, access).ConfigureAwait(false);
            return true;
        }

        if (path.StartsWith("/drive/v3/files/", StringComparison.Ordinal))
        {
            string id = Uri.UnescapeDataString(path["/drive/v3/files/".Length..]);
            switch (request.HttpMethod)
            {
                case "GET":
                    return await GetAsync(request, response, access, id).ConfigureAwait(false);
                case "DELETE":
                    await DeleteAsync(response, access, id).ConfigureAwait(false);
                    return true;
            }
        }

        await ErrorAsync(response, 404, "global", "notFound", "Not Found").ConfigureAwait(false);
        return true;
    }

    /// <summary>What a token may reach: the app data folder needs drive.appdata or drive; My Drive files need drive or drive.file
    /// (https://developers.google.com/drive/api/guides/api-specific-auth).</summary>
    private sealed class Access(string[] scopes)
    {
        public bool AppData { get; } = scopes.Contains(AppDataScope) || scopes.Contains(DriveScope);

        public bool Drive { get; } = scopes.Contains(DriveScope) || scopes.Contains(DriveFileScope);

        public bool Reaches(DriveDoubleFile file) => file.Space == AppDataSpace ? AppData : Drive;
    }

    private static Task InsufficientScopeAsync(HttpListenerResponse response) =>
        ErrorAsync(response, 403, "global", "insufficientPermissions", "Request had insufficient authentication scopes.");

    private static Task NotFoundAsync(HttpListenerResponse response, string id) =>
        ErrorAsync(response, 404, "global", "notFound", $"File not found: {id}.", "parameter", "fileId");

    private static Task BadRequestAsync(HttpListenerResponse response, string message, string? location = null) =>
        ErrorAsync(response, 400, "global", location is null ? "badRequest" : "invalid", message, location is null ? null : "parameter", location);

    /// <summary>The error body of handle-errors: {"error":{"code","message","errors":[{domain, reason, message, locationType?, location?}]}}.</summary>
    private static async Task ErrorAsync(HttpListenerResponse response, int status, string domain, string reason, string message,
        string? locationType = null, string? location = null)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=UTF-8";
        using var memory = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(memory))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteNumber("code", status);
            writer.WriteString("message", message);
            writer.WriteStartArray("errors");
            writer.WriteStartObject();
            writer.WriteString("domain", domain);
            writer.WriteString("reason", reason);
            writer.WriteString("message", message);
            if (locationType is not null)
            {
                writer.WriteString("locationType", locationType);
                writer.WriteString("location", location);
            }

            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        response.ContentLength64 = memory.Length;
        await response.OutputStream.WriteAsync(memory.GetBuffer().AsMemory(0, (int)memory.Length)).ConfigureAwait(false);
    }

    private static async Task JsonAsync(HttpListenerResponse response, int status, Action<Utf8JsonWriter> write)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=UTF-8";
        using var memory = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(memory))
        {
            write(writer);
        }

        response.ContentLength64 = memory.Length;
        await response.OutputStream.WriteAsync(memory.GetBuffer().AsMemory(0, (int)memory.Length)).ConfigureAwait(false);
    }

    /// <summary>The default fields of a file resource when the request names none: kind, id, name, mimeType
    /// (https://developers.google.com/drive/api/guides/fields-parameter).</summary>
    private static readonly string[] DefaultFileFields = ["kind", "id", "name", "mimeType"];

    private static readonly string[] KnownFileFields = ["kind", "id", "name", "mimeType", "parents", "createdTime", "modifiedTime", "size", "version", "trashed", "appProperties", "spaces"];

    /// <summary>The file fields a <c>fields</c> parameter selects: for a list, those inside <c>files(...)</c>; "*" is all.</summary>
    private static string[] SelectedFields(string? fields, bool list)
    {
        if (string.IsNullOrWhiteSpace(fields))
        {
            return DefaultFileFields;
        }

        string inner = fields;
        if (list)
        {
            int open = fields.IndexOf("files(", StringComparison.Ordinal);
            if (open < 0)
            {
                return fields.Split(',').Any(f => f.Trim() is "files" or "*") ? KnownFileFields : [];
            }

            int close = fields.IndexOf(')', open);
            inner = fields[(open + 6)..(close < 0 ? fields.Length : close)];
        }

        string[] names = inner.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return names.Contains("*") ? KnownFileFields : names.Where(n => KnownFileFields.Contains(n)).ToArray();
    }

    private void WriteFile(Utf8JsonWriter writer, DriveDoubleFile file, string[] fields)
    {
        writer.WriteStartObject();
        foreach (string field in fields)
        {
            switch (field)
            {
                case "kind": writer.WriteString("kind", "drive#file"); break;
                case "id": writer.WriteString("id", file.Id); break;
                case "name": writer.WriteString("name", file.Name); break;
                case "mimeType": writer.WriteString("mimeType", file.MimeType); break;
                case "parents":
                    writer.WriteStartArray("parents");
                    foreach (string parent in file.Parents)
                    {
                        writer.WriteStringValue(parent);
                    }

                    writer.WriteEndArray();
                    break;
                case "createdTime": writer.WriteString("createdTime", Rfc3339(file.CreatedTime)); break;
                case "modifiedTime": writer.WriteString("modifiedTime", Rfc3339(file.ModifiedTime)); break;

                // int64 fields travel as JSON strings in Google's APIs (https://developers.google.com/discovery/v1/type-format).
                case "size" when !file.IsFolder: writer.WriteString("size", file.Size.ToString(CultureInfo.InvariantCulture)); break;
                case "version": writer.WriteString("version", file.Version.ToString(CultureInfo.InvariantCulture)); break;
                case "trashed": writer.WriteBoolean("trashed", file.Trashed); break;
                case "spaces":
                    writer.WriteStartArray("spaces");
                    writer.WriteStringValue(file.Space);
                    writer.WriteEndArray();
                    break;
                case "appProperties" when file.AppProperties.Count > 0:
                    writer.WriteStartObject("appProperties");
                    foreach ((string key, string value) in file.AppProperties)
                    {
                        writer.WriteString(key, value);
                    }

                    writer.WriteEndObject();
                    break;
            }
        }

        writer.WriteEndObject();
    }

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private string? ResolveParent(string parent) => parent == AppDataSpace ? _appDataFolderId : parent;

    private async Task ListAsync(HttpListenerRequest request, HttpListenerResponse response, Access access)
    {
        // files.list: spaces "A comma-separated list of spaces to query within the corpora. Supported values are 'drive'
        // and 'appDataFolder'" (default drive).
        string[] spaces = (request.QueryString["spaces"] ?? "drive").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (spaces.Any(s => s is not ("drive" or AppDataSpace)))
        {
            await BadRequestAsync(response, $"Invalid Value", "spaces").ConfigureAwait(false);
            return;
        }

        if (spaces.Contains(AppDataSpace) && !access.AppData)
        {
            await InsufficientScopeAsync(response).ConfigureAwait(false);
            return;
        }

        // pageSize: "The maximum number of files to return per page ... Acceptable values are 1 to 1000, inclusive (Default: 100)".
        int pageSize = 100;
        if (request.QueryString["pageSize"] is string sizeText
            && (!int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 1000))
        {
            await BadRequestAsync(response, $"Invalid value '{sizeText}'. Values must be within the range: [1, 1000]", "pageSize").ConfigureAwait(false);
            return;
        }

        Func<DriveDoubleFile, bool> filter;
        try
        {
            filter = DriveQuery.Parse(request.QueryString["q"] ?? "", ResolveParent);
        }
        catch (FormatException)
        {
            await BadRequestAsync(response, "Invalid Value", "q").ConfigureAwait(false);
            return;
        }

        int offset = 0;
        if (request.QueryString["pageToken"] is string token)
        {
            // nextPageToken: "If the token is rejected for any reason, it should be discarded, and pagination should be restarted".
            if (!TryReadPageToken(token, out offset))
            {
                await BadRequestAsync(response, "Invalid Value", "pageToken").ConfigureAwait(false);
                return;
            }
        }

        List<DriveDoubleFile> all;
        lock (_gate)
        {
            // Ordered by id: Drive gives no order without orderBy, and never promises name order.
            all = _files.Values.Where(f => spaces.Contains(f.Space) && access.Reaches(f) && filter(f))
                .OrderBy(f => f.Id, StringComparer.Ordinal).Select(f => f.Copy()).ToList();
        }

        int take = Math.Min(pageSize, ServerPageLimit);
        if (EmptyFirstPages && request.QueryString["pageToken"] is null)
        {
            take = 0;
        }

        List<DriveDoubleFile> page = all.Skip(offset).Take(take).ToList();
        int next = offset + page.Count;
        string[] fields = SelectedFields(request.QueryString["fields"], list: true);
        bool wantsToken = request.QueryString["fields"] is not string f || f.Contains("nextPageToken", StringComparison.Ordinal) || f.Trim() == "*";
        await JsonAsync(response, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("kind", "drive#fileList");
            if (next < all.Count && wantsToken)
            {
                writer.WriteString("nextPageToken", PageToken(next));
            }

            writer.WriteBoolean("incompleteSearch", false);
            writer.WriteStartArray("files");
            foreach (DriveDoubleFile file in page)
            {
                WriteFile(writer, file, fields);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static string PageToken(int offset) =>
        "~!!~" + Convert.ToBase64String(Encoding.ASCII.GetBytes("o:" + offset.ToString(CultureInfo.InvariantCulture)));

    private static bool TryReadPageToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            string text = token.StartsWith("~!!~", StringComparison.Ordinal) ? Encoding.ASCII.GetString(Convert.FromBase64String(token[4..])) : "";
            return text.StartsWith("o:", StringComparison.Ordinal) && int.TryParse(text[2..], NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private DriveDoubleFile? Find(string id)
    {
        lock (_gate)
        {
            return _files.TryGetValue(id, out DriveDoubleFile? file) && !file.Trashed ? file.Copy() : null;
        }
    }

    /// <summary>When set, the next alt=media download sends this many bytes of the body and then drops the connection.</summary>
    public long? DropNextDownloadAfter { get; set; }

    private async Task<bool> GetAsync(HttpListenerRequest request, HttpListenerResponse response, Access access, string id)
    {
        DriveDoubleFile? file = Find(id);
        if (file is null || file.IsFolder && request.QueryString["alt"] == "media")
        {
            await NotFoundAsync(response, id).ConfigureAwait(false);
            return true;
        }

        if (!access.Reaches(file))
        {
            // A file the token's scopes do not reach is reported as missing (Drive answers 404 for files the app cannot see).
            await NotFoundAsync(response, id).ConfigureAwait(false);
            return true;
        }

        if (request.QueryString["alt"] != "media")
        {
            string[] fields = SelectedFields(request.QueryString["fields"], list: false);
            await JsonAsync(response, 200, writer => WriteFile(writer, file, fields)).ConfigureAwait(false);
            return true;
        }

        // manage-downloads: "Partial download involves downloading only a specified portion of a file ... by using a byte
        // range with a Range header".
        long start = 0;
        long end = file.Size - 1;
        bool partial = false;
        if (request.Headers["Range"] is string range)
        {
            if (!TryParseRange(range, file.Size, out start, out end))
            {
                response.AddHeader("Content-Range", $"bytes */{file.Size}");
                await ErrorAsync(response, 416, "global", "requestedRangeNotSatisfiable", "Request range not satisfiable").ConfigureAwait(false);
                return true;
            }

            partial = true;
        }

        response.StatusCode = partial ? 206 : 200;
        response.ContentType = file.MimeType;
        long length = Math.Max(0, end - start + 1);
        response.ContentLength64 = length;
        if (partial)
        {
            response.AddHeader("Content-Range", $"bytes {start}-{end}/{file.Size}");
        }

        long? drop = DropNextDownloadAfter;
        DropNextDownloadAfter = null;
        if (length == 0)
        {
            return true;
        }

        await using var blob = new FileStream(file.BlobPath!, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        blob.Position = start;
        byte[] buffer = new byte[64 * 1024];
        long remaining = drop is long d ? Math.Min(d, length) : length;
        while (remaining > 0)
        {
            int read = await blob.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining))).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            await response.OutputStream.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            remaining -= read;
        }

        if (drop is not null)
        {
            await response.OutputStream.FlushAsync().ConfigureAwait(false);
            Abort(response);
            return false;
        }

        return true;
    }

    private static bool TryParseRange(string header, long size, out long start, out long end)
    {
        start = 0;
        end = size - 1;
        if (!header.StartsWith("bytes=", StringComparison.Ordinal))
        {
            return false;
        }

        string[] parts = header[6..].Split('-');
        if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out start))
        {
            return false;
        }

        if (parts[1].Length > 0 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long last))
        {
            end = Math.Min(last, size - 1);
        }

        return start < size && start <= end;
    }

    private async Task DeleteAsync(HttpListenerResponse response, Access access, string id)
    {
        // files.delete: "Permanently deletes a file owned by the user without moving it to the trash"; 204 No Content.
        bool removed;
        lock (_gate)
        {
            removed = _files.TryGetValue(id, out DriveDoubleFile? file) && access.Reaches(file) && !file.IsFolder && _files.Remove(id);
        }

        if (!removed)
        {
            await NotFoundAsync(response, id).ConfigureAwait(false);
            return;
        }

        response.StatusCode = 204;
    }
}
