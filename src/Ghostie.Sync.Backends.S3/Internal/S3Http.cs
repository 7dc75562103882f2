using Amazon.Runtime;
using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.S3.Internal;

/// <summary>What one backend call learns from the HTTP responses of its current attempt (a throttling hint). The SDK
/// turns responses into exceptions without their headers, so the handler below records them here.</summary>
internal sealed class AttemptContext
{
    /// <summary>The context of the backend call running on this async flow, if any.</summary>
    internal static readonly AsyncLocal<AttemptContext?> Current = new();

    /// <summary>The Retry-After of the latest failed response of the current attempt.</summary>
    public TimeSpan? RetryAfter { get; set; }
}

/// <summary>Counts every HTTP request and records Retry-After hints of failed responses for the current call.</summary>
internal sealed class S3HttpHandler(HttpMessageHandler inner, TimeProvider timeProvider) : DelegatingHandler(inner)
{
    private long _requests;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Carries over the requests a probe made through another handler.</summary>
    public void AddProbeRequests(long count) => Interlocked.Add(ref _requests, count);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && AttemptContext.Current.Value is AttemptContext context)
        {
            context.RetryAfter = RetryVerdict.ReadRetryAfter(response.Headers.RetryAfter, timeProvider);
        }

        return response;
    }
}

/// <summary>Hands the SDK the backend's one HttpClient, so every request passes through <see cref="S3HttpHandler"/>
/// (and any handler the host inserted). The SDK neither caches nor disposes it; the backend does.</summary>
internal sealed class S3HttpClientFactory(HttpClient client) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => client;

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    public override string GetConfigUniqueString(IClientConfig clientConfig) => "ghostie-s3-" + client.GetHashCode().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
