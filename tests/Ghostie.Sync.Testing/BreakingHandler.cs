using System.Collections.Concurrent;
using System.Net;

namespace Ghostie.Sync.Testing;

/// <summary>Passes requests to the real server, but cuts the body of the first <c>breaks</c> full object downloads (a GET
/// answered 200 whose query is not an operation: no <c>comp=</c>, <c>list-type=</c>, <c>uploads</c> or <c>location</c>)
/// after <c>breakAfter</c> bytes with an <see cref="IOException"/> (after running <c>onBreak</c>); records Range headers.</summary>
public sealed class BreakingHandler(long breakAfter, int breaks, Func<Task>? onBreak = null) : DelegatingHandler(new SocketsHttpHandler())
{
    private int _remaining = breaks;

    public ConcurrentQueue<string> Ranges { get; } = new();

    private static bool IsObjectDownload(Uri uri) =>
        !new[] { "comp=", "list-type=", "uploads", "location", "versioning" }.Any(q => uri.Query.Contains(q, StringComparison.Ordinal));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Azure's SDK states the range as x-ms-range.
        if (request.Headers.TryGetValues("Range", out IEnumerable<string>? range) || request.Headers.TryGetValues("x-ms-range", out range))
        {
            Ranges.Enqueue(string.Join(",", range));
        }

        HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
        if (request.Method == HttpMethod.Get && response.StatusCode == HttpStatusCode.OK && IsObjectDownload(request.RequestUri!)
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
