using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ghostie.Sync.Backends.GoogleDrive.Internal;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.GoogleDrive;

/// <summary>
/// A repository in Google Drive: every object is one file, named as the object, in the hidden app data folder
/// (<c>spaces=appDataFolder</c>, scope drive.appdata) or in the folder <see cref="GoogleDriveBackendOptions.FolderId"/>.
/// Objects up to <see cref="GoogleDriveBackendOptions.ResumableThreshold"/> go up in one multipart request, larger ones
/// through a resumable upload in chunks of <see cref="GoogleDriveBackendOptions.ChunkSize"/>; a file appears only once
/// its upload completed, so nothing is ever half-written. See docs/backends/google-drive.md.
/// </summary>
/// <remarks>
/// Drive lets two files share a name. When two devices create the same object at once, both files exist; every device
/// reads, replaces and counts as the object the same one of them: the file with the oldest <c>createdTime</c>, ties
/// broken by the smaller id (ordinal). <see cref="DeleteAsync"/> deletes all of them; <see cref="CleanupAsync"/>
/// deletes the others once they are older than <see cref="GoogleDriveBackendOptions.DuplicateGracePeriod"/>. Every
/// write carries a random write id in the file's appProperties, so a create retried after an ambiguous failure finds
/// its own first attempt instead of making a duplicate. Drive v3 offers no compare-and-swap (no ETag preconditions),
/// so this backend does not implement <see cref="IConditionalStorageBackend"/>.
/// </remarks>
public sealed partial class GoogleDriveBackend : IStorageBackend, IDisposable
{
    /// <summary>The appProperties key of the write marker.</summary>
    internal const string WriteIdProperty = "ghostieWrite";

    private const string FolderMimeType = "application/vnd.google-apps.folder";
    private const string FileFields = "id,name,createdTime,size,version,appProperties";
    private const string ListFields = "nextPageToken,files(" + FileFields + ")";
    private readonly GoogleDriveBackendOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly string _parent;
    private readonly string _spaces;
    private long _requestCount;
    private int _folderChecked;

