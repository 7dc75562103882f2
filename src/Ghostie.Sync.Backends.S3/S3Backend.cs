using System.Net;
using System.Runtime.CompilerServices;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;
using Ghostie.Sync.Backends.S3.Internal;
using Ghostie.Sync.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.Backends.S3;

/// <summary>
/// A repository in an S3 bucket (AWS S3 or an S3-compatible store), each object at <c>&lt;prefix&gt;&lt;name&gt;</c>.
/// Small objects go up in one PUT, large ones as a multipart upload streamed one part at a time; every request is
/// retried through <see cref="BackendRetry"/> (the SDK's own retries are off). Create one with
/// <see cref="CreateAsync"/>: where the endpoint honours conditional writes the result is a
/// <see cref="ConditionalS3Backend"/> (an <see cref="IConditionalStorageBackend"/>), otherwise a plain one.
/// </summary>
/// <remarks>
/// S3 offers read-after-write consistency for objects and listings, and a PUT (single or completed multipart) is
/// atomic: readers see the old object or the new one, never a prefix. A failed or cancelled multipart upload is
/// aborted, so no partial object and no orphan parts remain (if even the abort fails, a lifecycle rule
/// AbortIncompleteMultipartUpload cleans up; see docs/backends/s3.md).
/// </remarks>
public partial class S3Backend : IStorageBackend, IDisposable
{
    private readonly HttpClient _httpClient;
    private readonly S3HttpHandler _handler;
    private bool _disposed;

    private protected S3Backend(S3BackendOptions options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Logger = logger ?? NullLogger.Instance;
        KeyPrefix = options.KeyPrefix;
        DisplayName = Describe(options);
        HttpMessageHandler inner = options.HttpMessageHandler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.None,
        };
        _handler = new S3HttpHandler(inner, options.Retry.TimeProvider);

