namespace Ghostie.Sync.Backends.AzureBlob.Internal;

/// <summary>
/// The body of a Get Blob response, read as it arrives. When the connection breaks midway, the rest is requested
/// again from where reading stopped (a ranged Get Blob with <c>If-Match</c> on the ETag, so a blob replaced meanwhile
/// is never spliced), at most <c>maxResumes</c> times. Disposing it releases the response and its connection.
/// </summary>
internal sealed class ResponseStream : Stream
{
    /// <summary>Reopens the blob at an offset, under its ETag; throws <see cref="IOException"/> when it changed.</summary>
    public delegate Task<(HttpResponseMessage Response, Stream Body)> Reopen(long offset, string etag, CancellationToken cancellationToken);

    private readonly string? _etag;
    private readonly Reopen _reopen;
    private readonly int _maxResumes;
    private HttpResponseMessage _response;
    private Stream _body;
    private long _position;
    private int _resumes;

    public ResponseStream(HttpResponseMessage response, Stream body, string? etag, Reopen reopen, int maxResumes)
    {
        _response = response;
        _body = body;
        _etag = etag;
        _reopen = reopen;
        _maxResumes = maxResumes;
    }

    /// <summary>How many times the download was resumed.</summary>
    public int Resumes => _resumes;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            try
            {
                int read = _body.Read(buffer);
                _position += read;
                return read;
            }
            catch (Exception e) when (CanResume(e, CancellationToken.None))
            {
                // Synchronous readers get the same resumption; the reopen itself is asynchronous.
                ResumeAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                int read = await _body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                _position += read;
                return read;
            }
            catch (Exception e) when (CanResume(e, cancellationToken))
            {
                await ResumeAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private bool CanResume(Exception e, CancellationToken cancellationToken) =>
        e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested && _etag is not null && _resumes < _maxResumes;

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        _resumes++;
        await _body.DisposeAsync().ConfigureAwait(false);
        _response.Dispose();
        (_response, _body) = await _reopen(_position, _etag!, cancellationToken).ConfigureAwait(false);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _body.Dispose();
            _response.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _body.DisposeAsync().ConfigureAwait(false);
        _response.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
