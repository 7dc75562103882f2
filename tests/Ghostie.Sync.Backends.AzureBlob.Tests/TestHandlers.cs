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

/// <summary>Passes requests to the real server, but cuts the body of the first <c>breaks</c> full Get Blob answers
/// after <c>breakAfter</c> bytes with an <see cref="IOException"/> (after running <c>onBreak</c>); records Range headers.</summary>
internal sealed class BreakingHandler(long breakAfter, int breaks, Func<Task>? onBreak = null) : DelegatingHandler(new SocketsHttpHandler())
{
    private int _remaining = breaks;

    public ConcurrentQueue<string> Ranges { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.TryGetValues("Range", out IEnumerable<string>? range))
        {
            Ranges.Enqueue(string.Join(",", range));
        }

        HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
        if (request.Method == HttpMethod.Get && response.StatusCode == HttpStatusCode.OK && !request.RequestUri!.Query.Contains("comp=", StringComparison.Ordinal)
            && Interlocked.Decrement(ref _remaining) >= 0)
        {
            Stream inner = await response.Content.ReadAsStreamAsync(cancellationToken);
            var content = new StreamContent(new BreakingStream(inner, breakAfter, onBreak));
            foreach (KeyValuePair<string, IEnumerable<string>> header in response.Content.Headers)
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = content;
        }

        return response;
    }

    private sealed class BreakingStream(Stream inner, long breakAfter, Func<Task>? onBreak) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= breakAfter)
            {
                if (onBreak is not null)
                {
                    await onBreak();
                }

                throw new IOException("Connection reset by peer (injected)");
            }

            int read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, breakAfter - _position)], cancellationToken);
            _position += read;
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