    /// <summary>Creates the backend; nothing is requested until the first operation.</summary>
    /// <param name="options">The options (validated here).</param>
    /// <param name="logger">Optional logger (never receives the token or any content).</param>
    /// <exception cref="GhostieSyncException">The options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>), for
    /// example no token and no token provider is set.</exception>
    public GoogleDriveBackend(GoogleDriveBackendOptions options, ILogger<GoogleDriveBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = options.GetValidationErrors();
        if (errors.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, string.Join(" ", errors));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _parent = options.FolderId ?? "appDataFolder";
        _spaces = options.FolderId is null ? "appDataFolder" : "drive";
        DisplayName = options.FolderId is null
            ? $"the Google Drive app data folder at {options.ApiBaseUri.Authority}"
            : $"the Google Drive folder '{options.FolderId}' at {options.ApiBaseUri.Authority}";
        _http = options.HttpMessageHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false)
            : new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), AllowAutoRedirect = false }, disposeHandler: true);
        _http.Timeout = Timeout.InfiniteTimeSpan; // each attempt has its own timeout (BackendRetryOptions.AttemptTimeout)
    }

    /// <inheritdoc />
    public string DisplayName { get; }

    /// <summary>HTTP requests sent so far (retries and token refreshes included).</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        await EnsureFolderAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(_options.ChunkSize, _options.ResumableThreshold + 1));
        try
        {
            int filled = await ReadUpToAsync(content, buffer.AsMemory(0, _options.ResumableThreshold + 1), cancellationToken).ConfigureAwait(false);
            DriveFile? current = Winner(await ListFilesAsync(name, cancellationToken).ConfigureAwait(false));
            string writeId = NewWriteId();
            if (filled <= _options.ResumableThreshold)
            {
                await PutMultipartAsync(name, current?.Id, writeId, buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                return;
            }

            await PutResumableAsync(name, current?.Id, writeId, content, buffer, filled, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    /// <remarks>The stream reads the download as it arrives; if the connection breaks midway, the rest is asked for with a
    /// Range request, only while the file's version is still the one the download began with.</remarks>
    public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        await EnsureFolderAsync(cancellationToken).ConfigureAwait(false);
        for (int round = 0; round < 3; round++)
        {
            DriveFile? file = Winner(await ListFilesAsync(name, cancellationToken).ConfigureAwait(false));
            if (file is null)
            {
                return null;
            }

            Stream? stream = await DownloadAsync(name, file, cancellationToken).ConfigureAwait(false);
            if (stream is not null)
            {
                return stream;
            }

            // The file was deleted or replaced between the listing and the download: look again.
        }

        throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"Object '{name}' in {DisplayName} changed while it was being read, three times; try again.", isTransient: true);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        cancellationToken.ThrowIfCancellationRequested();
        await EnsureFolderAsync(cancellationToken).ConfigureAwait(false);

        // Drive's "name contains" matches words, not prefixes of whole names, so the folder is listed and filtered here.
        List<DriveFile> files = await ListFilesAsync(null, cancellationToken).ConfigureAwait(false);
        string[] names = files.Select(f => f.Name).Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && ObjectName.IsValid(n))
            .Distinct(StringComparer.Ordinal).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
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
        await EnsureFolderAsync(cancellationToken).ConfigureAwait(false);
        List<DriveFile> files = await ListFilesAsync(name, cancellationToken).ConfigureAwait(false);
        bool deleted = false;
        foreach (DriveFile file in files)
        {
            deleted |= await DeleteFileAsync(name, file.Id, cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    /// <summary>
    /// Deletes the duplicates Drive allows: for every object name held by several files, every file but the one reads
    /// use (oldest createdTime, then smallest id) that is older than <see cref="GoogleDriveBackendOptions.DuplicateGracePeriod"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the cleanup (what was removed stays removed).</param>
    /// <returns>The number of files deleted.</returns>
    public async Task<int> CleanupAsync(CancellationToken cancellationToken = default)
    {
        await EnsureFolderAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset cutoff = _options.Retry.TimeProvider.GetUtcNow() - _options.DuplicateGracePeriod;
        int removed = 0;
        foreach (IGrouping<string, DriveFile> group in (await ListFilesAsync(null, cancellationToken).ConfigureAwait(false)).GroupBy(f => f.Name, StringComparer.Ordinal))
        {
            DriveFile winner = Winner(group.ToList())!;
            foreach (DriveFile loser in group.Where(f => f.Id != winner.Id && f.CreatedTime < cutoff))
            {
                if (await DeleteFileAsync(group.Key, loser.Id, cancellationToken).ConfigureAwait(false))
                {
                    removed++;
                }
            }
        }

        Log.CleanedUp(_logger, removed, DisplayName);
        return removed;
    }

    /// <summary>Releases the HTTP client.</summary>
    public void Dispose()
    {
        _http.Dispose();
        _tokenLock.Dispose();
    }

    /// <summary>The file every device takes for an object among files of one name: the oldest createdTime, then the
    /// smallest id (ordinal). Null when there is none.</summary>
    internal static DriveFile? Winner(IReadOnlyCollection<DriveFile> files) =>
        files.OrderBy(f => f.CreatedTime).ThenBy(f => f.Id, StringComparer.Ordinal).FirstOrDefault();

    private static string NewWriteId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

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

    /// <summary>A string literal of Drive's query language: single quotes, with backslash and quote escaped.</summary>
    private static string Quote(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>A chosen folder must exist and be a folder this token sees; checked once per instance (the app data
    /// folder is created by Drive on first use).</summary>
    private async Task EnsureFolderAsync(CancellationToken cancellationToken)
    {
        if (_options.FolderId is not string folder || Volatile.Read(ref _folderChecked) == 1)
        {
            return;
        }

        DriveFile? found = await RunAsync("GET folder", null, async ct =>
        {
            HttpResponseMessage response = await SendAsync(() => Request(HttpMethod.Get, $"drive/v3/files/{Uri.EscapeDataString(folder)}?fields=id,mimeType,trashed"), ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                using (response)
                {
                    return await response.Content.ReadFromJsonAsync(DriveJsonContext.Default.DriveFile, ct).ConfigureAwait(false);
                }
            }

            HttpAttemptException failure = await FailureAsync(response, "GET folder", ct).ConfigureAwait(false);
            return IsNotFound(failure) ? null : throw failure;
        }, cancellationToken).ConfigureAwait(false);
        if (found is null || found.Trashed || found.MimeType != FolderMimeType)
        {
            throw new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                found is null
                    ? $"{DisplayName} does not exist, or the access token cannot see it (with the drive.file scope only folders this app created or was given are visible). Check FolderId, or run '{GoogleDriveCredentialException.SetupCommand}' again."
                    : $"{DisplayName} is not a folder (or is in the trash). Check FolderId.");
        }

        Volatile.Write(ref _folderChecked, 1);
    }

    /// <summary>Every file of the repository (or of one object name), following nextPageToken to the end. A page token
    /// Google rejects restarts the listing from the first page, as files.list asks.</summary>
    private async Task<List<DriveFile>> ListFilesAsync(string? name, CancellationToken cancellationToken)
    {
        // Folders are never objects (a chosen folder may hold subfolders of the person's).
        string query = $"{Quote(_parent)} in parents and trashed = false and mimeType != '{FolderMimeType}'" + (name is null ? "" : " and name = " + Quote(name));
        return await ListQueryAsync(query, name, cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<DriveFile>> ListQueryAsync(string query, string? name, CancellationToken cancellationToken)
    {
        for (int restart = 0; ; restart++)
        {
            var files = new List<DriveFile>();
            string? token = null;
            try
            {
                do
                {
                    string url = $"drive/v3/files?spaces={_spaces}&pageSize=1000&fields={Uri.EscapeDataString(ListFields)}&q={Uri.EscapeDataString(query)}"
                        + (token is null ? "" : "&pageToken=" + Uri.EscapeDataString(token));
                    string? pageToken = token;
                    DriveFileList page = await BackendRetry.ExecuteAsync($"Google Drive LIST{(name is null ? "" : $" '{name}'")} in {DisplayName}", async ct =>
                    {
                        HttpResponseMessage response = await SendAsync(() => Request(HttpMethod.Get, url), ct).ConfigureAwait(false);
                        if (!response.IsSuccessStatusCode)
                        {
                            throw await FailureAsync(response, "LIST", ct).ConfigureAwait(false);
                        }

                        using (response)
                        {
                            return await response.Content.ReadFromJsonAsync(DriveJsonContext.Default.DriveFileList, ct).ConfigureAwait(false)
                                ?? throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable, $"Google Drive answered a listing of {DisplayName} with an empty body.", isTransient: true);
                        }
                    }, Classify, _options.Retry, cancellationToken).ConfigureAwait(false);
                    files.AddRange(page.Files.Where(f => name is null || f.Name == name));
                    token = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
                    if (token is not null && token == pageToken)
                    {
                        throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                            $"Google Drive returned the same page token twice while listing {DisplayName}; try again.", isTransient: true);
                    }
                }
                while (token is not null);

                return files;
            }
            catch (HttpAttemptException e) when (e.Status == HttpStatusCode.BadRequest && e.ServiceCode?.EndsWith("@pageToken", StringComparison.Ordinal) == true && restart < 2)
            {
                // Rejected page token: start again from the first page.
            }
            catch (HttpAttemptException e)
            {
                throw Map(e, $"Google Drive LIST in {DisplayName}");
            }
        }
    }

    private Task<bool> DeleteFileAsync(string name, string id, CancellationToken cancellationToken) =>
        RunAsync("DELETE", name, async ct =>
        {
            HttpResponseMessage response = await SendAsync(() => Request(HttpMethod.Delete, $"drive/v3/files/{Uri.EscapeDataString(id)}"), ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                response.Dispose();
                return true;
            }

            HttpAttemptException failure = await FailureAsync(response, "DELETE", ct).ConfigureAwait(false);
            return IsNotFound(failure) ? false : throw failure; // deleted by another device meanwhile: fine
        }, cancellationToken);

    /// <summary>Opens the download of one file; null when it vanished meanwhile.</summary>
    private Task<Stream?> DownloadAsync(string name, DriveFile file, CancellationToken cancellationToken) =>
        RunAsync<Stream?>("GET", name, async ct =>
        {
            HttpResponseMessage response = await SendAsync(() => Request(HttpMethod.Get, $"drive/v3/files/{Uri.EscapeDataString(file.Id)}?alt=media"), ct,
                HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                    return new ResumableReadStream(body, response, response.Content.Headers.ContentLength,
                        (offset, token) => ResumeDownloadAsync(name, file, offset, token), _options.Retry.MaxAttempts);
                }
                catch
                {
                    response.Dispose();
                    throw;
                }
            }

            HttpAttemptException failure = await FailureAsync(response, "GET", ct).ConfigureAwait(false);
            return IsNotFound(failure) ? null : throw failure;
        }, cancellationToken);

    /// <summary>The rest of a download whose connection broke. Drive v3 has no conditional GET, so the file's version is
    /// checked first: a file replaced meanwhile is never spliced (and Ghostie's envelope would refuse a splice anyway).</summary>
    private Task<(Stream Body, IDisposable? Owner)> ResumeDownloadAsync(string name, DriveFile file, long offset, CancellationToken cancellationToken) =>
        RunAsync("GET (resumed)", name, async ct =>
        {
            HttpResponseMessage meta = await SendAsync(() => Request(HttpMethod.Get, $"drive/v3/files/{Uri.EscapeDataString(file.Id)}?fields=id,version"), ct).ConfigureAwait(false);
            if (!meta.IsSuccessStatusCode)
            {
                HttpAttemptException failure = await FailureAsync(meta, "GET (resumed)", ct).ConfigureAwait(false);
                throw IsNotFound(failure) ? Changed(name, "it was deleted meanwhile") : failure;
            }

            DriveFile? now;
            using (meta)
            {
                now = await meta.Content.ReadFromJsonAsync(DriveJsonContext.Default.DriveFile, ct).ConfigureAwait(false);
            }

            if (now?.Version != file.Version)
            {
                throw Changed(name, "it was replaced meanwhile");
            }

            HttpResponseMessage response = await SendAsync(() =>
            {
                HttpRequestMessage request = Request(HttpMethod.Get, $"drive/v3/files/{Uri.EscapeDataString(file.Id)}?alt=media");
                request.Headers.TryAddWithoutValidation("Range", "bytes=" + offset.ToString(CultureInfo.InvariantCulture) + "-");
                return request;
            }, ct, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                try
                {
                    return ((Stream)await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), (IDisposable?)response);
                }
                catch
                {
                    response.Dispose();
                    throw;
                }
            }

            if (response.IsSuccessStatusCode)
            {
                response.Dispose();
                throw Changed(name, "the service did not answer the range request");
            }

            HttpAttemptException failed = await FailureAsync(response, "GET (resumed)", ct).ConfigureAwait(false);
            throw IsNotFound(failed) ? Changed(name, "it was deleted meanwhile") : failed;
        }, cancellationToken);

    private GhostieSyncException Changed(string name, string why) =>
        new(GhostieErrorCode.BackendUnavailable, $"The download of '{name}' from {DisplayName} broke off and could not be resumed: {why}. Try again.", isTransient: true);

    private static byte[] MetadataJson(string? name, string? parent, string writeId) =>
        JsonSerializer.SerializeToUtf8Bytes(new DriveMetadata
        {
            Name = name,
            Parents = parent is null ? null : [parent],
            MimeType = parent is null ? null : "application/octet-stream",
            AppProperties = new Dictionary<string, string>(StringComparer.Ordinal) { [WriteIdProperty] = writeId },
        }, DriveJsonContext.Default.DriveMetadata);

    /// <summary>Whether a create that may have landed did: a file of this folder carrying the write id.</summary>
    private async Task<bool> LandedAsync(string name, string writeId, CancellationToken cancellationToken)
    {
        string query = $"{Quote(_parent)} in parents and trashed = false and appProperties has {{ key='{WriteIdProperty}' and value='{writeId}' }}";
        return (await ListQueryAsync(query, name, cancellationToken).ConfigureAwait(false)).Count > 0;
    }

    private static ByteArrayContent Bytes(ReadOnlyMemory<byte> data)
    {
        if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment))
        {
            segment = data.ToArray();
        }

        var content = new ByteArrayContent(segment.Array!, segment.Offset, segment.Count);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

}
