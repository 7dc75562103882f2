using System.Net;
using System.Net.Http.Headers;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Ghostie.Sync.Backends.AzureBlob.Internal;
using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>The Azure SDK client, retries and error mapping.</summary>
public sealed partial class AzureBlobBackend
{
    /// <summary>The Blob service version the SDK states (Azurite 3.35 supports it without --skipApiVersionCheck).</summary>
    private const BlobClientOptions.ServiceVersion SdkServiceVersion = BlobClientOptions.ServiceVersion.V2025_11_05;

    /// <summary>Builds the SDK's container client over our own HttpClient: the SDK's retries are off (BackendRetry
    /// retries every call), its logging and tracing are off (nothing of ours leaves through them), and every request
    /// passes the host's handler, if any, and our counter.</summary>
    private static BlobContainerClient CreateContainerClient(AzureBlobEndpoint endpoint, TokenCredential? token, HttpClient http)
    {
        var options = new BlobClientOptions(SdkServiceVersion) { Transport = new HttpClientTransport(http) };
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = Timeout.InfiniteTimeSpan; // one attempt timeout is BackendRetry's
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;
        options.Diagnostics.IsLoggingContentEnabled = false;
        var containerUri = new Uri(endpoint.ServiceUri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + endpoint.Container);
        if (token is not null)
        {
            return new BlobContainerClient(containerUri, token, options);
        }

        if (endpoint.Key is byte[] key)
        {
            return new BlobContainerClient(containerUri, new StorageSharedKeyCredential(endpoint.AccountName!, Convert.ToBase64String(key)), options);
        }

        return new BlobContainerClient(containerUri, new AzureSasCredential(endpoint.Sas!), options);
    }

    private BlockBlobClient Blob(string name) => _container.GetBlockBlobClient(_endpoint.BlobPrefix + name);

