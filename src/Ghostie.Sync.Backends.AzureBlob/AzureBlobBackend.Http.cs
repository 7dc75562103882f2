using System.Globalization;
using System.Net.Http.Headers;
using System.Net;
using Ghostie.Sync.Backends.AzureBlob.Internal;
using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>Requests, authorization, retries and error mapping.</summary>
public sealed partial class AzureBlobBackend
{
    private const int MaxErrorBodyBytes = 16 * 1024;

    private HttpRequestMessage NewRequest(HttpMethod method, string? name, string? query) =>
        NewRequestCore(method, _containerUrl + "/" + _endpoint.BlobPrefix + name, query);

    private HttpRequestMessage NewContainerRequest(HttpMethod method, string query) => NewRequestCore(method, _containerUrl, query);

    private HttpRequestMessage NewRequestCore(HttpMethod method, string url, string? query)
    {
        if (_endpoint.Sas is string sas)
        {
            query = string.IsNullOrEmpty(query) ? sas : query + "&" + sas;
        }

        var request = new HttpRequestMessage(method, string.IsNullOrEmpty(query) ? url : url + "?" + query);
        request.Headers.TryAddWithoutValidation("x-ms-version", ApiVersion);
        request.Headers.TryAddWithoutValidation("x-ms-date", _retry.TimeProvider.GetUtcNow().ToString("R", CultureInfo.InvariantCulture));
        return request;
    }

    /// <summary>Signs (Shared Key) and sends one request, counting it; the response is returned once its headers arrive.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_endpoint.Key is byte[] key)
        {
            // Signed per attempt: the date is part of the signature.
            SharedKey.Authorize(request, _endpoint.AccountName!, key);
        }

        Interlocked.Increment(ref _requestCount);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (ContainsSecret(e))
        {
            // Some handlers put the request URL (and so a SAS) into their messages: keep the kind, drop the text.
            throw new HttpRequestException(e.HttpRequestError, "The request to Azure failed (details withheld: they contained a credential).");
        }
    }

    /// <summary>Reads the service's error code (the x-ms-error-code header, else the XML body), classifies the
    /// response, and releases it.</summary>
    private async Task<HttpAttemptException> FailureAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        using (response)
        {
            string? code = response.Headers.NonValidated.TryGetValues("x-ms-error-code", out HeaderStringValues header) ? header.ToString() : null;
            if (string.IsNullOrEmpty(code) && response.RequestMessage?.Method != HttpMethod.Head)
            {
                code = BlobXml.ReadErrorCode(await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false));
            }

            code = string.IsNullOrEmpty(code) ? null : code;
            RetryVerdict verdict = RetryVerdict.FromHttpResponse(response, _retry.TimeProvider);
            if (code != "BlobNotFound")
            {
                // A missing blob is an answer, not a failure.
                AzureBlobLog.RequestFailed(_logger, operation, (int)response.StatusCode, code);
            }

            return new HttpAttemptException(response.StatusCode, verdict, code);
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            byte[] buffer = new byte[MaxErrorBodyBytes];
            int filled = 0;
            int read;
            while (filled < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
            {
                filled += read;
            }

            return buffer[..filled];
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // The status alone still classifies the failure.
            return [];
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
                return await BackendRetry.ExecuteAsync(operation, attempt, Classify, _retry, cancellationToken).ConfigureAwait(false);
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
            string credential = _endpoint.Sas is null ? "account key" : "SAS token";
            string hint = _endpoint.Sas is null
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

    /// <summary>A conditional write's header, and how the service says it did not hold.</summary>
    private readonly record struct WriteCondition(string Header, string Value)
    {
        public static WriteCondition IfNoneExists => new("If-None-Match", "*");

        public static WriteCondition IfMatch(string etag) => new("If-Match", etag);

        public void Apply(HttpRequestMessage request) => request.Headers.TryAddWithoutValidation(Header, Value);

        /// <summary>Create-only: 409 BlobAlreadyExists (Azure and Azurite) or 412. Replace: 412, or 404 when the blob vanished.</summary>
        public bool DidNotHold(HttpAttemptException failure) =>
            failure.Status == HttpStatusCode.PreconditionFailed
            || (Header == "If-None-Match" && failure.Status == HttpStatusCode.Conflict && failure.ServiceCode == "BlobAlreadyExists")
            || (Header == "If-Match" && IsBlobMissing(failure));
    }
}
