using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Testing;

// The routes of the files namespace the double serves (files.stone: route upload, upload_session/start, append:2,
// finish, download, get_metadata, list_folder, list_folder/continue, delete:2). Each names the rules it follows.
public sealed partial class DropboxDouble
{
    private sealed record RouteInfo(bool Content, bool Upload, bool Write, string Scope, IReadOnlySet<string> Fields,
        Func<DropboxDouble, HttpListenerRequest, JsonElement, Reply, Task> Handler, Func<(string, Action<Utf8JsonWriter>)> Contention);

    /// <summary>A WriteError (files.stone union WriteError): its summary tail and its JSON.</summary>
    private sealed record WriteFailure(string Summary, Action<Utf8JsonWriter> Error);

    private sealed record WriteMode(string Tag, string? Rev);

    private static readonly string[] CommitFields = ["path", "mode", "autorename", "client_modified", "mute", "property_groups", "strict_conflict"];

    private static readonly Dictionary<string, RouteInfo> Routes = new(StringComparer.Ordinal)
    {
        ["files/upload"] = new(true, true, true, "files.content.write", Set([.. CommitFields, "content_hash"]), (d, r, a, o) => d.UploadAsync(r, a, o),
            () => ("path/too_many_write_operations", Tag("path", w =>
            {
                w.WritePropertyName("reason");
                Tag("too_many_write_operations")(w);
                w.WriteString("upload_session_id", "pid_upload_session:contention");
            }))),
        ["files/upload_session/start"] = new(true, true, false, "files.content.write", Set("close", "session_type", "content_hash"), (d, r, a, o) => d.StartAsync(r, a, o), NoContention),
        ["files/upload_session/append_v2"] = new(true, true, false, "files.content.write", Set("cursor", "close", "content_hash"), (d, r, a, o) => d.AppendAsync(r, a, o), NoContention),
        ["files/upload_session/finish"] = new(true, true, true, "files.content.write", Set("cursor", "commit", "content_hash"), (d, r, a, o) => d.FinishAsync(r, a, o),
            () => ("too_many_write_operations", Tag("too_many_write_operations"))),
        ["files/download"] = new(true, false, false, "files.content.read", Set("path", "rev"), (d, r, a, o) => d.DownloadAsync(r, a, o), NoContention),
        ["files/get_metadata"] = new(false, false, false, "files.metadata.read",
            Set("path", "include_media_info", "include_deleted", "include_has_explicit_shared_members", "include_property_groups"), (d, _, a, o) => d.GetMetadata(a, o), NoContention),
        ["files/list_folder"] = new(false, false, false, "files.metadata.read",
            Set("path", "recursive", "include_media_info", "include_deleted", "include_has_explicit_shared_members", "include_mounted_folders", "limit", "shared_link",
                "include_property_groups", "include_non_downloadable_files", "include_restorable_info"), (d, _, a, o) => d.ListFolder(a, o), NoContention),
        ["files/list_folder/continue"] = new(false, false, false, "files.metadata.read", Set("cursor"), (d, _, a, o) => d.ListContinue(a, o), NoContention),
        ["files/delete_v2"] = new(false, false, true, "files.content.write", Set("path", "parent_rev"), (d, _, a, o) => d.Delete(a, o),
            () => ("too_many_write_operations", Tag("too_many_write_operations"))),
    };

    private static (string, Action<Utf8JsonWriter>) NoContention() => ("other", Tag("other"));

    private static HashSet<string> Set(params string[] names) => new(names, StringComparer.Ordinal);

    private static WriteFailure Conflict(string what) => new("conflict/" + what, Nested("conflict", Tag(what)));

    /// <summary>A write path (files.stone alias WritePath: "/..." ): no trailing or doubled slash, no "." or ".." segment.</summary>
    private static string? CheckPath(string path, bool allowRoot)
    {
        if (path.Length == 0)
        {
            return allowRoot ? "" : null;
        }

        if (path[0] != '/' || path.EndsWith('/') || path.Contains("//", StringComparison.Ordinal) || path.Split('/').Skip(1).Any(s => s is "." or ".."))
        {
            return null;
        }

        return path.ToLowerInvariant();
    }

    private static RouteError Lookup(string outer, string inner, bool nested = true) =>
        new(outer + "/" + inner, nested ? Nested(outer, Tag(inner)) : Tag(outer));