    /// <summary>Runs one SDK call as one attempt: a service error becomes an <see cref="HttpAttemptException"/> (status,
    /// error code, Retry-After), a network failure the exception underneath (with any credential removed from it).</summary>
    private async Task<T> SdkAsync<T>(string operation, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status != 0)
        {
            throw Failure(e, operation);
        }
        catch (RequestFailedException e) when (e.InnerException is Exception inner)
        {
            throw Network(inner);
        }
        catch (AggregateException e) when (e.InnerException is Exception inner)
        {
            throw Network(inner);
        }
    }

    private Exception Network(Exception inner)
    {
        // Some handlers put the request URL (and so a SAS) into their messages: keep the kind, drop the text.
        if (!ContainsSecret(inner))
        {
            return inner;
        }

        return inner is HttpRequestException http
            ? new HttpRequestException(http.HttpRequestError, "The request to Azure failed (details withheld: they contained a credential).")
            : new IOException("The request to Azure failed (details withheld: they contained a credential).");
    }

    private HttpAttemptException Failure(RequestFailedException e, string operation)
    {
        string? code = string.IsNullOrEmpty(e.ErrorCode) ? null : e.ErrorCode;
        Response? raw = e.GetRawResponse();
        if (code is null && raw is not null && raw.Headers.TryGetValue("x-ms-error-code", out string? header) && header.Length > 0)
        {
            code = header;
        }

        if (code is null && raw is not null)
        {
            code = ReadErrorCode(raw);
        }

        TimeSpan? retryAfter = null;
        if (raw is not null && raw.Headers.TryGetValue("Retry-After", out string? after) && RetryConditionHeaderValue.TryParse(after, out RetryConditionHeaderValue? parsed))
        {
            retryAfter = RetryVerdict.ReadRetryAfter(parsed, _retry.TimeProvider);
        }

        using var message = new HttpResponseMessage((HttpStatusCode)e.Status);
        if (retryAfter is not null)
        {
            message.Headers.RetryAfter = new RetryConditionHeaderValue(retryAfter.Value);
        }

        RetryVerdict verdict = RetryVerdict.FromHttpResponse(message, _retry.TimeProvider);
        if (code != "BlobNotFound")
        {
            // A missing blob is an answer, not a failure.
            AzureBlobLog.RequestFailed(_logger, operation, e.Status, code);
        }

        return new HttpAttemptException((HttpStatusCode)e.Status, verdict, code);
    }

    /// <summary>The &lt;Code&gt; of an error body (the first 16 KiB), when the x-ms-error-code header was absent. Nothing
    /// else of the body is kept: an AuthenticationErrorDetail echoes what was signed.</summary>
    private static string? ReadErrorCode(Response raw)
    {
        try
        {
            string text;
            if (raw.ContentStream is { } stream)
            {
                if (stream.CanSeek)
                {
                    stream.Position = 0;
                }

                byte[] buffer = new byte[16 * 1024];
                int filled = 0;
                int read;
                while (filled < buffer.Length && (read = stream.Read(buffer, filled, buffer.Length - filled)) > 0)
                {
                    filled += read;
                }

                text = System.Text.Encoding.UTF8.GetString(buffer, 0, filled);
            }
            else
            {
                text = raw.Content.ToString();
            }

            System.Text.RegularExpressions.Match match = System.Text.RegularExpressions.Regex.Match(text, "<Code>([A-Za-z0-9]{1,100})</Code>");
            return match.Success ? match.Groups[1].Value : null;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException or NotSupportedException or ObjectDisposedException)
        {
            return null; // the status alone still classifies the failure
        }
    }

    /// <summary>Runs one operation with retries and turns permanent failures into typed errors. When the container is
    /// missing and <see cref="AzureBlobBackendOptions.CreateContainerIfMissing"/> is set, creates it and runs again.</summary>
    private async Task<T> RunAsync<T>(string verb, string? name, Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken,
        bool mayCreateContainer = true)
    {
        string operation = name is null ? $"Azure {verb} in container '{_endpoint.Container}'" : $"Azure {verb} '{name}' in container '{_endpoint.Container}'";
        for (int round = 0; ; round++)
        {
            try
            {
                return await BackendRetry.ExecuteAsync(operation, ct => SdkAsync(operation, () => attempt(ct)), Classify, _retry, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpAttemptException e) when (e.ServiceCode == "ContainerNotFound" && _createContainerIfMissing && mayCreateContainer && round == 0)
            {
                await CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpAttemptException e)
            {
                throw Map(e, operation);
            }
        }
    }

    private static RetryVerdict Classify(Exception exception) =>
        exception is HttpAttemptException attempt ? attempt.Verdict : RetryVerdict.FromHttpException(exception);

    private GhostieSyncException Map(HttpAttemptException e, string operation)
    {
        int status = (int)e.Status;
        string what = $"HTTP {status}" + (e.ServiceCode is null ? "" : " " + e.ServiceCode);
        if (e.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            string credential = _token is not null ? "token credential" : _endpoint.Sas is null ? "account key" : "SAS token";
            string hint = _token is not null
                ? "Check that the identity has a data role on this account or container (Storage Blob Data Contributor) and the right tenant."
                : _endpoint.Sas is null
                ? "Check AccountKey (key1 or key2 of this account) and AccountName, and that the machine's clock is right."
                : "Check that the SAS token is for this account and container, has not expired, and grants read, write, delete and list (sp=rwdl; an account SAS also needs srt=co).";
            return new GhostieSyncException(GhostieErrorCode.AccessDenied,
                $"{operation} was refused ({what}): {DisplayName} does not accept the {credential}. {hint}", isTransient: false, e);
        }

        if (e.ServiceCode == "ContainerNotFound" || (e.Status == HttpStatusCode.NotFound && e.ServiceCode is null && operation.Contains("CONTAINER", StringComparison.Ordinal)))
        {
            return new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                $"{DisplayName} does not exist ({what}). Create the container, fix AzureBlobBackendOptions.Container or ServiceUri, or set CreateContainerIfMissing.",
                isTransient: false, e);
        }

        return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"{operation} failed ({what}) at {DisplayName}. The service refused the request; retrying will not help until the cause is fixed.",
            isTransient: false, e);
    }

    private bool ContainsSecret(Exception exception)
    {
        string text = exception.ToString();
        return _secrets.Any(secret => text.Contains(secret, StringComparison.Ordinal));
    }

    /// <summary>The strings that must never appear in an error: the key (as given and re-encoded), the SAS token and its signature.</summary>
    private static string[] Secrets(AzureBlobEndpoint endpoint, AzureBlobBackendOptions options)
    {
        var secrets = new List<string>();
        if (endpoint.Key is byte[] key)
        {
            secrets.Add(Convert.ToBase64String(key));
        }

        if (!string.IsNullOrWhiteSpace(options.AccountKey))
        {
            secrets.Add(options.AccountKey.Trim());
        }

        if (endpoint.Sas is string sas)
        {
            secrets.Add(sas);
            foreach (string pair in sas.Split('&'))
            {
                if (pair.StartsWith("sig=", StringComparison.Ordinal) && pair.Length > 4)
                {
                    secrets.Add(pair[4..]);
                    secrets.Add(Uri.UnescapeDataString(pair[4..]));
                }
            }
        }

        return [.. secrets.Distinct(StringComparer.Ordinal)];
    }

    private static bool IsBlobMissing(HttpAttemptException failure) =>
        failure.Status == HttpStatusCode.NotFound && failure.ServiceCode is null or "BlobNotFound";

    /// <summary>A conditional write's header, and how the service says it did not hold.</summary>
    private readonly record struct WriteCondition(string Header, string Value)
    {
        public static WriteCondition IfNoneExists => new("If-None-Match", "*");

        public static WriteCondition IfMatch(string etag) => new("If-Match", etag);

        public BlobRequestConditions ToConditions() => Header == "If-None-Match"
            ? new BlobRequestConditions { IfNoneMatch = ETag.All }
            : new BlobRequestConditions { IfMatch = new ETag(Value) };

        /// <summary>Create-only: 409 BlobAlreadyExists (Azure and Azurite) or 412. Replace: 412, or 404 when the blob vanished.</summary>
        public bool DidNotHold(HttpAttemptException failure) =>
            failure.Status == HttpStatusCode.PreconditionFailed
            || (Header == "If-None-Match" && failure.Status == HttpStatusCode.Conflict && failure.ServiceCode == "BlobAlreadyExists")
            || (Header == "If-Match" && IsBlobMissing(failure));
    }

    /// <summary>Counts every HTTP request the SDK sends (retries included).</summary>
    private sealed class CountingHandler(HttpMessageHandler inner, bool disposeInner) : DelegatingHandler(inner)
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return base.SendAsync(request, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposeInner)
            {
                base.Dispose(disposing);
            }
        }
    }
}
