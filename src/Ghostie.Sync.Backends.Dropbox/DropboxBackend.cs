using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Ghostie.Sync.Backends.Dropbox.Internal;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.Dropbox;

/// <summary>
/// A repository in a Dropbox app folder (App folder access type): object <c>a/b</c> is the file <c>/a/b</c> relative to
/// the app folder (or to <see cref="DropboxBackendOptions.Folder"/> in it). Writes are atomic commits (one upload, or an
/// upload session whose file appears only at finish); conditional writes use the upload modes <c>add</c> (create-only)
/// and <c>update</c> with the file's <c>rev</c> (replace-if-unchanged), both with <c>strict_conflict</c>. Content hashes
/// are checked on every upload (against the returned metadata) and download (against Dropbox-API-Result). See
/// docs/backends/dropbox.md.
/// </summary>
public sealed class DropboxBackend : IConditionalStorageBackend, IDisposable
{
    private readonly DropboxBackendOptions _options;
    private readonly DropboxClient _client;
    private readonly ILogger _logger;
    private readonly string _root;
    private readonly string _rootLower;

    // Chunk buffers come from a pool of this instance (ArrayPool.Shared keeps big arrays per thread).
    private readonly ArrayPool<byte> _buffers;

    /// <summary>Creates the backend; nothing is requested until the first operation.</summary>
    /// <param name="options">The options (validated here).</param>
    /// <param name="logger">Optional logger (never receives the token or any content).</param>
    /// <exception cref="GhostieSyncException">The options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public DropboxBackend(DropboxBackendOptions options, ILogger<DropboxBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = options.GetValidationErrors();
        if (errors.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, string.Join(" ", errors));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _root = options.RootPath;
        _rootLower = _root.ToLowerInvariant();
        DisplayName = _root.Length == 0 ? "Dropbox app folder" : $"Dropbox app folder '{_root.TrimStart('/')}'";
        _buffers = ArrayPool<byte>.Create(options.UploadChunkSize + 1, 8);
        _client = new DropboxClient(options, DisplayName, _logger);
    }

    /// <inheritdoc />
    public string DisplayName { get; }

    /// <summary>HTTP requests sent so far (retries and token refreshes included).</summary>
    public long RequestCount => _client.RequestCount;

    private string PathOf(string name) => _root + "/" + name;

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        UploadResult result = await UploadAsync(name, content, Mode.Overwrite, null, cancellationToken).ConfigureAwait(false);
        if (result.Conflict is not null)
        {
            throw InTheWay(name, result.Conflict);
        }
    }

    /// <inheritdoc />
    public async Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        UploadResult result = await UploadAsync(name, content, Mode.Add, null, cancellationToken).ConfigureAwait(false);
        return await SettleConditionalAsync(name, result, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        return (await GetFileAsync(name, cancellationToken).ConfigureAwait(false))?.Rev;
    }

    /// <inheritdoc />
    public async Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(expectedVersion);
        cancellationToken.ThrowIfCancellationRequested();
        if (expectedVersion.Length < 9 || !expectedVersion.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"'{DropboxClient.Clean(expectedVersion)}' is not a Dropbox revision (9 or more hex digits); pass the version GetVersionAsync returned for '{name}'.");
        }

        UploadResult result = await UploadAsync(name, content, Mode.Update, expectedVersion, cancellationToken).ConfigureAwait(false);
        return await SettleConditionalAsync(name, result, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(name);
        (HttpResponseMessage Response, DropboxFile File)? opened = await _client.CallAsync<(HttpResponseMessage, DropboxFile)?>($"Dropbox download '{name}'",
            () => _client.ContentCall("files/download", DropboxClient.Arg(w => w.WriteString("path", path)), null),
            (response, _) => Task.FromResult<((HttpResponseMessage, DropboxFile)?, bool)>(((response, ResultHeader(response, name)), true)),
            error => error.Is("path/not_found") || error.Is("path/not_file") ? null : throw Refused($"download '{name}'", error),
            cancellationToken).ConfigureAwait(false);
        if (opened is not (HttpResponseMessage response, DropboxFile file))
        {
            await EnsureRootAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        try
        {
            Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var resumable = new ResumableReadStream(body, response, file.Size, (offset, ct) => ReopenAsync(name, file, offset, ct), _options.MaxDownloadResumes);
            return new VerifyingReadStream(resumable, name, file);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        cancellationToken.ThrowIfCancellationRequested();
        int slash = prefix.LastIndexOf('/');
        string folder = slash < 0 ? "" : prefix[..slash];
        string path = folder.Length == 0 ? _root : _root + "/" + folder;
        List<string> names = await ListFolderAsync(path, prefix, cancellationToken).ConfigureAwait(false);
        names.Sort(StringComparer.Ordinal);
        foreach (string name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(name);
        for (int round = 0; round < 4; round++)
        {
            // The rev guards the delete: delete_v2 on a folder would delete everything under it, and a file replaced since
            // the metadata was read is deleted in its new version by the next round, never blindly.
            DropboxFile? file = await GetFileAsync(name, cancellationToken).ConfigureAwait(false);
            if (file is null)
            {
                return false;
            }

            bool? deleted = await _client.CallAsync<bool?>($"Dropbox delete '{name}'",
                () => _client.Rpc("files/delete_v2", DropboxClient.Arg(w =>
                {
                    w.WriteString("path", path);
                    w.WriteString("parent_rev", file.Rev);
                })),
                (_, _) => Task.FromResult<(bool?, bool)>((true, false)),
                error => error.Is("path_lookup/not_found") ? false : error.Is("path_write") || error.Is("path_lookup") ? null : throw Refused($"delete '{name}'", error),
                cancellationToken).ConfigureAwait(false);
            if (deleted is bool done)
            {
                return done;
            }
        }

        throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"Object '{name}' in {DisplayName} kept changing while it was being deleted; try again.", isTransient: true);
    }

    /// <summary>Releases the HTTP client.</summary>
    public void Dispose() => _client.Dispose();

    private enum Mode
    {
        Overwrite,
        Add,
        Update,
    }

    /// <summary>What an upload came to: the stored file, or the WriteError conflict tag, and whether a commit request was
    /// sent more than once (so a conflict may be our own earlier attempt, whose answer was lost).</summary>
    private sealed record UploadResult(DropboxFile? File, string? Conflict, bool Retried, string ContentHash);

    private static GhostieSyncException Refused(string what, DropboxError error) =>
        new(GhostieErrorCode.BackendUnavailable, $"Dropbox refused to {what} ({error.Tags}); retrying will not help until the cause is fixed.");

    private GhostieSyncException InTheWay(string name, string conflict) =>
        new(GhostieErrorCode.InvalidArgument, conflict switch
        {
            "folder" => $"Object '{name}' cannot be written to {DisplayName}: a folder is at /{name}. Move that folder away in Dropbox.",
            "file_ancestor" => $"Object '{name}' cannot be written to {DisplayName}: a file is at one of the folders of /{name}. Move that file away in Dropbox.",
            _ => $"Object '{name}' could not be written to {DisplayName} (conflict/{conflict}).",
        });

    /// <summary>A conditional write's outcome: a conflict is "someone else's object", unless the commit was resent and the
    /// file there carries exactly our content (our own first attempt landed; its answer was lost).</summary>
    private async Task<bool> SettleConditionalAsync(string name, UploadResult result, CancellationToken cancellationToken)
    {
        if (result.File is not null)
        {
            return true;
        }

        if (result.Conflict is "file" && result.Retried)
        {
            DropboxFile? there = await GetFileAsync(name, cancellationToken).ConfigureAwait(false);
            return there?.ContentHash == result.ContentHash;
        }

        return false;
    }

    private static DropboxFile ResultHeader(HttpResponseMessage response, string name)
    {
        if (!response.Headers.TryGetValues("Dropbox-API-Result", out IEnumerable<string>? values))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Dropbox answered the download of '{name}' without a Dropbox-API-Result header; is the content base URI Dropbox's?", isTransient: true);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(values.First());
            return DropboxClient.ReadFile(document.RootElement, $"the download of '{name}'");
        }
        catch (JsonException)
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Dropbox's Dropbox-API-Result header for '{name}' is not JSON.", isTransient: true);
        }
    }

    /// <summary>The rest of a download from <paramref name="offset"/>, of the same revision (ReadPath "rev:..."), so an object
    /// replaced meanwhile is never spliced.</summary>
    private async Task<(Stream Body, IDisposable? Owner)> ReopenAsync(string name, DropboxFile file, long offset, CancellationToken cancellationToken)
    {
        Log.Resumed(_logger, name, offset);
        HttpResponseMessage? response = await _client.CallAsync<HttpResponseMessage?>($"Dropbox download '{name}' from byte {offset}",
            () =>
            {
                HttpRequestMessage request = _client.ContentCall("files/download", DropboxClient.Arg(w => w.WriteString("path", "rev:" + file.Rev)), null);
                request.Headers.TryAddWithoutValidation("Range", $"bytes={DropboxClient.Number(offset)}-");
                return request;
            },
            (r, _) => Task.FromResult<(HttpResponseMessage?, bool)>((r, true)),
            _ => null, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"Object '{name}' in {DisplayName} changed while it was being read, and its revision is gone; read it again.", isTransient: true);
        }

        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != System.Net.HttpStatusCode.PartialContent)
        {
            // The range was ignored: skip what was already read.
            byte[] skip = new byte[81920];
            for (long left = offset; left > 0;)
            {
                int read = await body.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, left)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                left -= read;
            }
        }

        return (body, response);
    }

    /// <summary>The file at an object's name, or null (nothing there, or a folder: not an object).</summary>
    private async Task<DropboxFile?> GetFileAsync(string name, CancellationToken cancellationToken)
    {
        string path = PathOf(name);
        (bool Found, DropboxFile? File) result = await _client.CallAsync($"Dropbox get_metadata '{name}'",
            () => _client.Rpc("files/get_metadata", DropboxClient.Arg(w => w.WriteString("path", path))),
            async (response, ct) =>
            {
                JsonElement metadata = await DropboxClient.ReadJsonAsync(response, ct).ConfigureAwait(false);
                bool isFile = metadata.TryGetProperty(".tag", out JsonElement tag) && tag.GetString() == "file";
                return ((true, isFile ? DropboxClient.ReadFile(metadata, $"get_metadata '{name}'") : null), false);
            },
            error => error.Is("path/not_found") ? (false, null) : throw Refused($"read the metadata of '{name}'", error),
            cancellationToken).ConfigureAwait(false);
        if (!result.Found)
        {
            await EnsureRootAsync(cancellationToken).ConfigureAwait(false);
        }

        return result.File;
    }

    /// <summary>After a "not found": a configured folder that is itself missing is a missing store, not an empty one.</summary>
    private async Task EnsureRootAsync(CancellationToken cancellationToken)
    {
        if (_root.Length == 0 || _options.CreateFolderIfMissing)
        {
            return;
        }

        bool exists = await _client.CallAsync($"Dropbox get_metadata '{_root}'",
            () => _client.Rpc("files/get_metadata", DropboxClient.Arg(w => w.WriteString("path", _root))),
            async (response, ct) =>
            {
                JsonElement metadata = await DropboxClient.ReadJsonAsync(response, ct).ConfigureAwait(false);
                return (metadata.TryGetProperty(".tag", out JsonElement tag) && tag.GetString() == "folder", false);
            },
            error => error.Is("path/not_found") ? false : throw Refused($"read the metadata of '{_root}'", error),
            cancellationToken).ConfigureAwait(false);
        if (!exists)
        {
            throw new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                $"The repository folder of {DisplayName} does not exist in the app folder (or is a file): it was moved, renamed or deleted. Restore it in Dropbox, fix DropboxBackendOptions.Folder, or run setup again to start a new repository.");
        }
    }

    private async Task<List<string>> ListFolderAsync(string path, string prefix, CancellationToken cancellationToken)
    {
        for (int restart = 0; ; restart++)
        {
            var names = new List<string>();
            string body = DropboxClient.Arg(w =>
            {
                w.WriteString("path", path);
                w.WriteBoolean("recursive", true);
                w.WriteNumber("limit", _options.ListPageSize);
            });
            Page? page = await _client.CallAsync<Page?>($"Dropbox list_folder '{(path.Length == 0 ? "/" : path)}'", () => _client.Rpc("files/list_folder", body),
                async (response, ct) => ((Page?)await ReadPageAsync(response, names, prefix, ct).ConfigureAwait(false), false),
                error => error.Is("path/not_found") || error.Is("path/not_folder") ? null : throw Refused($"list '{path}'", error),
                cancellationToken).ConfigureAwait(false);
            if (page is null)
            {
                await EnsureRootAsync(cancellationToken).ConfigureAwait(false);
                return names;
            }

            bool reset = false;
            for (int pages = 1; page.HasMore; pages++)
            {
                if (pages > 100_000)
                {
                    throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Listing {DisplayName} did not end after 100,000 pages; the server's cursor is broken.");
                }

                string cursor = DropboxClient.Arg(w => w.WriteString("cursor", page.Cursor));
                Page? next = await _client.CallAsync<Page?>($"Dropbox list_folder/continue (page {pages + 1})", () => _client.Rpc("files/list_folder/continue", cursor),
                    async (response, ct) => ((Page?)await ReadPageAsync(response, names, prefix, ct).ConfigureAwait(false), false),
                    error => error.Is("reset") ? null : throw Refused($"continue listing '{path}'", error),
                    cancellationToken).ConfigureAwait(false);
                if (next is null)
                {
                    reset = true; // ListFolderContinueError.reset: the cursor is invalid; list again from the start
                    break;
                }

                page = next;
            }

            if (!reset)
            {
                return names;
            }

            if (restart >= 3)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Dropbox reset the listing of {DisplayName} four times in a row; try again later.", isTransient: true);
            }
        }
    }

    private sealed record Page(string Cursor, bool HasMore);

    /// <summary>Adds a page's files that are objects under <paramref name="prefix"/> (folders and foreign files are skipped).</summary>
    private async Task<Page> ReadPageAsync(HttpResponseMessage response, List<string> names, string prefix, CancellationToken cancellationToken)
    {
        JsonElement result = await DropboxClient.ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        if (!result.TryGetProperty("entries", out JsonElement entries) || entries.ValueKind != JsonValueKind.Array
            || !result.TryGetProperty("cursor", out JsonElement cursor) || !result.TryGetProperty("has_more", out JsonElement more))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Dropbox answered a listing of {DisplayName} with a body that is not a ListFolderResult.", isTransient: true);
        }

        string rootPrefix = _rootLower + "/";
        foreach (JsonElement entry in entries.EnumerateArray())
        {
            if (entry.TryGetProperty(".tag", out JsonElement tag) && tag.GetString() == "file"
                && entry.TryGetProperty("path_lower", out JsonElement lower) && lower.GetString() is string p
                && p.StartsWith(rootPrefix, StringComparison.Ordinal))
            {
                string name = p[rootPrefix.Length..];
                if (name.StartsWith(prefix, StringComparison.Ordinal) && ObjectName.IsValid(name))
                {
                    names.Add(name);
                }
            }
        }

        return new Page(cursor.GetString() ?? "", more.ValueKind == JsonValueKind.True);
    }

    private void WriteCommit(Utf8JsonWriter w, string path, Mode mode, string? rev)
    {
        w.WriteString("path", path);
        switch (mode)
        {
            case Mode.Add:
                w.WriteString("mode", "add");
                break;
            case Mode.Overwrite:
                w.WriteString("mode", "overwrite");
                break;
            default:
                w.WriteStartObject("mode");
                w.WriteString(".tag", "update");
                w.WriteString("update", rev);
                w.WriteEndObject();
                break;
        }

        // Conflicts are answers, never renamed copies; strict_conflict makes identical content and vanished files conflict too,
        // which create-only and replace-if-unchanged need. mute: a sync object is no news for the person's Dropbox clients.
        w.WriteBoolean("autorename", false);
        w.WriteBoolean("strict_conflict", mode != Mode.Overwrite);
        w.WriteBoolean("mute", true);
    }

    private static async Task<int> ReadUpToAsync(Stream source, Memory<byte> target, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < target.Length)
        {
            int read = await source.ReadAsync(target[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>
    /// Uploads <paramref name="content"/> to an object's path in one commit: content that fits one chunk, or seekable content
    /// up to <see cref="DropboxBackendOptions.UploadSessionThreshold"/>, in one upload request; anything larger through an
    /// upload session, whose file appears only when it is finished. The content hash of what was sent is compared with the
    /// stored file's; a mismatch removes the damaged file (only that revision) and is an <see cref="IntegrityException"/>.
    /// </summary>
    private async Task<UploadResult> UploadAsync(string name, Stream content, Mode mode, string? rev, CancellationToken cancellationToken)
    {
        string path = PathOf(name);
        int chunk = _options.UploadChunkSize;
        long start = content.CanSeek ? content.Position : 0;
        byte[] buffer = _buffers.Rent(chunk + 1);
        try
        {
            int filled = await ReadUpToAsync(content, buffer.AsMemory(0, chunk + 1), cancellationToken).ConfigureAwait(false);
            UploadResult result;
            if (filled <= chunk)
            {
                result = await UploadSmallAsync(name, path, buffer.AsMemory(0, filled), mode, rev, cancellationToken).ConfigureAwait(false);
            }
            else if (content.CanSeek && content.Length - start <= _options.UploadSessionThreshold)
            {
                result = await UploadStreamedAsync(name, path, content, start, mode, rev, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                result = await UploadSessionAsync(name, path, content, buffer, filled, mode, rev, cancellationToken).ConfigureAwait(false);
            }

            if (result.File is DropboxFile stored && stored.ContentHash != result.ContentHash)
            {
                await RemoveDamagedAsync(name, path, stored).ConfigureAwait(false);
                throw new IntegrityException(name,
                    $"Dropbox stored content whose content hash ({DropboxClient.Clean(stored.ContentHash)}) differs from the hash of what was sent ({result.ContentHash}); the damaged file was removed, write the object again");
            }

            return result;
        }
        finally
        {
            _buffers.Return(buffer);
        }
    }

    private async Task RemoveDamagedAsync(string name, string path, DropboxFile stored)
    {
        try
        {
            using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _client.CallAsync($"Dropbox delete damaged '{name}'",
                () => _client.Rpc("files/delete_v2", DropboxClient.Arg(w =>
                {
                    w.WriteString("path", path);
                    w.WriteString("parent_rev", stored.Rev);
                })),
                (_, _) => Task.FromResult((true, false)), _ => false, cleanup.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GhostieSyncException or OperationCanceledException or HttpRequestException or IOException)
        {
            Log.CleanupFailed(_logger, name, DisplayName, e.GetType().Name);
        }
    }

    /// <summary>A 2xx answer of a commit: the FileMetadata body.</summary>
    private static async Task<(UploadOutcome, bool)> CommittedAsync(HttpResponseMessage response, string name, CancellationToken cancellationToken) =>
        (new UploadOutcome(DropboxClient.ReadFile(await DropboxClient.ReadJsonAsync(response, cancellationToken).ConfigureAwait(false), $"the upload of '{name}'"), null), false);

    private sealed record UploadOutcome(DropboxFile? File, string? Conflict);

    /// <summary>A WriteError under the given prefix: a conflict is an outcome, anything else an error.</summary>
    private UploadOutcome CommitError(string name, DropboxError error, string prefix, string what)
    {
        if (error.Is(prefix + "/conflict"))
        {
            return new UploadOutcome(null, error.Tags.Split('/').Last());
        }

        if (error.Is(prefix + "/insufficient_space"))
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"Object '{name}' was not written: the Dropbox account of {DisplayName} is full. Free space in Dropbox, then sync again.");
        }

        throw Refused(what, error);
    }

    private async Task<UploadResult> UploadSmallAsync(string name, string path, ReadOnlyMemory<byte> data, Mode mode, string? rev, CancellationToken cancellationToken)
    {
        string hash = ContentHasher.Of(data.Span);
        string arg = DropboxClient.Arg(w =>
        {
            WriteCommit(w, path, mode, rev);
            w.WriteString("content_hash", hash);
        });
        var attempts = new Internal.StrongBox<int>();
        UploadOutcome outcome = await _client.CallAsync($"Dropbox upload '{name}'",
            () => _client.ContentCall("files/upload", arg, new ReadOnlyMemoryContent(data)),
            (response, ct) => CommittedAsync(response, name, ct),
            error => error.Is("content_hash_mismatch") ? throw Damaged() : CommitError(name, error, "path", $"upload '{name}'"),
            cancellationToken, attempts).ConfigureAwait(false);
        return new UploadResult(outcome.File, outcome.Conflict, attempts.Value > 1, hash);
    }

    /// <summary>UploadError.content_hash_mismatch: what Dropbox received is not what was sent (damaged on the way). Retried.</summary>
    private static HttpAttemptException Damaged() =>
        new(System.Net.HttpStatusCode.Conflict, RetryVerdict.Transient("HTTP 409 content_hash_mismatch (the data was damaged on the way)"), "content_hash_mismatch");

    private async Task<UploadResult> UploadStreamedAsync(string name, string path, Stream content, long start, Mode mode, string? rev, CancellationToken cancellationToken)
    {
        string arg = DropboxClient.Arg(w => WriteCommit(w, path, mode, rev));
        long length = content.Length - start;
        HashingContent? last = null;
        var attempts = new Internal.StrongBox<int>();
        UploadOutcome outcome = await _client.CallAsync($"Dropbox upload '{name}'",
            () =>
            {
                content.Position = start;
                last = new HashingContent(content, length);
                return _client.ContentCall("files/upload", arg, last);
            },
            (response, ct) => CommittedAsync(response, name, ct),
            error => CommitError(name, error, "path", $"upload '{name}'"),
            cancellationToken, attempts).ConfigureAwait(false);
        return new UploadResult(outcome.File, outcome.Conflict, attempts.Value > 1, last!.Hash ?? "");
    }

    private async Task<UploadResult> UploadSessionAsync(string name, string path, Stream content, byte[] buffer, int filled, Mode mode, string? rev, CancellationToken cancellationToken)
    {
        int chunk = _options.UploadChunkSize;
        using var whole = new ContentHasher();

        // The first chunk starts the session; the byte read past it opens the next chunk.
        whole.Append(buffer.AsSpan(0, chunk));
        string firstHash = ContentHasher.Of(buffer.AsSpan(0, chunk));
        ReadOnlyMemory<byte> first = buffer.AsMemory(0, chunk);
        string sessionId = await _client.CallAsync($"Dropbox upload_session/start '{name}'",
            () => _client.ContentCall("files/upload_session/start", DropboxClient.Arg(w => w.WriteString("content_hash", firstHash)), new ReadOnlyMemoryContent(first)),
            async (response, ct) =>
            {
                JsonElement result = await DropboxClient.ReadJsonAsync(response, ct).ConfigureAwait(false);
                return (result.TryGetProperty("session_id", out JsonElement id) && id.GetString() is string s ? s
                    : throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, "Dropbox started an upload session without a session_id.", isTransient: true), false);
            },
            error => error.Is("content_hash_mismatch") ? throw Damaged() : throw Refused($"start an upload of '{name}'", error),
            cancellationToken).ConfigureAwait(false);

        long offset = chunk;
        buffer[0] = buffer[chunk];
        filled = 1 + await ReadUpToAsync(content, buffer.AsMemory(1, chunk - 1), cancellationToken).ConfigureAwait(false);
        while (filled > 0)
        {
            whole.Append(buffer.AsSpan(0, filled));
            offset = await AppendAsync(name, sessionId, buffer, filled, offset, cancellationToken).ConfigureAwait(false);
            filled = await ReadUpToAsync(content, buffer.AsMemory(0, chunk), cancellationToken).ConfigureAwait(false);
        }

        string hash = whole.Finish();
        long total = offset;
        string arg = DropboxClient.Arg(w =>
        {
            w.WriteStartObject("cursor");
            w.WriteString("session_id", sessionId);
            w.WriteNumber("offset", total);
            w.WriteEndObject();
            w.WriteStartObject("commit");
            WriteCommit(w, path, mode, rev);
            w.WriteEndObject();
        });
        var attempts = new Internal.StrongBox<int>();
        UploadOutcome outcome = await _client.CallAsync($"Dropbox upload_session/finish '{name}'",
            () => _client.ContentCall("files/upload_session/finish", arg, new ReadOnlyMemoryContent(ReadOnlyMemory<byte>.Empty)),
            (response, ct) => CommittedAsync(response, name, ct),
            error =>
            {
                // A finish resent after its answer was lost finds the session already committed.
                if (attempts.Value > 1 && (error.Is("lookup_failed/closed") || error.Is("lookup_failed/not_found")))
                {
                    return new UploadOutcome(null, "file");
                }

                return error.Is("lookup_failed") ? throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                        $"The upload session of '{name}' at {DisplayName} was lost ({error.Tags}); nothing was written, write it again.", isTransient: true)
                    : CommitError(name, error, "path", $"finish the upload of '{name}'");
            },
            cancellationToken, attempts).ConfigureAwait(false);
        if (outcome.File is null && outcome.Conflict is "file" && attempts.Value > 1 && mode == Mode.Overwrite)
        {
            // Overwrite never conflicts with a file: this was our own committed session. Read what is there.
            DropboxFile? there = await GetFileAsync(name, cancellationToken).ConfigureAwait(false);
            return new UploadResult(there, there is null ? "file" : null, true, hash);
        }

        return new UploadResult(outcome.File, outcome.Conflict, attempts.Value > 1, hash);
    }

    /// <summary>Appends one chunk at <paramref name="offset"/>; returns the offset after it. An incorrect_offset answer
    /// (an earlier attempt landed, its answer lost) resumes at the offset Dropbox reports, sending only what it lacks.</summary>
    private async Task<long> AppendAsync(string name, string sessionId, byte[] buffer, int length, long offset, CancellationToken cancellationToken)
    {
        long end = offset + length;
        for (int round = 0; round < 3; round++)
        {
            long at = offset;
            ReadOnlyMemory<byte> data = buffer.AsMemory((int)(at - (end - length)), (int)(end - at));
            string hash = ContentHasher.Of(data.Span);
            string arg = DropboxClient.Arg(w =>
            {
                w.WriteStartObject("cursor");
                w.WriteString("session_id", sessionId);
                w.WriteNumber("offset", at);
                w.WriteEndObject();
                w.WriteString("content_hash", hash);
            });
            long? correct = await _client.CallAsync<long?>($"Dropbox upload_session/append_v2 '{name}' at {at}",
                () => _client.ContentCall("files/upload_session/append_v2", arg, new ReadOnlyMemoryContent(data)),
                (_, _) => Task.FromResult<(long?, bool)>((null, false)),
                error => error.Is("incorrect_offset") && error.CorrectOffset is long c ? c
                    : error.Is("content_hash_mismatch") ? throw Damaged()
                    : throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                        $"The upload session of '{name}' at {DisplayName} failed ({error.Tags}); nothing was written, write it again.", isTransient: true),
                cancellationToken).ConfigureAwait(false);
            if (correct is null || correct == end)
            {
                return end;
            }

            if (correct < end - length || correct > end)
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"The upload session of '{name}' at {DisplayName} is at byte {correct}, outside the chunk being sent ({end - length} to {end}); nothing was written, write it again.", isTransient: true);
            }

            offset = correct.Value;
        }

        throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"The upload session of '{name}' at {DisplayName} kept reporting other offsets; nothing was written, write it again.", isTransient: true);
    }
}
