using System.Buffers;
using System.Security.Cryptography;

namespace Ghostie.Sync.Backends.GitHubGist.Internal;

/// <summary>A chunk to read: where it is and what it must hash to.</summary>
internal sealed record ResolvedChunk(string RawUrl, int Length, byte[] Sha256);

/// <summary>
/// Reads a chunked object one chunk at a time: each chunk is fetched through its raw_url (with retries), decoded into
/// one pooled buffer and checked against the length and SHA-256 of the commit record before any byte is served, so
/// memory stays at one chunk whatever the object's size.
/// </summary>
internal sealed class ChunkedReadStream : Stream
{
    private readonly GistClient _client;
    private readonly string _name;
    private readonly IReadOnlyList<ResolvedChunk> _chunks;
    private readonly long _length;
    private readonly ArrayPool<byte> _pool;
    private byte[]? _buffer;
    private int _next;
    private int _offset;
    private int _count;
    private long _position;

    public ChunkedReadStream(GistClient client, string name, IReadOnlyList<ResolvedChunk> chunks, long length, ArrayPool<byte> pool)
    {
        _pool = pool;
        _client = client;
        _name = name;
        _chunks = chunks;
        _length = length;
        _buffer = pool.Rent(Math.Max(1, chunks.Count == 0 ? 1 : chunks.Max(c => c.Length)));
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        if (buffer.Length == 0)
        {
            return 0;
        }

        while (_offset == _count)
        {
            if (_next == _chunks.Count)
            {
                return 0;
            }

            await FetchAsync(_chunks[_next], _next, cancellationToken).ConfigureAwait(false);
            _next++;
        }

        int n = Math.Min(buffer.Length, _count - _offset);
        _buffer.AsMemory(_offset, n).CopyTo(buffer);
        _offset += n;
        _position += n;
        return n;
    }

    private async Task FetchAsync(ResolvedChunk chunk, int index, CancellationToken cancellationToken)
    {
        byte[] target = _buffer!;
        int decoded = await _client.ReadRawAsync($"GitHub read chunk {index} of '{_name}'", chunk.RawUrl,
            (body, ct) => GistFormat.ReadBase64UrlAsync(body, target.AsMemory(0, chunk.Length), ct), notFound: -2, cancellationToken).ConfigureAwait(false);
        if (decoded == -2)
        {
            throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                $"Chunk {index} of object '{_name}' vanished while it was read from {_client.DisplayName} (the object was replaced or deleted meanwhile); try again.", isTransient: true);
        }

        if (decoded != chunk.Length || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(target.AsSpan(0, decoded)), chunk.Sha256))
        {
            throw new IntegrityException(_name, $"chunk {index} does not match its commit record (length or SHA-256)");
        }

        _offset = 0;
        _count = decoded;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        byte[]? buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            _pool.Return(buffer);
        }

        base.Dispose(disposing);
    }
}
