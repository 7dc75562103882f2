namespace Ghostie.Sync.Shared;

// Internal source shared by the HTTP backends that download large objects (S3, Azure Blob). See docs/architecture.md.

/// <summary>
/// The body of a download, read as it arrives. When the connection breaks midway (an
/// <see cref="IOException"/> or <see cref="HttpRequestException"/> while reading), the rest is requested again from
/// the offset where reading stopped, through a delegate the backend supplies (a ranged GET under the object's ETag, so
/// an object replaced meanwhile is never spliced), at most <c>maxResumes</c> times per download. Disposing the stream
/// releases the current body and its owner (the response, and with it the connection).
/// </summary>
/// <remarks>Cancellation is never resumed. A backend whose object has no version tag passes no delegate: a break is
/// then reported as it happened.</remarks>
internal sealed class ResumableReadStream : Stream
{
    private readonly ReopenAt? _reopen;
    private readonly int _maxResumes;
    private readonly long? _length;
    private Stream _body;
    private IDisposable? _owner;
    private long _position;
    private int _resumes;

    /// <summary>Wraps the first response of a download.</summary>
    /// <param name="body">The response body.</param>
    /// <param name="owner">What to dispose with the body (the response), or null.</param>
    /// <param name="length">The object's length, when the response said it: a break after the last byte needs no resume.</param>
    /// <param name="reopen">Asks for the object again from an offset (under the version the download began with), or
    /// null when the download cannot be resumed. It throws when the object changed.</param>
    /// <param name="maxResumes">How many breaks one download may survive.</param>
    public ResumableReadStream(Stream body, IDisposable? owner, long? length, ReopenAt? reopen, int maxResumes)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfNegative(maxResumes);
        _body = body;
        _owner = owner;
        _length = length;
        _reopen = reopen;
        _maxResumes = maxResumes;
    }

    /// <summary>Requests the object again from <paramref name="offset"/>: the new body and what owns it.</summary>
    /// <param name="offset">The first byte wanted.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public delegate Task<(Stream Body, IDisposable? Owner)> ReopenAt(long offset, CancellationToken cancellationToken);

    /// <summary>How many times this download was resumed.</summary>
    public int Resumes => _resumes;

    /// <summary>Bytes returned so far.</summary>
    public long BytesRead => _position;

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
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
                if (AtEnd)
                {
                    return 0;
                }

                // Synchronous readers get the same resumption; the request itself is asynchronous.
                ResumeAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
        }
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
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
                if (AtEnd)
                {
                    return 0;
                }

                await ResumeAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private bool AtEnd => _length is long length && _position >= length;

    private bool CanResume(Exception e, CancellationToken cancellationToken) =>
        e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested && _reopen is not null && _resumes < _maxResumes;

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        _resumes++;
        await ReleaseAsync().ConfigureAwait(false);
        (_body, _owner) = await _reopen!(_position, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask ReleaseAsync()
    {
        Stream body = _body;
        _body = Null;
        try
        {
            await body.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The connection is already broken; nothing more to release.
        }

        _owner?.Dispose();
        _owner = null;
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _body.Dispose();
            _owner?.Dispose();
            _owner = null;
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await _body.DisposeAsync().ConfigureAwait(false);
        _owner?.Dispose();
        _owner = null;
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
