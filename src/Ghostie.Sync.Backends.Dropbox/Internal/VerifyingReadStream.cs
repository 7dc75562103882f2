namespace Ghostie.Sync.Backends.Dropbox.Internal;

/// <summary>
/// A download checked as it is read: the bytes are counted and content-hashed, and at the end compared with the size and
/// content_hash of the Dropbox-API-Result header. A short body or a different hash is an <see cref="IntegrityException"/>
/// (thrown by the read that reaches the end), so damaged content is never taken for the object. Sits above the resumable
/// stream, so resumed parts are hashed in order.
/// </summary>
internal sealed class VerifyingReadStream(Stream inner, string name, DropboxFile expected) : Stream
{
    private readonly ContentHasher _hasher = new();
    private long _read;
    private bool _checked;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => expected.Size;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = inner.Read(buffer);
        return Observe(buffer[..read], buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Observe(buffer.Span[..read], buffer.Length);
    }

    private int Observe(ReadOnlySpan<byte> data, int asked)
    {
        _read += data.Length;
        if (_read > expected.Size)
        {
            throw new IntegrityException(name, $"Dropbox sent more than the {expected.Size} bytes its metadata gives");
        }

        _hasher.Append(data);
        if (data.Length == 0 && asked > 0 && !_checked)
        {
            _checked = true;
            if (_read != expected.Size)
            {
                throw new IntegrityException(name, $"the download ended after {_read} of {expected.Size} bytes");
            }

            string hash = _hasher.Finish();
            if (expected.ContentHash is not null && hash != expected.ContentHash)
            {
                throw new IntegrityException(name, "the downloaded bytes do not match Dropbox's content_hash for this revision");
            }
        }

        return data.Length;
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
            inner.Dispose();
            _hasher.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        _hasher.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
