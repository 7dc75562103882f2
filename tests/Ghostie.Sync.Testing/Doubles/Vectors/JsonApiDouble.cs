using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ghostie.Sync.Testing;

/// <summary>One request a vector database double received: method, path and query, the body as text.</summary>
public sealed record VectorDoubleRequest(string Method, string PathAndQuery, string Body);

/// <summary>
/// The loopback HTTP plumbing the vector database doubles share (HttpListener on 127.0.0.1): a log of every request
/// body (so a test can prove what left the device), injected failures (status with an optional Retry-After), and JSON
/// answers. The protocol rules live in each double.
/// </summary>
public abstract class JsonApiDouble : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _faults = new();
    private readonly ConcurrentQueue<VectorDoubleRequest> _received = new();

    /// <summary>The lock every double's state is changed under (requests are served one at a time per double anyway).</summary>
    protected object Gate { get; } = new();

    /// <summary>Starts listening on a free loopback port.</summary>
    protected JsonApiDouble()
    {
        for (int tries = 0; ; tries++)
        {
            int port = ServerProcess.FreePort();
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                Uri = new Uri($"http://127.0.0.1:{port}/");
                break;
            }
            catch (HttpListenerException) when (tries < 20)
            {
            }
        }

        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The double's base address.</summary>
    public Uri Uri { get; } = null!;

    /// <summary>Every request received so far, oldest first.</summary>
    public IReadOnlyList<VectorDoubleRequest> Received => _received.ToArray();

    /// <summary>How many requests were answered with an injected failure.</summary>
    public int InjectedAnswered { get; private set; }

    /// <summary>Answers the next request(s) with <paramref name="status"/> (and a Retry-After of <paramref name="retryAfter"/> when given).</summary>
    /// <param name="status">The status, for example 429 or 503.</param>
    /// <param name="retryAfter">The Retry-After header value ("1", or an HTTP date).</param>
    /// <param name="times">How many requests.</param>
    public void Fail(int status, string? retryAfter = null, int times = 1)
    {
        for (int i = 0; i < times; i++)
        {
            _faults.Enqueue((status, retryAfter));
        }
    }

    /// <summary>Whether any body received since request number <paramref name="since"/> holds <paramref name="text"/>
    /// (ordinal, as written or JSON-escaped), in its body or its path and query.</summary>
    /// <param name="text">The text.</param>
    /// <param name="since">How many requests to skip (a count of <see cref="Received"/> taken earlier).</param>
    public bool ReceivedText(string text, int since = 0)
    {
        string escaped = JsonSerializer.Serialize(text)[1..^1];
        return _received.Skip(since).Any(r => r.Body.Contains(text, StringComparison.Ordinal) || r.Body.Contains(escaped, StringComparison.Ordinal)
            || Uri.UnescapeDataString(r.PathAndQuery).Contains(text, StringComparison.Ordinal));
    }

    /// <summary>Serves one request: returns the status and the JSON answer (null: empty body).</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="path">The path, without the query, unescaped.</param>
    /// <param name="query">The query parameters.</param>
    /// <param name="headers">The request headers.</param>
    /// <param name="body">The parsed JSON body, or null.</param>
    protected abstract (int Status, JsonNode? Answer) Handle(string method, string path, System.Collections.Specialized.NameValueCollection query,
        System.Collections.Specialized.NameValueCollection headers, JsonNode? body);

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(context));
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        HttpListenerResponse response = context.Response;
        try
        {
            string text;
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                text = await reader.ReadToEndAsync().ConfigureAwait(false);
            }

            string path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath);
            _received.Enqueue(new VectorDoubleRequest(context.Request.HttpMethod, context.Request.Url.PathAndQuery, text));
            int status;
            JsonNode? answer;
            if (_faults.TryDequeue(out (int Status, string? RetryAfter) fault))
            {
                InjectedAnswered++;
                status = fault.Status;
                answer = new JsonObject { ["status"] = new JsonObject { ["error"] = "injected" }, ["message"] = "injected" };
                if (fault.RetryAfter is not null)
                {
                    response.AddHeader("Retry-After", fault.RetryAfter);
                }
            }
            else
            {
                JsonNode? body;
                try
                {
                    body = text.Length == 0 ? null : JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    (status, answer) = (400, new JsonObject { ["message"] = "body is not JSON" });
                    goto Write;
                }

                lock (Gate)
                {
                    (status, answer) = Handle(context.Request.HttpMethod, path, context.Request.QueryString, context.Request.Headers, body);
                }
            }

        Write:
            response.StatusCode = status;
            if (answer is not null)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
                response.ContentType = "application/json";
                response.ContentLength64 = bytes.Length;
                await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            }

            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            response.Abort();
        }
    }

    /// <summary>Reads a JSON array of numbers as floats; null when it is not one.</summary>
    /// <param name="node">The node.</param>
    protected static float[]? Floats(JsonNode? node) =>
        node is JsonArray array && array.All(x => x is JsonValue v && v.TryGetValue(out double _)) ? array.Select(x => (float)x!.GetValue<double>()).ToArray() : null;

    /// <summary>A JSON array of floats.</summary>
    /// <param name="values">The values.</param>
    protected static JsonArray FloatArray(float[] values) => new(values.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray());

    /// <summary>The vector scaled to unit length.</summary>
    /// <param name="v">The vector.</param>
    protected static float[] Normalize(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return norm == 0 ? v : v.Select(x => (float)(x / norm)).ToArray();
    }

    /// <summary>The cosine similarity.</summary>
    /// <param name="a">One vector.</param>
    /// <param name="b">The other.</param>
    protected static float Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return (float)(dot / Math.Sqrt(na * nb));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        GC.SuppressFinalize(this);
    }
}