    private static string Name(string displayPath) => displayPath[(displayPath.LastIndexOf('/') + 1)..];

    private static void WriteMetadata(Utf8JsonWriter w, DropboxNode node, bool withTag)
    {
        w.WriteStartObject();
        if (withTag)
        {
            w.WriteString(".tag", node.IsFolder ? "folder" : "file");
        }

        w.WriteString("name", Name(node.DisplayPath));
        w.WriteString("path_lower", node.DisplayPath.ToLowerInvariant());
        w.WriteString("path_display", node.DisplayPath);
        w.WriteString("id", node.Id);
        if (!node.IsFolder)
        {
            string stamp = node.ServerModified.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            w.WriteString("client_modified", stamp);
            w.WriteString("server_modified", stamp);
            w.WriteString("rev", node.Rev);
            w.WriteNumber("size", node.Size);
            w.WriteBoolean("is_downloadable", true);
            w.WriteString("content_hash", node.ContentHash);
        }

        w.WriteEndObject();
    }

    /// <summary>Reads a request body to a new blob file, hashing it; refuses more than <see cref="MaxPayload"/>.</summary>
    private async Task<(string Blob, long Size, string Hash, bool TooLarge)> ReceiveAsync(HttpListenerRequest request)
    {
        string blob = NewBlobPath();
        using var hash = new DropboxContentHash();
        long size = 0;
        bool tooLarge = false;
        byte[] buffer = new byte[64 * 1024];
        await using (var file = new FileStream(blob, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            int read;
            while ((read = await request.InputStream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                size += read;
                if (size > MaxPayload)
                {
                    tooLarge = true;
                    continue; // drain, store nothing more
                }

                hash.Append(buffer.AsSpan(0, read));
                await file.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            }
        }

        return (blob, size, hash.Finish(), tooLarge);
    }

    /// <summary>Consumes one armed fault, if any (a counter never goes below zero).</summary>
    private static bool TakeOne(ref int counter)
    {
        while (true)
        {
            int current = Volatile.Read(ref counter);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter, current - 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>When a commit is to be damaged: flips the first byte of the stored content and rehashes it.</summary>
    private (string Hash, long Size) MaybeCorrupt(string blob, string hash, long size)
    {
        if (size == 0 || !TakeOne(ref _corruptCommits))
        {
            return (hash, size);
        }

        byte[] bytes = File.ReadAllBytes(blob);
        bytes[0] ^= 0xFF;
        File.WriteAllBytes(blob, bytes);
        return (DropboxContentHash.Of(bytes), size);
    }

    private static WriteMode ParseMode(JsonElement arg, string route)
    {
        if (!arg.TryGetProperty("mode", out JsonElement mode))
        {
            return new WriteMode("add", null); // CommitInfo: mode WriteMode = add
        }

        // HTTP documentation: a Void member may be given as its bare tag; update (a Rev member) may not.
        if (mode.ValueKind == JsonValueKind.String)
        {
            string tag = mode.GetString()!;
            return tag is "add" or "overwrite" ? new WriteMode(tag, null)
                : throw new BadInput($"Error in call to API function \"{route}\": request body: mode: \"{tag}\" is not a void member of WriteMode");
        }

        string? objectTag = mode.ValueKind == JsonValueKind.Object ? OptionalString(mode, ".tag") : null;
        switch (objectTag)
        {
            case "add" or "overwrite":
                return new WriteMode(objectTag, null);
            case "update":
                string? rev = OptionalString(mode, "update");
                if (rev is null || rev.Length < 9 || !rev.All(Uri.IsHexDigit) || rev.Any(char.IsUpper))
                {
                    throw new BadInput($"Error in call to API function \"{route}\": request body: mode: update: '{rev}' does not match pattern '[0-9a-f]+' with at least 9 characters");
                }

                return new WriteMode("update", rev);
            default:
                throw new BadInput($"Error in call to API function \"{route}\": request body: mode: unknown tag '{objectTag}'");
        }
    }

    /// <summary>
    /// Saves content at a path following WriteMode's rules (files.stone union WriteMode): (a) nothing at the path: always
    /// written; (b) a folder at the path: always a conflict; (c) a file with identical contents: nothing written, no
    /// conflict, unless strict_conflict; otherwise add conflicts, overwrite replaces, update(rev) replaces only if rev is the
    /// file's current rev. strict_conflict also makes update conflict when the file is gone. autorename writes beside instead.
    /// Parent folders are created; a file at an ancestor path is conflict/file_ancestor.
    /// </summary>
    private DropboxNode Commit(string displayPath, WriteMode mode, bool autorename, bool strict, string blob, long size, string hash, out WriteFailure? failure)
    {
        failure = null;
        lock (_gate)
        {
            string lower = displayPath.ToLowerInvariant();
            string[] segments = displayPath.Split('/');
            for (int i = 2; i < segments.Length; i++)
            {
                string ancestor = string.Join('/', segments.Take(i)).ToLowerInvariant();
                if (_nodes.TryGetValue(ancestor, out DropboxNode? up) && !up.IsFolder)
                {
                    failure = Conflict("file_ancestor");
                    return null!;
                }
            }

            _nodes.TryGetValue(lower, out DropboxNode? existing);
            string? conflict = null;
            if (existing is { IsFolder: true })
            {
                conflict = "folder";
            }
            else if (existing is null)
            {
                if (mode.Tag == "update" && strict)
                {
                    conflict = "file";
                }
            }
            else if (!strict && existing.ContentHash == hash)
            {
                return existing;
            }
            else if (mode.Tag == "add" || (mode.Tag == "update" && mode.Rev != existing.Rev))
            {
                conflict = "file";
            }

            if (conflict is not null)
            {
                if (!autorename)
                {
                    failure = Conflict(conflict);
                    return null!;
                }

                displayPath = FreeName(displayPath, mode.Tag == "update");
                lower = displayPath.ToLowerInvariant();
                existing = null;
            }

            for (int i = 2; i < segments.Length; i++)
            {
                string folder = string.Join('/', displayPath.Split('/').Take(i));
                if (!_nodes.ContainsKey(folder.ToLowerInvariant()))
                {
                    _nodes[folder.ToLowerInvariant()] = new DropboxNode { DisplayPath = folder, IsFolder = true, Id = NewId() };
                }
            }

            DropboxNode node = existing ?? new DropboxNode { DisplayPath = displayPath, IsFolder = false, Id = NewId() };
            node.Rev = NewRev();
            node.BlobPath = blob;
            node.Size = size;
            node.ContentHash = hash;
            node.ServerModified = Clock.GetUtcNow();
            _nodes[lower] = node;
            _revisions[node.Rev] = new DropboxNode
            {
                DisplayPath = node.DisplayPath, IsFolder = false, Id = node.Id, Rev = node.Rev, BlobPath = blob, Size = size, ContentHash = hash, ServerModified = node.ServerModified,
            };
            return node;
        }
    }

    /// <summary>The autorename strategy: "name (2).ext" for add and overwrite, "name (conflicted copy).ext" for update.</summary>
    private string FreeName(string displayPath, bool update)
    {
        int slash = displayPath.LastIndexOf('/');
        string name = displayPath[(slash + 1)..];
        int dot = name.LastIndexOf('.');
        string stem = dot > 0 ? name[..dot] : name;
        string extension = dot > 0 ? name[dot..] : "";
        for (int n = 2; ; n++)
        {
            string suffix = update ? (n == 2 ? " (conflicted copy)" : $" (conflicted copy {n})") : $" ({n})";
            string candidate = displayPath[..(slash + 1)] + stem + suffix + extension;
            if (!_nodes.ContainsKey(candidate.ToLowerInvariant()))
            {
                return candidate;
            }
        }
    }

    private RouteError MalformedWrite(string outer) => new(outer + "/malformed_path", Nested(outer, Tag("malformed_path")));

    // files.stone route upload (UploadArg, FileMetadata, UploadError): at most 150 MiB; UploadError.path is UploadWriteFailed
    // {reason: WriteError, upload_session_id}; content_hash_mismatch when the given hash does not match the data received.
    private async Task UploadAsync(HttpListenerRequest request, JsonElement arg, Reply reply)
    {
        const string route = "files/upload";
        string path = RequiredString(arg, "path", route);
        WriteMode mode = ParseMode(arg, route);
        bool autorename = OptionalBool(arg, "autorename", false, route);
        bool strict = OptionalBool(arg, "strict_conflict", false, route);
        (string blob, long size, string hash, bool tooLarge) = await ReceiveAsync(request).ConfigureAwait(false);
        if (tooLarge)
        {
            throw new RouteError("payload_too_large", Tag("payload_too_large"));
        }

        if (OptionalString(arg, "content_hash") is string expected && expected != hash)
        {
            throw new RouteError("content_hash_mismatch", Tag("content_hash_mismatch"));
        }

        if (CheckPath(path, allowRoot: false) is null)
        {
            throw WriteFailed(new WriteFailure("malformed_path", Tag("malformed_path")), blob, size);
        }

        (hash, size) = MaybeCorrupt(blob, hash, size);
        DropboxNode node = Commit(path, mode, autorename, strict, blob, size, hash, out WriteFailure? failure);
        if (failure is not null)
        {
            throw WriteFailed(failure, blob, size);
        }

        reply.Body = Json(w => WriteMetadata(w, node, withTag: false));
    }

    /// <summary>UploadError.path: the data is kept in a new upload session whose id the error carries.</summary>
    private RouteError WriteFailed(WriteFailure failure, string blob, long size)
    {
        string id = "pid_upload_session:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        lock (_gate)
        {
            _sessions[id] = new UploadSession { BlobPath = blob, Offset = size, Created = Clock.GetUtcNow() };
        }

        return new RouteError("path/" + failure.Summary, Tag("path", w =>
        {
            w.WritePropertyName("reason");
            failure.Error(w);
            w.WriteString("upload_session_id", id);
        }));
    }

    // files.stone route upload_session/start: starts a session with the data given; content_hash covers this call's data.
    private async Task StartAsync(HttpListenerRequest request, JsonElement arg, Reply reply)
    {
        const string route = "files/upload_session/start";
        bool close = OptionalBool(arg, "close", false, route);
        if (arg.TryGetProperty("session_type", out JsonElement type) && (type.ValueKind == JsonValueKind.String ? type.GetString() : OptionalString(type, ".tag")) == "concurrent")
        {
            throw new BadInput($"Error in call to API function \"{route}\": concurrent upload sessions are not implemented by this double");
        }

        (string blob, long size, string hash, bool tooLarge) = await ReceiveAsync(request).ConfigureAwait(false);
        if (tooLarge)
        {
            throw new RouteError("payload_too_large", Tag("payload_too_large"));
        }

        if (OptionalString(arg, "content_hash") is string expected && expected != hash)
        {
            throw new RouteError("content_hash_mismatch", Tag("content_hash_mismatch"));
        }

        string id = "pid_upload_session:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        lock (_gate)
        {
            _sessions[id] = new UploadSession { BlobPath = blob, Offset = size, Closed = close, Created = Clock.GetUtcNow() };
        }

        reply.Body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("session_id", id);
            w.WriteEndObject();
        });
    }

    /// <summary>The session a cursor names, checked as UploadSessionLookupError says: not_found (unknown or older than 7 days),
    /// closed (closed or committed), incorrect_offset {correct_offset} (the offset is not where the data so far ends).</summary>
    private UploadSession FindSession(JsonElement arg, string route, Func<string, Action<Utf8JsonWriter>?, RouteError> error, bool appending)
    {
        if (!arg.TryGetProperty("cursor", out JsonElement cursor) || cursor.ValueKind != JsonValueKind.Object)
        {
            throw new BadInput($"Error in call to API function \"{route}\": request body: missing required field \"cursor\"");
        }

        string id = RequiredString(cursor, "session_id", route);
        if (!cursor.TryGetProperty("offset", out JsonElement offsetElement) || !offsetElement.TryGetInt64(out long offset) || offset < 0)
        {
            throw new BadInput($"Error in call to API function \"{route}\": request body: cursor: missing required field \"offset\"");
        }

        lock (_gate)
        {
            if (!_sessions.TryGetValue(id, out UploadSession? session) || Clock.GetUtcNow() - session.Created > SessionLifetime)
            {
                throw error("not_found", null);
            }

            if (session.Finished || (appending && session.Closed))
            {
                throw error("closed", null);
            }

            if (offset != session.Offset)
            {
                long correct = session.Offset;
                throw error("incorrect_offset", w => w.WriteNumber("correct_offset", correct));
            }

            return session;
        }
    }

    private static void AppendBlob(string target, string source)
    {
        using var output = new FileStream(target, FileMode.Append, FileAccess.Write);
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read);
        input.CopyTo(output);
    }

    // files.stone route upload_session/append:2 (UploadSessionAppendArg, Void, UploadSessionAppendError).
    private async Task AppendAsync(HttpListenerRequest request, JsonElement arg, Reply reply)
    {
        const string route = "files/upload_session/append_v2";
        bool close = OptionalBool(arg, "close", false, route);
        (string blob, long size, string hash, bool tooLarge) = await ReceiveAsync(request).ConfigureAwait(false);
        UploadSession session = FindSession(arg, route, (tag, fields) => new RouteError(tag, Tag(tag, fields)), appending: true);
        if (tooLarge)
        {
            throw new RouteError("payload_too_large", Tag("payload_too_large"));
        }

        if (OptionalString(arg, "content_hash") is string expected && expected != hash)
        {
            throw new RouteError("content_hash_mismatch", Tag("content_hash_mismatch"));
        }

        lock (session)
        {
            AppendBlob(session.BlobPath, blob);
            lock (_gate)
            {
                session.Offset += size;
                session.Closed |= close;
            }
        }

        File.Delete(blob);
        reply.Body = Encoding.UTF8.GetBytes("null");
    }

    // files.stone route upload_session/finish (UploadSessionFinishArg, FileMetadata, UploadSessionFinishError): lookup_failed
    // wraps UploadSessionLookupError; path wraps WriteError, after which the data stays in the session ("retry with empty
    // data body and updated offset").
    private async Task FinishAsync(HttpListenerRequest request, JsonElement arg, Reply reply)
    {
        const string route = "files/upload_session/finish";
        if (!arg.TryGetProperty("commit", out JsonElement commit) || commit.ValueKind != JsonValueKind.Object)
        {
            throw new BadInput($"Error in call to API function \"{route}\": request body: missing required field \"commit\"");
        }

        CheckFields(route, commit, Set(CommitFields));
        string path = RequiredString(commit, "path", route);
        WriteMode mode = ParseMode(commit, route);
        bool autorename = OptionalBool(commit, "autorename", false, route);
        bool strict = OptionalBool(commit, "strict_conflict", false, route);
        (string blob, long size, string hash, bool tooLarge) = await ReceiveAsync(request).ConfigureAwait(false);
        UploadSession session = FindSession(arg, route, (tag, fields) => new RouteError("lookup_failed/" + tag, Nested("lookup_failed", Tag(tag, fields))), appending: false);
        if (tooLarge)
        {
            throw new RouteError("payload_too_large", Tag("payload_too_large"));
        }

        if (OptionalString(arg, "content_hash") is string expected && expected != hash)
        {
            throw new RouteError("content_hash_mismatch", Tag("content_hash_mismatch"));
        }

        if (CheckPath(path, allowRoot: false) is null)
        {
            throw new RouteError("path/malformed_path", Nested("path", Tag("malformed_path")));
        }

        string stored;
        long total;
        lock (session)
        {
            if (size > 0)
            {
                AppendBlob(session.BlobPath, blob);
                lock (_gate)
                {
                    session.Offset += size;
                }
            }

            // The session keeps its data until a commit succeeds; the file gets a copy.
            stored = NewBlobPath();
            File.Copy(session.BlobPath, stored);
            total = session.Offset;
        }

        File.Delete(blob);
        string fullHash;
        using (var hasher = new DropboxContentHash())
        {
            await using var file = new FileStream(stored, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
            byte[] buffer = new byte[64 * 1024];
            int read;
            while ((read = await file.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
            }

            fullHash = hasher.Finish();
        }

        (fullHash, total) = MaybeCorrupt(stored, fullHash, total);
        DropboxNode node = Commit(path, mode, autorename, strict, stored, total, fullHash, out WriteFailure? failure);
        if (failure is not null)
        {
            File.Delete(stored);
            throw new RouteError("path/" + failure.Summary, Nested("path", failure.Error));
        }

        lock (_gate)
        {
            session.Finished = true;
        }

        reply.Body = Json(w => WriteMetadata(w, node, withTag: false));
    }

    // files.stone route download (DownloadArg, FileMetadata, DownloadError): path may be "rev:<rev>" (ReadPath); the result is
    // the Dropbox-API-Result header (header-safe JSON); HTTP range requests answer 206 with Content-Range.
    private Task DownloadAsync(HttpListenerRequest request, JsonElement arg, Reply reply)
    {
        const string route = "files/download";
        string path = RequiredString(arg, "path", route);
        DropboxNode? node;
        lock (_gate)
        {
            if (path.StartsWith("rev:", StringComparison.Ordinal))
            {
                node = _revisions.GetValueOrDefault(path[4..]);
            }
            else if (CheckPath(path, allowRoot: false) is string lower)
            {
                node = _nodes.GetValueOrDefault(lower);
            }
            else
            {
                throw new RouteError("path/malformed_path", Nested("path", Tag("malformed_path")));
            }
        }

        if (node is null)
        {
            throw Lookup("path", "not_found");
        }

        if (node.IsFolder)
        {
            throw Lookup("path", "not_file");
        }

        long start = 0;
        long end = node.Size - 1;
        string? range = request.Headers["Range"];
        if (range is not null)
        {
            Ranges.Enqueue(range);
            string[] bounds = range.StartsWith("bytes=", StringComparison.Ordinal) ? range[6..].Split('-') : [];
            if (bounds.Length != 2 || !long.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out start)
                || (bounds[1].Length > 0 && !long.TryParse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out end)) || start >= node.Size || end < start)
            {
                reply.Response.AddHeader("Content-Range", $"bytes */{node.Size}");
                Text(reply, 416, "Requested range not satisfiable");
                return Task.CompletedTask;
            }

            end = Math.Min(end, node.Size - 1);
            reply.Status = 206;
            reply.Response.AddHeader("Content-Range", $"bytes {start}-{end}/{node.Size}");
        }

        reply.Response.AddHeader("Dropbox-API-Result", Encoding.ASCII.GetString(Json(w => WriteMetadata(w, node, withTag: false), headerSafe: true)));
        reply.ContentType = "application/octet-stream";
        bool breakIt = TakeOne(ref _breakDownloads);
        bool corrupt = node.Size > 0 && TakeOne(ref _corruptDownloads);

        long length = node.Size == 0 ? 0 : end - start + 1;
        long breakAfter = Interlocked.Read(ref _breakAfter);
        string blobPath = node.BlobPath;
        reply.Streamer = async response =>
        {
            response.ContentLength64 = length;
            await using var file = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
            file.Position = start;
            byte[] buffer = new byte[64 * 1024];
            long remaining = breakIt ? Math.Min(length, breakAfter) : length;
            bool first = true;
            while (remaining > 0)
            {
                int read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining))).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                if (first && corrupt)
                {
                    buffer[0] ^= 0xFF;
                }

                first = false;
                remaining -= read;
                await response.OutputStream.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            }

