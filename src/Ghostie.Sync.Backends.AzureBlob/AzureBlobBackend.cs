using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Ghostie.Sync.Backends.AzureBlob.Internal;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>
/// A repository in an Azure Blob Storage container (or Azurite), through a thin client of the Blob service REST API
/// (version 2021-12-02) over <see cref="HttpClient"/>: each object is a block blob named <c>[Prefix/]name</c>.
/// </summary>
/// <remarks>
/// Small objects are written with one Put Blob; larger ones are staged block by block (one block in memory at a
/// time) and committed with Put Block List, so a reader sees the old object or the whole new one, and an upload that
/// fails or is cancelled commits nothing (the service discards uncommitted blocks after a week). Conditional writes
/// use ETags: create-only is <c>If-None-Match: *</c>, replace is <c>If-Match</c>. Transient failures (5xx, 408,
/// timeouts, reset connections) are retried by <see cref="BackendRetry"/>; throttling hints are honoured. Errors never
/// carry the account key, a SAS or a request URL.
/// </remarks>
public sealed partial class AzureBlobBackend : IConditionalStorageBackend, IDisposable
{
    /// <summary>The Blob service REST API version every request states.</summary>
    public const string ApiVersion = "2021-12-02";

    private readonly AzureBlobEndpoint _endpoint;
    private readonly HttpClient _http;
    private readonly BackendRetryOptions _retry;
    private readonly ILogger _logger;
    private readonly string _containerUrl;
    private readonly string[] _secrets;
    private readonly int _blockSize;
    private readonly int _singlePutThreshold;
    private readonly int _listPageSize;
    private readonly int _maxBlockCount;
    private readonly bool _createContainerIfMissing;
    private long _requestCount;

