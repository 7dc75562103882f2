using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Ghostie.Sync.Backends.AzureBlob.Internal;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>
/// A repository in an Azure Blob Storage container (or Azurite), on the Azure SDK (Azure.Storage.Blobs): each object
/// is a block blob named <c>[Prefix/]name</c>.
/// </summary>
/// <remarks>
/// Small objects are written with one Put Blob; larger ones are staged block by block (one block in memory at a
/// time) and committed with Put Block List, so a reader sees the old object or the whole new one, and an upload that
/// fails or is cancelled commits nothing (the service discards uncommitted blocks after a week). Conditional writes
/// use ETags: create-only is <c>If-None-Match: *</c>, replace is <c>If-Match</c>. Transient failures (5xx, 408,
/// timeouts, reset connections) are retried by <see cref="BackendRetry"/> (the SDK's own retries are off); throttling
/// hints are honoured. Errors never carry the account key, a SAS or a request URL.
/// </remarks>
public sealed partial class AzureBlobBackend : IConditionalStorageBackend, IDisposable
{
    /// <summary>The Blob service REST API version every request states.</summary>
    public const string ApiVersion = "2025-11-05";

    private readonly AzureBlobEndpoint _endpoint;
    private readonly HttpClient _http;
    private readonly CountingHandler _counter;
    private readonly BlobContainerClient _container;
    private readonly TokenCredential? _token;
    private readonly BackendRetryOptions _retry;
    private readonly ILogger _logger;
    private readonly string[] _secrets;
    private readonly int _blockSize;
    private readonly int _singlePutThreshold;
    private readonly int _listPageSize;
    private readonly int _maxBlockCount;
    private readonly bool _createContainerIfMissing;

    /// <summary>Creates the backend. Nothing is sent until the first operation.</summary>
    /// <param name="options">Endpoint, credential, container; validated here.</param>
    /// <param name="logger">Where events go (never a secret). Default: nowhere.</param>
    /// <exception cref="GhostieSyncException">An option is missing or invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public AzureBlobBackend(AzureBlobBackendOptions options, ILogger<AzureBlobBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _endpoint = AzureBlobEndpoint.Resolve(options);
        _token = options.Credential;
        _retry = options.Retry;
        _blockSize = options.BlockSize;
        _singlePutThreshold = options.SinglePutThreshold;
        _listPageSize = options.ListPageSize;
        _maxBlockCount = options.MaxBlockCount;
        _createContainerIfMissing = options.CreateContainerIfMissing;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _secrets = Secrets(_endpoint, options);
        _counter = options.HttpMessageHandler is { } handler
            ? new CountingHandler(handler, disposeInner: false)
            : new CountingHandler(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }, disposeInner: true);

        // Each attempt has its own timeout (BackendRetryOptions.AttemptTimeout); large downloads must not be cut off.
        _http = new HttpClient(_counter, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _container = CreateContainerClient(_endpoint, _token, _http);
        DisplayName = $"Azure container '{_endpoint.Container}' at {_endpoint.DisplayEndpoint}"
            + (_endpoint.BlobPrefix.Length > 0 ? $" (prefix '{_endpoint.BlobPrefix.TrimEnd('/')}')" : "");
    }

    /// <inheritdoc />
    public string DisplayName { get; }

    /// <summary>The container name.</summary>
    public string Container => _endpoint.Container;

    /// <summary>HTTP requests sent so far, retries included (for comparisons and diagnostics).</summary>
    public long RequestCount => _counter.Count;

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
    public async Task<string?> GetVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        return (await HeadAsync(name, cancellationToken).ConfigureAwait(false)).ETag;
    }

    /// <inheritdoc />
    /// <remarks>The stream reads the response as it arrives. If the connection breaks midway, the SDK requests the rest
    /// again from that offset (under the same ETag, so a blob replaced meanwhile is never spliced: that read fails with
    /// a transient <see cref="GhostieErrorCode.BackendUnavailable"/>), up to 5 times.</remarks>
    public Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        return RunAsync<Stream?>("GET", name, async ct =>
        {
            Response<BlobDownloadStreamingResult> answer;
            try
            {
                answer = await Blob(name).DownloadStreamingAsync(new BlobDownloadOptions(), ct).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 404 && IsBlobMissing(Failure(e, "GET")))
            {
                return null;
            }

            // The SDK's download stream resumes a broken connection itself: a ranged Get Blob from the offset reached,
            // If-Match the first answer's ETag (up to 5 times). Its failures become typed errors here.
            return new DownloadStream(this, name, answer.Value.Content, answer.GetRawResponse());
        }, cancellationToken);
    }

    /// <summary>The SDK's download stream, with its failures as typed errors: a blob replaced or deleted while the
    /// download was resumed is a transient <see cref="GhostieErrorCode.BackendUnavailable"/>, never a spliced object.</summary>
    private sealed class DownloadStream(AzureBlobBackend backend, string name, Stream inner, IDisposable owner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return inner.Read(buffer, offset, count);
            }
            catch (Exception e) when (e is RequestFailedException or AggregateException or IOException or HttpRequestException)
            {
                throw backend.Broken(name, e);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RequestFailedException or AggregateException or IOException or HttpRequestException)
            {
                throw backend.Broken(name, e);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                owner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private GhostieSyncException Broken(string name, Exception e) => e switch
    {
        RequestFailedException { Status: 412 or 404 } => Changed(name, "it was replaced or deleted meanwhile"),
        RequestFailedException { Status: not 0 } failed => Map(Failure(failed, "GET (resumed)"), $"Azure GET (resumed) '{name}' in container '{_endpoint.Container}'"),
        _ => Changed(name, "the connection kept breaking"),
    };

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
            Page<BlobItem> page = await RunAsync("LIST", prefix.Length == 0 ? null : prefix, async ct =>
            {
                await foreach (Page<BlobItem> first in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = fullPrefix.Length == 0 ? null : fullPrefix }, ct)
                    .AsPages(pageMarker, _listPageSize).WithCancellation(ct).ConfigureAwait(false))
                {
                    return first;
                }

                return Page<BlobItem>.FromValues([], null, null!);
            }, cancellationToken).ConfigureAwait(false);
            foreach (BlobItem item in page.Values)
            {
                string blobName = item.Name;
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

            marker = string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken;
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
            try
            {
                await SdkAsync("DELETE", () => Blob(name).DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, ct)).ConfigureAwait(false);
                return true;
            }
            catch (HttpRequestException e) when (e.HttpRequestError is not (HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError))
            {
                mayHaveDeleted = true;
                throw;
            }
            catch (IOException)
            {
                mayHaveDeleted = true;
                throw;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                mayHaveDeleted = true; // the attempt timed out: the request may have been carried out
                throw;
            }
            catch (HttpAttemptException failure) when (IsBlobMissing(failure))
            {
                return mayHaveDeleted;
            }
            catch (HttpAttemptException failure)
            {
                mayHaveDeleted |= (int)failure.Status >= 500;
                throw;
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
            try
            {
                await _container.CreateAsync(PublicAccessType.None, metadata: null, cancellationToken: ct).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException e) when (e.ErrorCode == "ContainerAlreadyExists")
            {
                return false;
            }
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
            try
            {
                await _container.DeleteAsync(conditions: null, ct).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException e) when (e.ErrorCode == "ContainerNotFound")
            {
                return false;
            }
        }, cancellationToken, mayCreateContainer: false);
    }

    /// <summary>Releases the HTTP client (and the handler, when the backend created it).</summary>
    public void Dispose() => _http.Dispose();
}
