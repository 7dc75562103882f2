using System.Buffers;

namespace Ghostie.Sync.Backends.Postgres.Internal;

/// <summary>
/// An object read one chunk at a time, each chunk by its own retried query under the version the read began with. It
/// holds one chunk in memory. A chunk that is gone (the object was replaced or deleted meanwhile) fails the read rather
/// than mixing two versions; a read that does not add up to the recorded size is reported the same way.
/// </summary>
internal sealed class PostgresReadStream(PostgresBackend backend, string name, long version, long size, int chunks, byte[] first, int chunkSize) : Stream
{
    private byte[] _chunk = first;
    private int _length = first.Length;
    private byte[]? _rented;
    private int _offset;
    private int _next = 1;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    /// <summary>The object's size, known from its row (readers may check it against their limits before reading).</summary>
    public override long Length => size;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_offset == _length && !Advance(CancellationToken.None).GetAwaiter().GetResult())
        {
            return 0;
        }

        return Take(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (buffer.Length == 0)
        {
            return 0;
        }

        if (_offset == _length && !await Advance(cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        return Take(buffer.Span);
    }

    private int Take(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _length - _offset);
        _chunk.AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        _position += n;
        return n;
    }

    /// <summary>Loads the next non-empty chunk; false at the end (after checking the size).</summary>
    private async Task<bool> Advance(CancellationToken cancellationToken)
    {
        while (_offset == _length)
        {
            if (_next >= chunks)
            {
                if (_position != size)
                {
                    throw backend.Changed(name, $" (it ended after {_position:N0} of its {size:N0} bytes)");
                }

                return false;
            }

            _rented ??= ArrayPool<byte>.Shared.Rent(chunkSize);
            _chunk = _rented;
            _length = 0;
            _offset = 0;
            try
            {
                _length = await backend.ReadChunkAsync(name, version, _next, _rented, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresBackend.ChunkTooLarge large)
            {
                // Written by a client with a larger chunk size: a buffer that fits, once.
                ArrayPool<byte>.Shared.Return(_rented);
                _rented = ArrayPool<byte>.Shared.Rent((int)Math.Min(large.Length, int.MaxValue));
                _chunk = _rented;
                _length = await backend.ReadChunkAsync(name, version, _next, _rented, cancellationToken).ConfigureAwait(false);
            }

            _next++;
        }

        return true;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
            _chunk = [];
            _length = 0;
        }

        base.Dispose(disposing);
    }
}
