using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Ghostie.Sync.Backends.S3.Internal;
using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.S3;

public partial class S3Backend
{
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestLimitExceeded",
        "TooManyRequests", "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestThrottledException",
    };

    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "ConditionalRequestConflict",
        "OperationAborted", "PriorRequestNotComplete",
    };

    private static readonly HashSet<string> AccessCodes = new(StringComparer.Ordinal)
    {
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
        "AllAccessDisabled", "AccountProblem", "InvalidSecurity", "UnauthorizedAccess", "Forbidden",
    };

    private static readonly HashSet<string> WrongPlaceCodes = new(StringComparer.Ordinal)
    {
        "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "InvalidBucketName",
    };

    /// <summary>Runs one request with retries, and turns a permanent SDK failure into a typed, secret-free error.</summary>
    /// <param name="operation">A secret-free name such as "S3 PUT p/ab".</param>
    /// <param name="attempt">One attempt.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    private protected async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var context = new AttemptContext();
        AttemptContext.Current.Value = context;
        try
        {
            return await BackendRetry.ExecuteAsync(operation, ct =>
            {
                context.RetryAfter = null;
                return attempt(ct);
            }, e => Classify(e, context.RetryAfter), Options.Retry, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            throw Translate(e, operation);
        }
        catch (AmazonClientException e)
        {
            throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"{operation} could not be sent to {DisplayName}: {Sanitize(e.Message)}. Check the credentials (AccessKeyId/SecretAccessKey, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an AWS profile) and Region/ServiceUrl.",
                false, e);
        }
    }

    /// <summary>Runs one request without a result. See <see cref="RunAsync{T}(string, Func{CancellationToken, Task{T}}, CancellationToken)"/>.</summary>
    private protected Task RunAsync(string operation, Func<CancellationToken, Task> attempt, CancellationToken cancellationToken) =>
        RunAsync(operation, async ct =>
        {
            await attempt(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Decides whether a failed attempt is worth another: 5xx, timeouts, throttling and broken connections are.</summary>
    /// <param name="exception">The failure.</param>
    /// <param name="retryAfter">The Retry-After of the failed response, if it had one.</param>
    internal static RetryVerdict Classify(Exception exception, TimeSpan? retryAfter)
    {
        if (exception is AmazonServiceException service && service.StatusCode != 0)
        {
            int status = (int)service.StatusCode;
            string code = service.ErrorCode ?? "";
            string reason = code.Length > 0 ? $"HTTP {status} {code}" : $"HTTP {status}";
            if (ThrottlingCodes.Contains(code) || status == 429 || (status == 503 && retryAfter is not null))
            {
                return RetryVerdict.Throttled(retryAfter, reason);
            }

            if (TransientCodes.Contains(code) || status is 408 or 500 or 502 or 503 or 504)
            {
                return RetryVerdict.Transient(reason);
            }

            return RetryVerdict.Permanent(reason);
        }

        // A request that never got an answer: the SDK may wrap the network error; look through the chain.
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException http:
                    return RetryVerdict.FromHttpException(http);
                case IOException or SocketException:
                    return RetryVerdict.Transient("connection reset");
                case TimeoutException:
                    return RetryVerdict.Transient("timeout");
            }
        }

        return RetryVerdict.Permanent(exception.GetType().Name);
    }

    /// <summary>A permanent service error as the typed error callers handle: access denied, missing bucket, wrong
    /// region, or anything else as a non-transient unavailable backend. Only the error code, status and request id of
    /// the service's answer are used (never its message or body).</summary>
    private GhostieSyncException Translate(AmazonServiceException e, string operation)
    {
        int status = (int)e.StatusCode;
        string code = e.ErrorCode ?? "";
        string detail = code.Length > 0 ? $"{code}, HTTP {status}" : $"HTTP {status}";
        if (!string.IsNullOrEmpty(e.RequestId))
        {
            detail += ", request id " + Sanitize(e.RequestId);
        }

        if (code == "NoSuchBucket")
        {
            return new GhostieSyncException(GhostieErrorCode.StorageNotFound,
                $"{DisplayName} does not exist ({operation}: {detail}). Create the bucket first (the backend never creates buckets), or check Bucket, Region and ServiceUrl.",
                false, e);
        }

        if (AccessCodes.Contains(code) || status is 401 or 403)
        {
            return new GhostieSyncException(GhostieErrorCode.AccessDenied,
                $"{DisplayName} refused {operation} ({detail}). Check the credentials (AccessKeyId/SecretAccessKey, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the AWS profile) and that their policy allows s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on this bucket and prefix.",
                false, e);
        }

        if (WrongPlaceCodes.Contains(code) || status == 301)
        {
            return new GhostieSyncException(GhostieErrorCode.NotConfigured,
                $"{DisplayName} cannot be reached as configured ({operation}: {detail}). The bucket is probably in another region: set Region to the bucket's region (or ServiceUrl and ForcePathStyle for an S3-compatible store).",
                false, e);
        }

        if (code is "NotImplemented" or "InvalidRequest" && status is 400 or 501)
        {
            return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"{DisplayName} does not support {operation} ({detail}). If the store does not implement conditional writes, set ConditionalWrites to Disabled or Auto.",
                false, e);
        }

        return new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
            $"{operation} failed at {DisplayName} ({detail}). The request was refused permanently; check the bucket's settings and the endpoint.",
            false, e);
    }

    /// <summary>Keeps a service-supplied string to printable ASCII and a sane length.</summary>
    private static string Sanitize(string value)
    {
        string trimmed = value.Length > 200 ? value[..200] : value;
        return new string(trimmed.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray()).TrimEnd('.');
    }
}
