using System.Collections.Concurrent;
using System.Net;

namespace Ghostie.Sync.Tests;

/// <summary>Passes requests to the real server and records each one's method, path and query (SAS signature removed).</summary>
internal sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public ConcurrentQueue<string> Requests { get; } = new();

    public int Count(string method, string queryPart) =>
        Requests.Count(r => r.StartsWith(method + " ", StringComparison.Ordinal) && r.Contains(queryPart, StringComparison.Ordinal));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string query = string.Join("&", (request.RequestUri!.Query.TrimStart('?')).Split('&').Where(p => !p.StartsWith("sig=", StringComparison.Ordinal)));
        Requests.Enqueue($"{request.Method} {request.RequestUri.AbsolutePath}?{query}");
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Answers every request itself, as scripted, without a server.</summary>
internal sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
{
    public int Calls;

    public static HttpResponseMessage Error(HttpStatusCode status, string? code, string? xmlBody = null, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(xmlBody ?? "") };
        if (code is not null && xmlBody is null)
        {
            response.Headers.TryAddWithoutValidation("x-ms-error-code", code);
        }

        foreach ((string name, string value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        HttpResponseMessage response = answer(request);
        response.RequestMessage = request;
        return Task.FromResult(response);
    }
}

/// <summary>Loses the answer of the next request a predicate matches (delivered, then the connection "drops"), or
/// runs an action instead of delivering it (then answers 503, as if the request never reached the service).</summary>
internal sealed class AnswerLosingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private int _lost;

    public Func<HttpRequestMessage, bool>? LoseNextMatching { get; set; }

    public Func<Task>? InsteadOfNext { get; set; }

    /// <summary>Fails the next request before it is sent, as a refused connection.</summary>
    public bool RefuseNext { get; set; }

    public int Lost => _lost;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (RefuseNext)
        {
            RefuseNext = false;
            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new System.Net.Sockets.SocketException(111));
        }

        if (InsteadOfNext is { } instead)
        {
            InsteadOfNext = null;
            Interlocked.Increment(ref _lost);
            await instead();
            return new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable) { RequestMessage = request, Content = new StringContent("") };
        }

        HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
        if (LoseNextMatching is { } match && match(request))
        {
            LoseNextMatching = null;
            Interlocked.Increment(ref _lost);
            response.Dispose();
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely.", new IOException("connection closed"));
        }

        return response;
    }
}