            if (breakIt)
            {
                await response.OutputStream.FlushAsync().ConfigureAwait(false);
                response.Abort();
            }
        };
        return Task.CompletedTask;
    }

    // files.stone route get_metadata (GetMetadataArg, Metadata, GetMetadataError): "Metadata for the root folder is unsupported."
    private Task GetMetadata(JsonElement arg, Reply reply)
    {
        string path = RequiredString(arg, "path", "files/get_metadata");
        if (path.Length == 0)
        {
            throw new BadInput("Error in call to API function \"files/get_metadata\": request body: path: The root folder is unsupported.");
        }

        string lower = CheckPath(path, allowRoot: false) ?? throw Lookup("path", "malformed_path");
        DropboxNode node;
        lock (_gate)
        {
            node = _nodes.GetValueOrDefault(lower) ?? throw Lookup("path", "not_found");
        }

        reply.Body = Json(w => WriteMetadata(w, node, withTag: true));
        return Task.CompletedTask;
    }

    // files.stone route list_folder: entries (files and folders; a recursive listing of a folder includes the folder itself),
    // a cursor and has_more; limit 1..2000 is approximate; the order is not documented, so the double scrambles it. The cursor
    // pages through the state at the time of the list_folder call (the double does not report later changes).
    private Task ListFolder(JsonElement arg, Reply reply)
    {
        const string route = "files/list_folder";
        string path = RequiredString(arg, "path", route);
        bool recursive = OptionalBool(arg, "recursive", false, route);
        int limit = DefaultPageSize;
        if (arg.TryGetProperty("limit", out JsonElement limitElement))
        {
            if (!limitElement.TryGetInt32(out limit) || limit is < 1 or > 2000)
            {
                throw new BadInput($"Error in call to API function \"{route}\": request body: limit: value must be between 1 and 2000");
            }
        }

        string folder = CheckPath(path, allowRoot: true) ?? throw Lookup("path", "malformed_path");
        List<DropboxNode> entries;
        lock (_gate)
        {
            if (folder.Length > 0)
            {
                DropboxNode self = _nodes.GetValueOrDefault(folder) ?? throw Lookup("path", "not_found");
                if (!self.IsFolder)
                {
                    throw Lookup("path", "not_folder");
                }
            }

            entries = _nodes.Where(p => (recursive && p.Key == folder && folder.Length > 0)
                    || (p.Key.StartsWith(folder + "/", StringComparison.Ordinal) && (recursive || !p.Key[(folder.Length + 1)..].Contains('/', StringComparison.Ordinal))))
                .OrderBy(p => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(p.Key))), StringComparer.Ordinal)
                .Select(p => Copy(p.Value))
                .ToList();
        }

        var cursor = new ListCursor { Entries = entries, Limit = Math.Min(limit, MaxPageSize) };
        string id = "AAH" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        lock (_gate)
        {
            _cursors[id] = cursor;
        }

        WritePage(reply, id, cursor);
        return Task.CompletedTask;
    }

    private static DropboxNode Copy(DropboxNode n) => new()
    {
        DisplayPath = n.DisplayPath, IsFolder = n.IsFolder, Id = n.Id, Rev = n.Rev, BlobPath = n.BlobPath, Size = n.Size, ContentHash = n.ContentHash, ServerModified = n.ServerModified,
    };

    private void WritePage(Reply reply, string id, ListCursor cursor)
    {
        List<DropboxNode> page;
        bool more;
        lock (_gate)
        {
            page = cursor.Entries.Skip(cursor.Position).Take(cursor.Limit).ToList();
            cursor.Position += page.Count;
            more = cursor.Position < cursor.Entries.Count;
        }

        reply.Body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("entries");
            foreach (DropboxNode node in page)
            {
                WriteMetadata(w, node, withTag: true);
            }

            w.WriteEndArray();
            w.WriteString("cursor", id);
            w.WriteBoolean("has_more", more);
            w.WriteEndObject();
        });
    }

    // files.stone route list_folder/continue: ListFolderContinueError.reset when the cursor was invalidated.
    private Task ListContinue(JsonElement arg, Reply reply)
    {
        string id = RequiredString(arg, "cursor", "files/list_folder/continue");
        ListCursor? cursor;
        lock (_gate)
        {
            cursor = _cursors.GetValueOrDefault(id);
        }

        if (cursor is null)
        {
            throw new BadInput("Error in call to API function \"files/list_folder/continue\": Invalid \"cursor\" parameter.");
        }

        if (cursor.Reset)
        {
            throw new RouteError("reset", Tag("reset"));
        }

        WritePage(reply, id, cursor);
        return Task.CompletedTask;
    }

    // files.stone route delete:2 (DeleteArg, DeleteResult, DeleteError): a folder is deleted with all its contents;
    // parent_rev deletes only if it is the file's latest rev and "does not support deleting a folder". The error for a
    // parent_rev that does not match is not documented; the double answers path_write/conflict/file.
    private Task Delete(JsonElement arg, Reply reply)
    {
        const string route = "files/delete_v2";
        string path = RequiredString(arg, "path", route);
        string? parentRev = OptionalString(arg, "parent_rev");
        string lower = CheckPath(path, allowRoot: false) ?? throw Lookup("path_lookup", "malformed_path");
        DropboxNode node;
        lock (_gate)
        {
            node = _nodes.GetValueOrDefault(lower) ?? throw Lookup("path_lookup", "not_found");
            if (parentRev is not null)
            {
                if (node.IsFolder)
                {
                    throw Lookup("path_lookup", "not_file");
                }

                if (node.Rev != parentRev)
                {
                    throw new RouteError("path_write/conflict/file", Nested("path_write", Nested("conflict", Tag("file"))));
                }
            }

            foreach (string key in _nodes.Keys.Where(k => k == lower || k.StartsWith(lower + "/", StringComparison.Ordinal)).ToList())
            {
                _nodes.Remove(key);
            }
        }

        reply.Body = Json(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("metadata");
            WriteMetadata(w, node, withTag: true);
            w.WriteEndObject();
        });
        return Task.CompletedTask;
    }
}
