using System.Net;

namespace Ghostie.Sync.Backends.S3.Tests;

/// <summary>When <see cref="StallAfter"/> is set, the body of the next successful GET serves that many bytes and then
/// waits until the read's own token is cancelled (as a connection that stops delivering would).</summary>
internal sealed class StallingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int? StallAfter { get; set; }

    /// <summary>Completes when a body has stalled.</summary>
    public Task Stalled => _stalled.Task;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
        if (StallAfter is int limit && request.Method == HttpMethod.Get && response.StatusCode == HttpStatusCode.OK)
        {
            StallAfter = null;
            _stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Stream body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var content = new StreamContent(new StallingStream(body, limit, _stalled));
            foreach (KeyValuePair<string, IEnumerable<string>> header in response.Content.Headers)
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = content;
        }

        return response;
    }

    private sealed class StallingStream(Stream inner, int limit, TaskCompletionSource stalled) : Stream
    {
        private int _served;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _served; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_served >= limit)
            {
                stalled.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            int read = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, limit - _served)], cancellationToken);
            _served += read;
            return read;
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
            }

            base.Dispose(disposing);
        }
    }
}
