using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>
/// Reads a payload stream as the v3 content it seals to: the payload, then (once the payload has ended and its length
/// is known) the zero padding up to <see cref="EnvelopeFormat.PaddedContentLength"/> and the u64 BE payload length.
/// Lets a sealer stream a payload of unknown length through one chunk buffer.
/// </summary>
internal sealed class PaddedContentReader(Stream payload) : Stream
{
    private readonly byte[] _lengthField = new byte[EnvelopeFormat.LengthFieldSize];
    private long _payloadLength;
    private long _contentLength = -1; // known once the payload has ended
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_contentLength < 0)
        {
            int read = payload.Read(buffer);
            if (read > 0 || buffer.IsEmpty)
            {
                return Advance(read);
            }

            EndPayload();
        }

        return ReadTail(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_contentLength < 0)
        {
            int read = await payload.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read > 0 || buffer.IsEmpty)
            {
                return Advance(read);
            }

            EndPayload();
        }

        return ReadTail(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Advance(int read)
    {
        _payloadLength += read;
        _position += read;
        return read;
    }

    private void EndPayload()
    {
        _contentLength = EnvelopeFormat.PaddedContentLength(_payloadLength);
        BinaryPrimitives.WriteUInt64BigEndian(_lengthField, (ulong)_payloadLength);
    }

    /// <summary>Padding zeros, then the length field, then the end.</summary>
    private int ReadTail(Span<byte> buffer)
    {
        int count = (int)Math.Min(buffer.Length, _contentLength - _position);
        Span<byte> piece = buffer[..count];
        piece.Clear();
        EnvelopeFormat.WriteLengthField(_lengthField, _contentLength, _position, piece);
        _position += count;
        return count;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// Receives the decrypted content of a v3 object chunk by chunk and writes only its payload to the destination: it
/// holds back the last 8 bytes (possibly the length field) and any run of zero bytes (possibly padding) until a
/// non-zero byte follows or the content ends, so memory stays bounded whatever the padding size.
/// </summary>
internal sealed class PaddingStripper(Stream destination, string name)
{
    private static readonly byte[] Zeros = new byte[4096];
    private readonly byte[] _tail = new byte[EnvelopeFormat.LengthFieldSize];
    private int _tailLength;
    private long _pendingZeros;
    private long _written;

    /// <summary>Takes the next authenticated piece of content.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        int total = _tailLength + data.Length;
        if (total <= _tail.Length)
        {
            data.Span.CopyTo(_tail.AsSpan(_tailLength));
            _tailLength = total;
            return;
        }

        // Of tail ++ data, everything but the last 8 bytes can be classified now.
        int release = total - _tail.Length;
        int fromTail = Math.Min(_tailLength, release);
        await ClassifyAsync(_tail.AsMemory(0, fromTail), cancellationToken).ConfigureAwait(false);
        int fromData = release - fromTail;
        await ClassifyAsync(data[..fromData], cancellationToken).ConfigureAwait(false);
        int kept = _tailLength - fromTail;
        _tail.AsSpan(fromTail, kept).CopyTo(_tail);
        data.Span[fromData..].CopyTo(_tail.AsSpan(kept));
        _tailLength = _tail.Length;
    }

    /// <summary>The content has ended: check the length field and the padding, then write the payload's last zeros.</summary>
    public async ValueTask FinishAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_tailLength < _tail.Length)
            {
                throw new IntegrityException(name, $"its content is {_written + _pendingZeros + _tailLength} bytes, shorter than the {EnvelopeFormat.LengthFieldSize}-byte payload length field of format v3");
            }

            ulong length = BinaryPrimitives.ReadUInt64BigEndian(_tail);
            ulong content = (ulong)(_written + _pendingZeros);
            if (length > content)
            {
                throw new IntegrityException(name, $"its payload length field says {length} bytes, more than the {content} its content holds");
            }

            if (length < (ulong)_written)
            {
                throw new IntegrityException(name, "its padding is not all zero bytes");
            }

            await WriteZerosAsync((long)length - _written, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(_tail);
        }
    }

    /// <summary>Clears the bytes held back (on failure paths, where <see cref="FinishAsync"/> is not reached).</summary>
    public void Clear() => CryptographicOperations.ZeroMemory(_tail);

    private async ValueTask ClassifyAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        int last = bytes.Span.LastIndexOfAnyExcept((byte)0);
        if (last < 0)
        {
            _pendingZeros += bytes.Length;
            return;
        }

        // A non-zero byte: the zeros held back were payload.
        await WriteZerosAsync(_pendingZeros, cancellationToken).ConfigureAwait(false);
        await destination.WriteAsync(bytes[..(last + 1)], cancellationToken).ConfigureAwait(false);
        _written += last + 1;
        _pendingZeros = bytes.Length - last - 1;
    }

    private async ValueTask WriteZerosAsync(long count, CancellationToken cancellationToken)
    {
        _pendingZeros -= count;
        _written += count;
        while (count > 0)
        {
            int n = (int)Math.Min(count, Zeros.Length);
            await destination.WriteAsync(Zeros.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            count -= n;
        }
    }
}