    /// <summary>Creates the backend. Nothing is sent until the first operation.</summary>
    /// <param name="options">Endpoint, credential, container; validated here.</param>
    /// <param name="logger">Where events go (never a secret). Default: nowhere.</param>
    /// <exception cref="GhostieSyncException">An option is missing or invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public AzureBlobBackend(AzureBlobBackendOptions options, ILogger<AzureBlobBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _endpoint = AzureBlobEndpoint.Resolve(options);
        _retry = options.Retry;
        _blockSize = options.BlockSize;
        _singlePutThreshold = options.SinglePutThreshold;
        _listPageSize = options.ListPageSize;
        _maxBlockCount = options.MaxBlockCount;
        _createContainerIfMissing = options.CreateContainerIfMissing;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _containerUrl = _endpoint.ServiceUri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + _endpoint.Container;
        _secrets = Secrets(_endpoint, options);
        _http = options.HttpMessageHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false)
            : new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }, disposeHandler: true);
        // Each attempt has its own timeout (BackendRetryOptions.AttemptTimeout); large downloads must not be cut off.
        _http.Timeout = Timeout.InfiniteTimeSpan;
        DisplayName = $"Azure container '{_endpoint.Container}' at {_endpoint.DisplayEndpoint}"
            + (_endpoint.BlobPrefix.Length > 0 ? $" (prefix '{_endpoint.BlobPrefix.TrimEnd('/')}')" : "");
    }

    /// <inheritdoc />
    public string DisplayName { get; }

    /// <summary>The container name.</summary>
    public string Container => _endpoint.Container;

    /// <summary>HTTP requests sent so far, retries included (for comparisons and diagnostics).</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default) =>
        await UploadAsync(name, content, condition: null, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    /// <remarks>Sends <c>If-None-Match: *</c> (on the Put Blob, or on the Put Block List of a large object) and a random
    /// marker in the blob's metadata (x-ms-meta-ghostiewrite). If a retried attempt finds the blob existing because an
    /// earlier attempt stored it and only its answer was lost, the marker recognises it as ours and the result is true;
    /// a blob another writer stored meanwhile, even with identical bytes, gives false.</remarks>
    public Task<bool> TryCreateAsync(string name, Stream content, CancellationToken cancellationToken = default) =>
        UploadAsync(name, content, WriteCondition.IfNoneExists, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Sends <c>If-Match</c> with <paramref name="expectedVersion"/>, an ETag from <see cref="GetVersionAsync"/>;
    /// a retry after a lost answer is recognised by the upload's marker as for <see cref="TryCreateAsync"/>.</remarks>
    public Task<bool> TryReplaceAsync(string name, Stream content, string expectedVersion, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(expectedVersion) || expectedVersion.Length > 200 || expectedVersion.Any(c => c is < ' ' or > '~'))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "The expected version is not an Azure ETag: pass the value returned by GetVersionAsync unchanged.");
        }

        return UploadAsync(name, content, WriteCondition.IfMatch(expectedVersion), cancellationToken);
    }

    /// <inheritdoc />
    /// <returns>The blob's ETag (quoted, as the service sends it), or null when there is no such blob.</returns>
    public Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        return RunAsync("HEAD", name, async ct =>
        {
            using HttpRequestMessage request = NewRequest(HttpMethod.Head, name, query: null);
            using HttpResponseMessage response = await SendAsync(request, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return response.Headers.NonValidated.TryGetValues("ETag", out HeaderStringValues etag) ? etag.ToString() : null;
            }

            HttpAttemptException failure = await FailureAsync(response, "HEAD", ct).ConfigureAwait(false);
            return IsBlobMissing(failure) ? null : throw failure;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The stream reads the response as it arrives. If the connection breaks midway, the rest is requested
    /// again from that offset (under the same ETag, so a blob replaced meanwhile is never spliced), up to
    /// <see cref="BackendRetryOptions.MaxAttempts"/> times.</remarks>
    public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        return RunAsync<Stream?>("GET", name, async ct =>
        {
            using HttpRequestMessage request = NewRequest(HttpMethod.Get, name, query: null);
            HttpResponseMessage response = await SendAsync(request, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                    string? etag = response.Headers.NonValidated.TryGetValues("ETag", out HeaderStringValues value) ? value.ToString() : null;
                    return new ResumableReadStream(body, response, response.Content.Headers.ContentLength,
                        etag is null ? null : (offset, token) => ResumeGetAsync(name, offset, etag, token),
                        _retry.MaxAttempts);
                }
                catch
                {
                    response.Dispose();
                    throw;
                }
            }

            HttpAttemptException failure = await FailureAsync(response, "GET", ct).ConfigureAwait(false);
            return IsBlobMissing(failure) ? null : throw failure;
        }, cancellationToken);
    }

    /// <summary>The rest of a download whose connection broke: a ranged Get Blob from <paramref name="offset"/>, only if
    /// the blob still has the ETag it had when the download began.</summary>
    private Task<(Stream Body, IDisposable? Owner)> ResumeGetAsync(string name, long offset, string etag, CancellationToken cancellationToken) =>
        RunAsync("GET (resumed)", name, async ct =>
        {
            using HttpRequestMessage request = NewRequest(HttpMethod.Get, name, query: null);
            request.Headers.TryAddWithoutValidation("Range", "bytes=" + offset.ToString(CultureInfo.InvariantCulture) + "-");
            request.Headers.TryAddWithoutValidation("If-Match", etag);
            HttpResponseMessage response = await SendAsync(request, ct).ConfigureAwait(false);
            if (response.StatusCode == System.Net.HttpStatusCode.PartialContent)
            {
                // Belt and braces: a service that ignored If-Match would answer with another ETag.
                if (!response.Headers.NonValidated.TryGetValues("ETag", out HeaderStringValues answered) || answered.ToString() != etag)
                {
                    response.Dispose();
                    throw Changed(name, "it was replaced meanwhile");
                }

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
                throw Changed(name, "the service ignored the range");
            }

            HttpAttemptException failure = await FailureAsync(response, "GET (resumed)", ct).ConfigureAwait(false);
            throw failure.Status == System.Net.HttpStatusCode.PreconditionFailed || IsBlobMissing(failure)
                ? Changed(name, "it was replaced or deleted meanwhile")
                : failure;
        }, cancellationToken);

    private GhostieSyncException Changed(string name, string why) =>
        new(GhostieErrorCode.BackendUnavailable,
            $"The download of '{name}' from {DisplayName} broke off and could not be resumed: {why}. Read it again (sync again).", isTransient: true);

    /// <inheritdoc />
    /// <remarks>Pages through List Blobs with the service's continuation marker (<see cref="AzureBlobBackendOptions.ListPageSize"/>
    /// names per request). Blobs under the prefix whose names are not valid object names (put there by something else)
    /// are skipped.</remarks>
    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        cancellationToken.ThrowIfCancellationRequested();
        string fullPrefix = _endpoint.BlobPrefix + prefix;
        string? marker = null;
        do
        {
            string? pageMarker = marker;
            BlobXml.ListPage page = await RunAsync("LIST", prefix.Length == 0 ? null : prefix, ct => ListPageAsync(fullPrefix, pageMarker, ct),
                cancellationToken).ConfigureAwait(false);
            foreach (string blobName in page.Names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (blobName.StartsWith(fullPrefix, StringComparison.Ordinal))
                {
                    string name = blobName[_endpoint.BlobPrefix.Length..];
                    if (ObjectName.IsValid(name))
                    {
                        yield return name;
                    }
                }
            }

            marker = page.NextMarker;
        }
        while (marker is not null);
    }

    /// <inheritdoc />
    /// <remarks>Snapshots of the blob, if any, are deleted with it. When a delete is retried after an attempt whose
    /// outcome is unknown (its answer was lost, it timed out, or the service answered 5xx), a 404 on the retry means the
    /// earlier attempt most likely deleted the blob, and the result is <see langword="true"/>; an attempt that never
    /// reached the service (the connection could not be made) does not count.</remarks>
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        bool mayHaveDeleted = false;
        return RunAsync("DELETE", name, async ct =>
        {
            using HttpRequestMessage request = NewRequest(HttpMethod.Delete, name, query: null);
            request.Headers.TryAddWithoutValidation("x-ms-delete-snapshots", "include");
            HttpResponseMessage response;
            try
            {
                response = await SendAsync(request, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.HttpRequestError is not (HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError))
            {
                mayHaveDeleted = true;
                throw;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                mayHaveDeleted = true; // the attempt timed out: the request may have been carried out
                throw;
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }

                HttpAttemptException failure = await FailureAsync(response, "DELETE", ct).ConfigureAwait(false);
                if (IsBlobMissing(failure))
                {
                    return mayHaveDeleted;
                }

                mayHaveDeleted |= (int)failure.Status >= 500;
                throw failure;
            }
        }, cancellationToken);
    }

    /// <summary>Creates the container when it does not exist (Create Container). Needs a credential allowed to create
    /// containers (the account key, or an account SAS with the container resource type).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> if it was created; <see langword="false"/> if it existed.</returns>
    /// <exception cref="GhostieSyncException">The credential is refused, or the service is unavailable.</exception>
    public async Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        bool created = await RunAsync("CREATE CONTAINER", null, async ct =>
        {
            using HttpRequestMessage request = NewContainerRequest(HttpMethod.Put, "restype=container");
            using HttpResponseMessage response = await SendAsync(request, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            HttpAttemptException failure = await FailureAsync(response, "CREATE CONTAINER", ct).ConfigureAwait(false);
            return failure.ServiceCode == "ContainerAlreadyExists" ? false : throw failure;
        }, cancellationToken, mayCreateContainer: false).ConfigureAwait(false);
        if (created)
        {
            AzureBlobLog.ContainerCreated(_logger, _endpoint.Container, _endpoint.DisplayEndpoint);
        }

        return created;
    }

    /// <summary>Deletes the container and everything in it (Delete Container). For tests and tear-down; the sync
    /// protocol never calls it.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> if it was deleted; <see langword="false"/> if it did not exist.</returns>
    public Task<bool> DeleteContainerAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return RunAsync("DELETE CONTAINER", null, async ct =>
        {
            using HttpRequestMessage request = NewContainerRequest(HttpMethod.Delete, "restype=container");
            using HttpResponseMessage response = await SendAsync(request, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            HttpAttemptException failure = await FailureAsync(response, "DELETE CONTAINER", ct).ConfigureAwait(false);
            return failure.ServiceCode == "ContainerNotFound" ? false : throw failure;
        }, cancellationToken, mayCreateContainer: false);
    }

    /// <summary>Releases the HTTP client (and the handler, when the backend created it).</summary>
    public void Dispose() => _http.Dispose();

    private async Task<BlobXml.ListPage> ListPageAsync(string fullPrefix, string? marker, CancellationToken ct)
    {
        string query = "restype=container&comp=list&maxresults=" + _listPageSize.ToString(CultureInfo.InvariantCulture);
        if (fullPrefix.Length > 0)
        {
            query += "&prefix=" + Uri.EscapeDataString(fullPrefix);
        }

        if (marker is not null)
        {
            query += "&marker=" + Uri.EscapeDataString(marker);
        }

        using HttpRequestMessage request = NewContainerRequest(HttpMethod.Get, query);
        using HttpResponseMessage response = await SendAsync(request, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync(response, "LIST", ct).ConfigureAwait(false);
        }

        await using Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return await BlobXml.ReadListPageAsync(body, ct).ConfigureAwait(false);
    }

    private static bool IsBlobMissing(HttpAttemptException failure) =>
        failure.Status == System.Net.HttpStatusCode.NotFound && failure.ServiceCode is null or "BlobNotFound";
}