        // The caller's handler is theirs to dispose; ours goes with the client.
        _httpClient = new HttpClient(_handler, disposeHandler: options.HttpMessageHandler is null) { Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            Client = CreateClient(options, new S3HttpClientFactory(_httpClient));
        }
        catch
        {
            _httpClient.Dispose();
            throw;
        }
    }

    /// <summary>The validated options this backend was created with.</summary>
    protected S3BackendOptions Options { get; }

    private protected ILogger Logger { get; }

    private protected IAmazonS3 Client { get; }

    /// <summary>The key prefix inside the bucket: empty, or ending with '/'.</summary>
    public string KeyPrefix { get; }

    /// <summary>The bucket.</summary>
    public string Bucket => Options.Bucket;

    /// <summary>Whether this backend sends conditional writes (it is then a <see cref="ConditionalS3Backend"/>).</summary>
    public virtual bool ConditionalWritesEnabled => false;

    /// <summary>HTTP requests sent so far, retries included (for request-count comparisons and cost estimates).</summary>
    public long RequestCount => _handler.Requests;

    /// <inheritdoc />
    /// <remarks>For example "S3 bucket 'notes' prefix 'alice/' at http://127.0.0.1:9000", or "S3 bucket 'notes' in eu-west-1".
    /// It never contains credentials.</remarks>
    public string DisplayName { get; }

    /// <summary>Creates a backend; with <see cref="S3ConditionalWrites.Auto"/> it probes the endpoint once (three small
    /// PUTs and a DELETE of a probe object under the prefix, which listings never show).</summary>
    /// <param name="options">The options (validated here).</param>
    /// <param name="logger">An optional logger (never given a secret).</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>A <see cref="ConditionalS3Backend"/> when conditional writes are enabled or honoured, else a plain <see cref="S3Backend"/>.</returns>
    /// <exception cref="GhostieSyncException">Invalid options (<see cref="GhostieErrorCode.InvalidArgument"/>), or the probe
    /// failed: <see cref="GhostieErrorCode.AccessDenied"/>, <see cref="GhostieErrorCode.StorageNotFound"/> (no such bucket),
    /// <see cref="GhostieErrorCode.BackendUnavailable"/>.</exception>
    public static async Task<S3Backend> CreateAsync(S3BackendOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.ConditionalWrites == S3ConditionalWrites.Enabled)
        {
            return new ConditionalS3Backend(options, logger);
        }

        var plain = new S3Backend(options, logger);
        if (options.ConditionalWrites == S3ConditionalWrites.Disabled)
        {
            return plain;
        }

        bool honoured;
        try
        {
            honoured = await plain.ProbeConditionalWritesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            plain.Dispose();
            throw;
        }

        Log.ConditionalWritesProbed(plain.Logger, plain.DisplayName, honoured ? "are honoured: using them" : "are ignored by this endpoint: not using them");
        if (!honoured)
        {
            return plain;
        }

        long probeRequests = plain.RequestCount;
        plain.Dispose();
        var conditional = new ConditionalS3Backend(options, logger);
        ((S3Backend)conditional)._handler.AddProbeRequests(probeRequests);
        return conditional;
    }

    /// <summary>Creates a backend synchronously (for dependency injection). Prefer <see cref="CreateAsync"/>.</summary>
    /// <param name="options">The options (validated here).</param>
    /// <param name="logger">An optional logger.</param>
    /// <exception cref="GhostieSyncException">As for <see cref="CreateAsync"/>.</exception>
    public static S3Backend Create(S3BackendOptions options, ILogger? logger = null) =>

        // No synchronization context is captured (ConfigureAwait(false) throughout), and Task.Run keeps a caller's
        // context out of it entirely, so blocking here cannot deadlock.
        Task.Run(() => CreateAsync(options, logger)).GetAwaiter().GetResult();

    /// <inheritdoc />
    public async Task PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        await UploadAsync(name, content, null, null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>The stream reads the response as it arrives. If the connection breaks midway, the rest is requested
    /// again from that offset with a ranged GET under the first answer's ETag (up to <see cref="BackendRetryOptions.MaxAttempts"/>
    /// times); an object replaced meanwhile fails the read instead of being spliced.</remarks>
    public async Task<Stream?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        string key = KeyPrefix + name;
        GetObjectResponse? response = await RunAsync("S3 GET " + name, async ct =>
        {
            try
            {
                return await Client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, ct).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (IsMissingObject(e))
            {
                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return null;
        }

        string? etag = string.IsNullOrEmpty(response.ETag) ? null : response.ETag;
        long length = response.ContentLength;
        return new ResumableReadStream(response.ResponseStream, response, length,
            etag is null ? null : (offset, token) => ResumeGetAsync(name, key, offset, length, etag, token), Options.Retry.MaxAttempts);
    }

    /// <summary>The rest of a download whose connection broke: a ranged GET from <paramref name="offset"/>, only if the
    /// object still has the ETag it had when the download began (If-Match), so a replaced object is never spliced.</summary>
    private async Task<(Stream Body, IDisposable? Owner)> ResumeGetAsync(string name, string key, long offset, long length, string etag, CancellationToken cancellationToken)
    {
        GetObjectResponse response;
        try
        {
            response = await RunAsync("S3 GET (resumed) " + name, ct => Client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                ByteRange = new ByteRange(offset, length - 1),
                EtagToMatch = etag,
            }, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (GhostieSyncException e) when (e.Code is GhostieErrorCode.StorageNotFound || e.InnerException is AmazonS3Exception { StatusCode: HttpStatusCode.PreconditionFailed or HttpStatusCode.NotFound })
        {
            throw Changed(name, "it was replaced or deleted meanwhile", e);
        }

        if (response.HttpStatusCode != HttpStatusCode.PartialContent || response.ContentLength != length - offset)
        {
            response.Dispose();
            throw Changed(name, "the endpoint did not answer the range", null);
        }

        // Some S3-compatible stores (s3rver) ignore If-Match on GET: the ETag of the answer is checked as well.
        if (!string.Equals(response.ETag, etag, StringComparison.Ordinal))
        {
            response.Dispose();
            throw Changed(name, "it was replaced meanwhile", null);
        }

        return (response.ResponseStream, response);
    }

    private GhostieSyncException Changed(string name, string why, Exception? inner) =>
        new(GhostieErrorCode.BackendUnavailable,
            $"The download of '{name}' from {DisplayName} broke off and could not be resumed: {why}. Read it again (sync again).", isTransient: true, inner);

    /// <inheritdoc />
    /// <remarks>One ListObjectsV2 request per 1,000 names, streamed page by page. S3 lists keys in UTF-8 binary order,
    /// which is ordinal order for object names. Keys under the prefix that are not object names (a leftover probe
    /// object, files put there by other tools) are skipped.</remarks>
    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        cancellationToken.ThrowIfCancellationRequested();
        string? continuation = null;
        do
        {
            string? token = continuation;
            ListObjectsV2Response page = await RunAsync("S3 LIST " + (prefix.Length == 0 ? "(all)" : prefix), ct =>
                Client.ListObjectsV2Async(new ListObjectsV2Request
                {
                    BucketName = Bucket,
                    Prefix = KeyPrefix + prefix,
                    ContinuationToken = token,
                    MaxKeys = 1000,
                }, ct), cancellationToken).ConfigureAwait(false);
            foreach (S3Object item in page.S3Objects ?? [])
            {
                string name = item.Key.Length >= KeyPrefix.Length ? item.Key[KeyPrefix.Length..] : "";
                if (ObjectName.IsValid(name))
                {
                    yield return name;
                }
            }

            if (page.IsTruncated == true && string.IsNullOrEmpty(page.NextContinuationToken))
            {
                // Stopping would hide the rest of the listing (a sync would miss other devices' objects); asking
                // again without a token would loop over the first page.
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{DisplayName} answered a listing of '{KeyPrefix + prefix}' with a truncated page (IsTruncated) but no continuation token, so the rest cannot be listed. The endpoint does not implement ListObjectsV2 correctly; check ServiceUrl, or use another S3-compatible store.",
                    isTransient: false);
            }

            if (page.IsTruncated == true && string.Equals(page.NextContinuationToken, token, StringComparison.Ordinal))
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"{DisplayName} answered a listing of '{KeyPrefix + prefix}' with the same continuation token it was given, so the listing would never end. The endpoint does not implement ListObjectsV2 correctly; check ServiceUrl, or use another S3-compatible store.",
                    isTransient: false);
            }

            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
    }

    /// <inheritdoc />
    /// <remarks>
    /// S3's DELETE succeeds whether or not the object exists, so the backend first asks (HEAD) and deletes only what
    /// it found: two requests. Between the two another writer may act: an object created in that instant is deleted
    /// and reported as deleted (correct), and two devices deleting the same object at once may both report
    /// <see langword="true"/>. The sync protocol never depends on that answer: each device deletes only its own
    /// superseded objects. A HEAD cannot tell a missing object from a missing bucket (both are a bare 404): in a
    /// missing bucket this reports <see langword="false"/>, while reads and listings report the bucket.
    /// </remarks>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        if (await HeadAsync(name, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        string key = KeyPrefix + name;
        await RunAsync("S3 DELETE " + name, ct => Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, ct),
            cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The object's ETag (quoted, as S3 sends it), or null when there is no such object.</summary>
    private protected async Task<string?> HeadAsync(string name, CancellationToken cancellationToken)
    {
        string key = KeyPrefix + name;
        return await RunAsync("S3 HEAD " + name, async ct =>
        {
            try
            {
                GetObjectMetadataResponse head = await Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }, ct).ConfigureAwait(false);
                return head.ETag ?? "";
            }
            catch (AmazonS3Exception e) when (IsMissingObject(e))
            {
                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the HTTP client (not a handler the host passed in).</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the SDK client and the HTTP client.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (disposing)
        {
            Client.Dispose();
            _httpClient.Dispose();
        }
    }

    /// <summary>Whether a 404 means "no such object" (as opposed to "no such bucket", which must be reported).</summary>
    private static bool IsMissingObject(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is not "NoSuchBucket";

    private static string Describe(S3BackendOptions options)
    {
        string where = options.ServiceUrl is not null
            ? " at " + options.ServiceUrl.TrimEnd('/')
            : options.Region is not null ? " in " + options.Region : " on AWS";
        string prefix = options.KeyPrefix.Length > 0 ? $" prefix '{options.KeyPrefix}'" : "";
        return $"S3 bucket '{options.Bucket}'{prefix}{where}";
    }

    /// <summary>Whether an endpoint can only be addressed by path: an IP address or a single-label host (localhost, a
    /// container name such as "minio"), where bucket.HOST cannot resolve.</summary>
    internal static bool NeedsPathStyle(string? serviceUrl) =>
        serviceUrl is not null && Uri.TryCreate(serviceUrl, UriKind.Absolute, out Uri? url)
        && (url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || !url.Host.Contains('.', StringComparison.Ordinal));

    private static AmazonS3Client CreateClient(S3BackendOptions options, HttpClientFactory httpClientFactory)
    {
        var config = new AmazonS3Config
        {
            HttpClientFactory = httpClientFactory,
            ForcePathStyle = options.ForcePathStyle || NeedsPathStyle(options.ServiceUrl),

            // BackendRetry retries every request (jittered backoff, Retry-After, one attempt timeout); SDK retries
            // on top of it would multiply attempts and hide throttling hints.
            MaxErrorRetry = 0,

            // Flexible checksums by default (since SDK 3.7.410) break several S3-compatible stores (B2, older MinIO,
            // s3rver); integrity is covered by the SigV4 payload hash (every body is sent signed, not chunked), by TLS,
            // and end to end by the repository's own authenticated encryption.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrEmpty(options.Profile))
        {
            config.Profile = new Profile(options.Profile);
        }

        if (options.ServiceUrl is not null)
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
        }
        else if (options.Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        AWSCredentials? credentials = null;
        if (!string.IsNullOrEmpty(options.AccessKeyId))
        {
            credentials = string.IsNullOrEmpty(options.SessionToken)
                ? new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey)
                : new SessionAWSCredentials(options.AccessKeyId, options.SecretAccessKey, options.SessionToken);
        }
        else if (!string.IsNullOrEmpty(options.Profile))
        {
            if (!new CredentialProfileStoreChain().TryGetAWSCredentials(options.Profile, out credentials))
            {
                throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                    $"The AWS profile '{options.Profile}' was not found in ~/.aws/credentials or ~/.aws/config. Create it (aws configure --profile {options.Profile}) or give AccessKeyId and SecretAccessKey.");
            }
        }

        try
        {
            return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        }
        catch (AmazonClientException e)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                "The S3 client could not be configured: " + e.Message + " Set Region (or AWS_REGION) and credentials (AccessKeyId/SecretAccessKey, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an AWS profile).", false, e);
        }
    }
}
