using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Testing;

/// <summary>Uploads: multipart and resumable (https://developers.google.com/drive/api/guides/manage-uploads).</summary>
public sealed partial class DriveDouble
{
    private readonly ConcurrentDictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>When set, the next resumable chunk PUT stores this many bytes of its body and then drops the connection
    /// (a chunk that failed midway; the session keeps what arrived).</summary>
    public long? FailNextChunkAfter { get; set; }

    /// <summary>When set, the next resumable chunk PUT keeps only this many bytes of its body and answers 308 with a Range
    /// saying so (manage-uploads: do not assume the server received the whole chunk; read the Range header).</summary>
    public long? KeepOfNextChunk { get; set; }

    /// <summary>Resumable sessions created so far.</summary>
    public int SessionsStarted { get; private set; }

    /// <summary>Ends every open resumable session: they answer 404 from now on (as an expired session does).</summary>
    public void ExpireSessions()
    {
        foreach (UploadSession session in _sessions.Values)
        {
            session.Expired = true;
        }
    }

    private sealed class UploadSession
    {
        public required string Id { get; init; }
        public string? TargetId { get; init; }
        public required FileMetadata Metadata { get; init; }
        public required string BlobPath { get; init; }
        public required string? Fields { get; init; }
        public required DateTimeOffset Started { get; init; }
        public long Received { get; set; }
        public long? Total { get; set; }
        public DriveDoubleFile? Result { get; set; }
        public bool Expired { get; set; }
        public readonly SemaphoreSlim Lock = new(1, 1);
    }

    private sealed record FileMetadata(string? Name, List<string>? Parents, string? MimeType, Dictionary<string, string?>? AppProperties);

    private static FileMetadata ParseMetadata(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty)
        {
            return new FileMetadata(null, null, null, null);
        }

        using JsonDocument document = JsonDocument.Parse(json.ToArray());
        JsonElement root = document.RootElement;
        string? name = root.TryGetProperty("name", out JsonElement n) ? n.GetString() : null;
        string? mime = root.TryGetProperty("mimeType", out JsonElement m) ? m.GetString() : null;
        List<string>? parents = root.TryGetProperty("parents", out JsonElement p) ? p.EnumerateArray().Select(e => e.GetString()!).ToList() : null;
        Dictionary<string, string?>? props = null;
        if (root.TryGetProperty("appProperties", out JsonElement a))
        {
            props = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (JsonProperty property in a.EnumerateObject())
            {
                props[property.Name] = property.Value.ValueKind == JsonValueKind.Null ? null : property.Value.GetString();
            }
        }

