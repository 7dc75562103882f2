using System.Security.Cryptography;

namespace Ghostie.Sync.Testing;

/// <summary>
/// A read-only, non-seekable stream of <c>length</c> deterministic pseudo-random bytes, produced on the fly (it
/// holds 64 KiB, whatever its length), so a backend cannot learn the size in advance or rewind it. It hashes what
/// was read and can run an action once a given number of bytes has been read (to cancel an upload midway).
/// </summary>
public sealed class GeneratedStream : Stream
{
    private readonly long _length;
    private readonly byte[] _block = new byte[64 * 1024];
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly long _triggerAt;
    private readonly Action? _trigger;
    private long _position;
    private long _blockIndex = -1;
    private readonly int _seed;

    /// <summary>Creates the stream.</summary>
    /// <param name="length">Bytes in total.</param>
    /// <param name="seed">Selects the byte sequence.</param>
    /// <param name="triggerAt">Runs <paramref name="trigger"/> once this many bytes have been read.</param>
    /// <param name="trigger">The action (for example cancelling a token).</param>
    public GeneratedStream(long length, int seed = 1, long triggerAt = long.MaxValue, Action? trigger = null)
    {
        _length = length;
        _seed = seed;
        _triggerAt = triggerAt;
        _trigger = trigger;
    }

    /// <summary>The SHA-256 of the whole stream (computed without reading it).</summary>
    /// <param name="length">Bytes in total.</param>
    /// <param name="seed">Selects the byte sequence.</param>
    public static byte[] HashOf(long length, int seed = 1)
    {
        using var stream = new GeneratedStream(length, seed);
        stream.CopyTo(Null, 64 * 1024);
        return stream.HashSoFar();
    }

    /// <summary>The SHA-256 of the bytes read so far.</summary>
    public byte[] HashSoFar() => _hash.GetCurrentHash();

    /// <summary>Bytes read so far.</summary>
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
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length && _position < _length)
        {
            long index = _position / _block.Length;
            if (index != _blockIndex)
            {
                var random = new Random(HashCode.Combine(_seed, index));
                random.NextBytes(_block);
                _blockIndex = index;
            }

            int inBlock = (int)(_position % _block.Length);
            int n = (int)Math.Min(Math.Min(buffer.Length - total, _block.Length - inBlock), _length - _position);
            _block.AsSpan(inBlock, n).CopyTo(buffer[total..]);
            _hash.AppendData(_block, inBlock, n);
            long before = _position;
            _position += n;
            total += n;
            if (before < _triggerAt && _position >= _triggerAt)
            {
                _trigger?.Invoke();
            }
        }

        return total;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
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
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