        return new FileMetadata(name, parents, mime, props);
    }

    /// <summary>Checks metadata for a create (parents exist and are reachable) or an update; null when fine, else writes the error.</summary>
    private async Task<bool> CheckMetadataAsync(HttpListenerResponse response, Access access, FileMetadata metadata, string? targetId)
    {
        // properties: "Maximum of 30 private properties per file from any one application. Maximum of 124 bytes size per
        // property (including both key and value) string in UTF-8 encoding."
        if (metadata.AppProperties is { } props)
        {
            if (props.Count > 30 || props.Any(p => Encoding.UTF8.GetByteCount(p.Key) + Encoding.UTF8.GetByteCount(p.Value ?? "") > 124))
            {
                await BadRequestAsync(response, "The properties limit of this file has been exceeded: at most 30 per app, 124 bytes per key plus value.").ConfigureAwait(false);
                return false;
            }
        }

        if (targetId is not null)
        {
            DriveDoubleFile? target = Find(targetId);
            if (target is null || !access.Reaches(target) || target.IsFolder)
            {
                await NotFoundAsync(response, targetId).ConfigureAwait(false);
                return false;
            }

            return true;
        }

        if (metadata.Parents is not { Count: 1 })
        {
            // Without parents a file lands in My Drive's root; the double supports exactly one parent.
            if (!access.Drive)
            {
                await InsufficientScopeAsync(response).ConfigureAwait(false);
                return false;
            }

            return true;
        }

        string parent = metadata.Parents[0];
        if (parent == AppDataSpace)
        {
            if (!access.AppData)
            {
                await InsufficientScopeAsync(response).ConfigureAwait(false);
                return false;
            }

            return true;
        }

        DriveDoubleFile? folder = Find(parent);
        if (folder is null || !folder.IsFolder || !access.Drive)
        {
            await NotFoundAsync(response, parent).ConfigureAwait(false);
            return false;
        }

        return true;
    }

    private async Task<bool> UploadAsync(HttpListenerRequest request, HttpListenerResponse response, Access access, string? fileId)
    {
        string? uploadType = request.QueryString["uploadType"];
        if (request.QueryString["upload_id"] is string sessionId && request.HttpMethod == "PUT")
        {
            return await PutChunkAsync(request, response, sessionId).ConfigureAwait(false);
        }

        bool create = fileId is null && request.HttpMethod == "POST";
        bool update = fileId is not null && request.HttpMethod == "PATCH";
        if (!create && !update)
        {
            await ErrorAsync(response, 404, "global", "notFound", "Not Found").ConfigureAwait(false);
            return true;
        }

        switch (uploadType)
        {
            case "multipart":
                await MultipartAsync(request, response, access, fileId).ConfigureAwait(false);
                return true;
            case "resumable":
                await StartSessionAsync(request, response, access, fileId).ConfigureAwait(false);
                return true;
            case "media":
                await MediaAsync(request, response, access, fileId).ConfigureAwait(false);
                return true;
            default:
                await BadRequestAsync(response, $"Invalid Value", "uploadType").ConfigureAwait(false);
                return true;
        }
    }

    /// <summary>uploadType=media: content only, no metadata (an update keeps the metadata).</summary>
    private async Task MediaAsync(HttpListenerRequest request, HttpListenerResponse response, Access access, string? fileId)
    {
        var metadata = new FileMetadata(null, null, null, null);
        if (!await CheckMetadataAsync(response, access, metadata, fileId).ConfigureAwait(false))
        {
            return;
        }

        string blob = NewBlobPath();
        await using (var file = new FileStream(blob, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            await request.InputStream.CopyToAsync(file).ConfigureAwait(false);
        }

        await CommitAsync(response, metadata, fileId, blob, request.QueryString["fields"]).ConfigureAwait(false);
    }

    /// <summary>uploadType=multipart: a multipart/related body of a JSON metadata part and a media part.</summary>
    private async Task MultipartAsync(HttpListenerRequest request, HttpListenerResponse response, Access access, string? fileId)
    {
        string contentType = request.ContentType ?? "";
        int at = contentType.IndexOf("boundary=", StringComparison.OrdinalIgnoreCase);
        if (!contentType.StartsWith("multipart/related", StringComparison.OrdinalIgnoreCase) || at < 0)
        {
            await BadRequestAsync(response, "Bad content type. Please use multipart.").ConfigureAwait(false);
            return;
        }

        string boundary = contentType[(at + 9)..].Trim().Trim('"');
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
        byte[] bytes = body.ToArray();
        List<(string Headers, ReadOnlyMemory<byte> Content)> parts = SplitMultipart(bytes, boundary);
        if (parts.Count != 2 || !parts[0].Headers.Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await BadRequestAsync(response, "Multipart upload needs exactly a JSON metadata part and a media part.").ConfigureAwait(false);
            return;
        }

        FileMetadata metadata;
        try
        {
            metadata = ParseMetadata(parts[0].Content.Span);
        }
        catch (JsonException)
        {
            await BadRequestAsync(response, "Invalid JSON payload received.").ConfigureAwait(false);
            return;
        }

        if (!await CheckMetadataAsync(response, access, metadata, fileId).ConfigureAwait(false))
        {
            return;
        }

        string blob = NewBlobPath();
        await File.WriteAllBytesAsync(blob, parts[1].Content.ToArray()).ConfigureAwait(false);
        await CommitAsync(response, metadata, fileId, blob, request.QueryString["fields"]).ConfigureAwait(false);
    }

    private static List<(string Headers, ReadOnlyMemory<byte> Content)> SplitMultipart(byte[] body, string boundary)
    {
        byte[] delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var parts = new List<(string, ReadOnlyMemory<byte>)>();
        int index = IndexOf(body, delimiter, 0);
        while (index >= 0)
        {
            int start = index + delimiter.Length;
            if (start + 2 <= body.Length && body[start] == '-' && body[start + 1] == '-')
            {
                break;
            }

            start += 2; // CRLF after the delimiter
            int next = IndexOf(body, delimiter, start);
            if (next < 0)
            {
                break;
            }

            int headerEnd = IndexOf(body, "\r\n\r\n"u8.ToArray(), start);
            if (headerEnd < 0 || headerEnd > next)
            {
                break;
            }

            string headers = Encoding.ASCII.GetString(body, start, headerEnd - start);
            int contentStart = headerEnd + 4;
            int contentEnd = next - 2; // CRLF before the next delimiter
            parts.Add((headers, body.AsMemory(contentStart, Math.Max(0, contentEnd - contentStart))));
            index = next;
        }

        return parts;
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        int found = haystack.AsSpan(from).IndexOf(needle);
        return found < 0 ? -1 : from + found;
    }

    /// <summary>Makes the upload visible: a new file, or the new content (and metadata) of an existing one.</summary>
    private async Task CommitAsync(HttpListenerResponse response, FileMetadata metadata, string? targetId, string blob, string? fields, int createdStatus = 200)
    {
        long size = new FileInfo(blob).Length;
        DriveDoubleFile? result = CommitFile(metadata, targetId, blob, size, out bool quotaExceeded);
        if (quotaExceeded)
        {
            File.Delete(blob);
            await ErrorAsync(response, 403, "usageLimits", "storageQuotaExceeded", "The user's Drive storage quota has been exceeded.").ConfigureAwait(false);
            return;
        }

        if (result is null)
        {
            File.Delete(blob);
            await NotFoundAsync(response, targetId ?? "").ConfigureAwait(false);
            return;
        }

        await JsonAsync(response, createdStatus, writer => WriteFile(writer, result, SelectedFields(fields, list: false))).ConfigureAwait(false);
    }

    private DriveDoubleFile? CommitFile(FileMetadata metadata, string? targetId, string blob, long size, out bool quotaExceeded)
    {
        DateTimeOffset now = Clock.GetUtcNow();
        lock (_gate)
        {
            long used = _files.Values.Sum(f => f.Size) - (targetId is not null && _files.TryGetValue(targetId, out DriveDoubleFile? old) ? old.Size : 0);
            quotaExceeded = used + size > StorageQuotaBytes;
            if (quotaExceeded)
            {
                return null;
            }

            if (targetId is not null)
            {
                if (!_files.TryGetValue(targetId, out DriveDoubleFile? file) || file.Trashed)
                {
                    return null;
                }

                file.BlobPath = blob;
                file.Size = size;
                file.ModifiedTime = now;
                file.Version++;
                file.Name = metadata.Name ?? file.Name;
                file.MimeType = metadata.MimeType ?? file.MimeType;
                ApplyProperties(file, metadata.AppProperties);
                return file.Copy();
            }

            string parent = metadata.Parents is { Count: 1 } p ? p[0] : "root";
            bool appData = parent == AppDataSpace;
            var created = new DriveDoubleFile
            {
                Id = NewId(), Name = metadata.Name ?? "Untitled", Space = appData ? AppDataSpace : "drive",
                Parents = [appData ? _appDataFolderId : parent], MimeType = metadata.MimeType ?? "application/octet-stream",
                CreatedTime = now, ModifiedTime = now, Size = size, BlobPath = blob,
            };
            ApplyProperties(created, metadata.AppProperties);
            _files[created.Id] = created;
            return created.Copy();
        }
    }

    /// <summary>properties: a key set to null is removed; others are added or replaced; keys not named stay.</summary>
    private static void ApplyProperties(DriveDoubleFile file, Dictionary<string, string?>? properties)
    {
        foreach ((string key, string? value) in properties ?? [])
        {
            if (value is null)
            {
                file.AppProperties.Remove(key);
            }
            else
            {
                file.AppProperties[key] = value;
            }
        }
    }

    /// <summary>uploadType=resumable, the initiating request: metadata in a JSON body, optional X-Upload-Content-Length;
    /// "If the initiation request succeeds, the response includes a 200 OK HTTP status code. In addition, it includes a
    /// Location header that specifies the resumable session URI".</summary>
    private async Task StartSessionAsync(HttpListenerRequest request, HttpListenerResponse response, Access access, string? fileId)
    {
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
        FileMetadata metadata;
        try
        {
            metadata = ParseMetadata(body.ToArray());
        }
        catch (JsonException)
        {
            await BadRequestAsync(response, "Invalid JSON payload received.").ConfigureAwait(false);
            return;
        }

        if (!await CheckMetadataAsync(response, access, metadata, fileId).ConfigureAwait(false))
        {
            return;
        }

        long? total = long.TryParse(request.Headers["X-Upload-Content-Length"], NumberStyles.None, CultureInfo.InvariantCulture, out long declared) ? declared : null;
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        string blob = NewBlobPath();
        await File.WriteAllBytesAsync(blob, []).ConfigureAwait(false);
        _sessions[id] = new UploadSession
        {
            Id = id, TargetId = fileId, Metadata = metadata, BlobPath = blob, Fields = request.QueryString["fields"], Total = total,
            Started = Clock.GetUtcNow(),
        };
        SessionsStarted++;
        string path = fileId is null ? "upload/drive/v3/files" : "upload/drive/v3/files/" + Uri.EscapeDataString(fileId);
        response.StatusCode = 200;
        response.AddHeader("Location", $"{BaseUri}{path}?uploadType=resumable&upload_id={id}");
        response.ContentLength64 = 0;
    }

    /// <summary>A PUT to a session URI: a chunk (<c>Content-Range: bytes a-b/total|*</c>), the whole content (no
    /// Content-Range), or a status query (empty body, <c>Content-Range: bytes */total|*</c>).</summary>
    private async Task<bool> PutChunkAsync(HttpListenerRequest request, HttpListenerResponse response, string sessionId)
    {
        // An unknown or expired session: "If you receive a 404 Not Found response, the upload session has expired and the
        // upload must be restarted from the beginning."
        if (!_sessions.TryGetValue(sessionId, out UploadSession? session) || session.Expired || Clock.GetUtcNow() - session.Started > SessionLifetime)
        {
            await ErrorAsync(response, 404, "global", "notFound", "Upload session not found or expired.").ConfigureAwait(false);
            return true;
        }

        await session.Lock.WaitAsync().ConfigureAwait(false);
        try
        {
            return await PutChunkLockedAsync(request, response, session).ConfigureAwait(false);
        }
        finally
        {
            session.Lock.Release();
        }
    }

    private async Task<bool> PutChunkLockedAsync(HttpListenerRequest request, HttpListenerResponse response, UploadSession session)
    {
        long length = request.ContentLength64 < 0 ? 0 : request.ContentLength64;
        string? range = request.Headers["Content-Range"];
        long first;
        long last;
        long? total;
        bool query = false;
        if (range is null)
        {
            first = 0;
            last = length - 1;
            total = length;
        }
        else if (!TryParseContentRange(range, out first, out last, out total, out query))
        {
            await BadRequestAsync(response, $"Failed to parse Content-Range header.").ConfigureAwait(false);
            return true;
        }

        if (total is long t)
        {
            if (session.Total is long known && known != t)
            {
                await BadRequestAsync(response, $"The upload's total size changed from {known} to {t}.").ConfigureAwait(false);
                return true;
            }

            session.Total = t;
        }

        if (session.Result is not null)
        {
            // A query or a repeated final chunk after completion answers the completed file again.
            await JsonAsync(response, 200, writer => WriteFile(writer, session.Result, SelectedFields(session.Fields, list: false))).ConfigureAwait(false);
            return true;
        }

        if (query)
        {
            if (length != 0)
            {
                await BadRequestAsync(response, "A status query has an empty body.").ConfigureAwait(false);
                return true;
            }

            if (session.Total is long all && session.Received == all)
            {
                return await CompleteAsync(response, session).ConfigureAwait(false);
            }

            Incomplete(response, session);
            return true;
        }

        // The double is strict where the docs are silent: a chunk must start where the session stands and its range
        // must match its body.
        if (first != session.Received || last - first + 1 != length)
        {
            await BadRequestAsync(response, $"Content-Range {range} does not continue the upload: {session.Received} bytes were received, and the body has {length}.").ConfigureAwait(false);
            return true;
        }

        bool final = session.Total is long whole && last + 1 == whole;
        if (session.Total is long limit && last + 1 > limit)
        {
            await BadRequestAsync(response, $"Content-Range {range} goes past the upload's total size {limit}.").ConfigureAwait(false);
            return true;
        }

        // manage-uploads: "Create chunks in multiples of 256 KB (256 x 1024 bytes) in size, except for the final chunk
        // that completes the upload."
        if (!final && length % ChunkGranularity != 0)
        {
            await BadRequestAsync(response, $"Invalid request. The chunk has {length} bytes: every chunk but the last must be a multiple of 262144 bytes.").ConfigureAwait(false);
            return true;
        }

        long? fail = FailNextChunkAfter;
        long? keep = KeepOfNextChunk;
        FailNextChunkAfter = null;
        KeepOfNextChunk = null;
        long accept = Math.Min(length, fail ?? keep ?? length);
        await using (var blob = new FileStream(session.BlobPath, FileMode.Append, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            byte[] buffer = new byte[64 * 1024];
            long remaining = length;
            long stored = 0;
            while (remaining > 0)
            {
                int read = await request.InputStream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining))).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                int take = (int)Math.Clamp(accept - stored, 0, read);
                if (take > 0)
                {
                    await blob.WriteAsync(buffer.AsMemory(0, take)).ConfigureAwait(false);
                    stored += take;
                }

                remaining -= read;
                if (fail is not null && stored >= accept)
                {
                    break;
                }
            }

            session.Received += stored;
            if (fail is null && remaining > 0)
            {
                // The client went away mid-body: keep what arrived, as a resumable session does.
                return false;
            }
        }

        if (fail is not null)
        {
            // HttpListener cannot reset a connection before answering, so the answer is cut off instead: a 503 whose
            // promised body never comes, which a client sees as a broken connection (and, reading headers only, as a 503).
            response.StatusCode = 503;
            response.ContentLength64 = 1024;
            await response.OutputStream.WriteAsync("{"u8.ToArray()).ConfigureAwait(false);
            await response.OutputStream.FlushAsync().ConfigureAwait(false);
            Abort(response);
            return false;
        }

        if (keep is null && final)
        {
            return await CompleteAsync(response, session).ConfigureAwait(false);
        }

        Incomplete(response, session);
        return true;
    }

    /// <summary>"308 Resume Incomplete ... along with a Range header that identifies the total number of bytes that have
    /// been stored so far"; no Range header when none were.</summary>
    private static void Incomplete(HttpListenerResponse response, UploadSession session)
    {
        response.StatusCode = 308;
        response.StatusDescription = "Resume Incomplete";
        if (session.Received > 0)
        {
            response.AddHeader("Range", $"bytes=0-{session.Received - 1}");
        }

        response.ContentLength64 = 0;
    }

    private async Task<bool> CompleteAsync(HttpListenerResponse response, UploadSession session)
    {
        DriveDoubleFile? result = CommitFile(session.Metadata, session.TargetId, session.BlobPath, session.Received, out bool quotaExceeded);
        if (quotaExceeded)
        {
            await ErrorAsync(response, 403, "usageLimits", "storageQuotaExceeded", "The user's Drive storage quota has been exceeded.").ConfigureAwait(false);
            return true;
        }

        if (result is null)
        {
            await NotFoundAsync(response, session.TargetId ?? "").ConfigureAwait(false);
            return true;
        }

        session.Result = result;
        await JsonAsync(response, 200, writer => WriteFile(writer, result, SelectedFields(session.Fields, list: false))).ConfigureAwait(false);
        return true;
    }

    /// <summary>Parses <c>bytes a-b/total</c>, <c>bytes a-b/*</c>, <c>bytes */total</c> and <c>bytes */*</c>.</summary>
    private static bool TryParseContentRange(string header, out long first, out long last, out long? total, out bool query)
    {
        first = 0;
        last = -1;
        total = null;
        query = false;
        if (!header.StartsWith("bytes ", StringComparison.Ordinal))
        {
            return false;
        }

        string[] halves = header[6..].Split('/');
        if (halves.Length != 2)
        {
            return false;
        }

        if (halves[1] != "*")
        {
            if (!long.TryParse(halves[1], NumberStyles.None, CultureInfo.InvariantCulture, out long whole))
            {
                return false;
            }

            total = whole;
        }

        if (halves[0] == "*")
        {
            query = true;
            return true;
        }

        string[] bounds = halves[0].Split('-');
        return bounds.Length == 2
            && long.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out first)
            && long.TryParse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out last)
            && last >= first;
    }
}
