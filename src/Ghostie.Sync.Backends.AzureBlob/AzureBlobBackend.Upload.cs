using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs.Models;
using Ghostie.Sync.Backends.AzureBlob.Internal;
using Ghostie.Sync.Shared;

namespace Ghostie.Sync.Backends.AzureBlob;

/// <summary>Uploads: one Put Blob for small objects, staged blocks and one Put Block List for large ones.</summary>
public sealed partial class AzureBlobBackend
{
    /// <summary>Random bytes that make one upload's block ids its own (two uploads of one name never mix blocks).</summary>
    private const int BlockIdNonceBytes = 14;

    private async Task<bool> UploadAsync(string name, Stream content, WriteCondition? condition, CancellationToken cancellationToken)
    {
        ObjectName.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        long? start = content.CanSeek ? content.Position : null;
        for (int round = 1; ; round++)
        {
            (bool? stored, string? why) = await UploadOnceAsync(name, content, start is { } s ? content.Length - s : null, condition, cancellationToken).ConfigureAwait(false);
            if (stored is bool done)
            {
                return done;
            }

            if (start is null || round >= Math.Max(1, _retry.MaxAttempts))
            {
                throw new GhostieSyncException(GhostieErrorCode.BackendUnavailable,
                    $"The upload of '{name}' to {DisplayName} was not committed: {why}. Nothing was written{(start is null ? " (the content cannot be read a second time)" : $" after {round} uploads")}; write it again (sync again).",
                    isTransient: true);
            }

            AzureBlobLog.UploadRestarted(_logger, name, why!);
            content.Position = start.Value;
        }
    }

    /// <summary>One upload: true when stored, false when the condition failed, null (with the reason) when the upload
    /// must be done again from the first block.</summary>
    private async Task<(bool? Stored, string? Why)> UploadOnceAsync(string name, Stream content, long? length, WriteCondition? condition, CancellationToken cancellationToken)
    {
        int maxBlocks = Math.Max(1, _maxBlockCount);
        int blockSize = _blockSize;
        if (length is long known && known > _singlePutThreshold)
        {
            // The length is known: blocks large enough that the object never needs more than the service's limit.
            long needed = (known + maxBlocks - 1) / maxBlocks;
            if (needed > AzureBlobBackendOptions.MaxBlockSize)
            {
                throw TooLarge(name, known, maxBlocks);
            }

            blockSize = (int)Math.Max(blockSize, needed);
        }

        using var reader = new ChunkReader(content, blockSize);
        string? marker = condition is null ? null : Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        ReadOnlyMemory<byte> chunk = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (reader.AtEnd && chunk.Length <= _singlePutThreshold)
        {
            return (await PutBlobAsync(name, chunk, condition, marker, cancellationToken).ConfigureAwait(false), null);
        }

        // Every block upload is marked, so a commit that fails can still tell whether the blob is ours.
        marker ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        byte[] nonce = RandomNumberGenerator.GetBytes(BlockIdNonceBytes);
        var blockIds = new List<string>();

        // Of unknown length: whenever half of the blocks still allowed are used, the blocks double (up to MaxBlockSize).
        int nextGrowth = length is null ? Math.Max(1, maxBlocks / 2) : int.MaxValue;
        while (true)
        {
            string blockId = BlockId(nonce, blockIds.Count);
            await PutBlockAsync(name, blockId, chunk, cancellationToken).ConfigureAwait(false);
            blockIds.Add(blockId);
            if (reader.AtEnd)
            {
                break;
            }

            if (blockIds.Count >= maxBlocks)
            {
                // Only a stream of unknown length gets here, at the largest blocks; the staged blocks are never committed.
                throw TooLarge(name, null, maxBlocks);
            }

            if (blockIds.Count >= nextGrowth)
            {
                reader.ChunkSize = (int)Math.Min(AzureBlobBackendOptions.MaxBlockSize, (long)reader.ChunkSize * 2);
                nextGrowth += Math.Max(1, (maxBlocks - nextGrowth) / 2);
            }

            chunk = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }

        // Nothing is visible until this commit; a cancelled or failed upload leaves only uncommitted blocks.
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return (await PutBlockListAsync(name, blockIds, condition, marker, cancellationToken).ConfigureAwait(false), null);
        }
        catch (GhostieSyncException e) when (e.InnerException is HttpAttemptException { ServiceCode: "InvalidBlockList" })
        {
            // A racing writer committed the blob, which discards every other upload's uncommitted blocks (the service
            // may say so before it evaluates our condition). Ours if it carries our marker; a failed condition is the
            // answer; else the whole upload is done again.
            (string? current, string? found) = await HeadAsync(name, cancellationToken).ConfigureAwait(false);
            if (current is not null && string.Equals(found, marker, StringComparison.Ordinal))
            {
                return (true, null);
            }

            if (condition is { } c && (c.Header == "If-None-Match" ? current is not null : current != c.Value))
            {
                return (false, null);
            }

            return (null, "a concurrent write of the blob discarded its uncommitted blocks (400 InvalidBlockList)");
        }
    }

    private GhostieSyncException TooLarge(string name, long? length, int maxBlocks) =>
        new(GhostieErrorCode.InvalidArgument,
            $"'{name}' is too large for {DisplayName}: " + (length is long known ? $"{known} bytes need" : "it needs")
            + $" more than {maxBlocks} blocks (the service's limit) of at most {AzureBlobBackendOptions.MaxBlockSize} bytes (AzureBlobBackendOptions.MaxBlockSize). Nothing was committed; store it in smaller objects.");

    /// <summary>A block id: the upload's nonce and the block's index, 18 bytes, so every id of a blob has the same
    /// length (24 base64 characters, no padding) as the service requires.</summary>
    internal static string BlockId(ReadOnlySpan<byte> nonce, int index)
    {
        Span<byte> raw = stackalloc byte[BlockIdNonceBytes + 4];
        nonce[..BlockIdNonceBytes].CopyTo(raw);
        BinaryPrimitives.WriteInt32BigEndian(raw[BlockIdNonceBytes..], index);
        return Convert.ToBase64String(raw);
    }

    /// <summary>The metadata key of a write's marker (x-ms-meta-ghostiewrite): random per upload, it recognises our own
    /// write when a retry meets a failed condition because an earlier attempt stored the blob and only its answer was lost.</summary>
    private const string WriteMarkerKey = "ghostiewrite";

    private static Dictionary<string, string>? MarkerMetadata(string? marker) =>
        marker is null ? null : new Dictionary<string, string>(StringComparer.Ordinal) { [WriteMarkerKey] = marker };

    private async Task<bool> PutBlobAsync(string name, ReadOnlyMemory<byte> data, WriteCondition? condition, string? marker, CancellationToken cancellationToken)
    {
        int attempts = 0;
        bool stored = await RunAsync("PUT", name, async ct =>
        {
            attempts++;
            return await WriteAsync("PUT", condition, () => Blob(name).UploadAsync(new ReadOnlyMemoryStream(data), new BlobUploadOptions
            {
                Conditions = condition?.ToConditions(),
                Metadata = MarkerMetadata(marker),
            }, ct)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return stored || (attempts > 1 && await IsOurWriteAsync(name, marker, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Whether the blob now under <paramref name="name"/> carries this upload's <paramref name="marker"/>.</summary>
    private async Task<bool> IsOurWriteAsync(string name, string? marker, CancellationToken cancellationToken) =>
        marker is not null && string.Equals((await HeadAsync(name, cancellationToken).ConfigureAwait(false)).Marker, marker, StringComparison.Ordinal);

    /// <summary>The blob's ETag and write marker ("" when it has none), or nulls when there is no such blob.</summary>
    private Task<(string? ETag, string? Marker)> HeadAsync(string name, CancellationToken cancellationToken) =>
        RunAsync<(string?, string?)>("HEAD", name, async ct =>
        {
            try
            {
                Response<BlobProperties> head = await Blob(name).GetPropertiesAsync(conditions: null, ct).ConfigureAwait(false);
                return (head.Value.ETag.ToString("H"), head.Value.Metadata.TryGetValue(WriteMarkerKey, out string? found) ? found : "");
            }
            catch (RequestFailedException e) when (e.Status == 404 && IsBlobMissing(Failure(e, "HEAD")))
            {
                return (null, null);
            }
        }, cancellationToken);

    private Task PutBlockAsync(string name, string blockId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        RunAsync("PUT BLOCK", name, async ct =>
        {
            await Blob(name).StageBlockAsync(blockId, new ReadOnlyMemoryStream(data), options: null, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<bool> PutBlockListAsync(string name, IReadOnlyList<string> blockIds, WriteCondition? condition, string? marker, CancellationToken cancellationToken)
    {
        int attempts = 0;
        bool stored = await RunAsync("PUT BLOCK LIST", name, async ct =>
        {
            attempts++;
            return await WriteAsync("PUT BLOCK LIST", condition, () => Blob(name).CommitBlockListAsync(blockIds, new CommitBlockListOptions
            {
                Conditions = condition?.ToConditions(),
                Metadata = MarkerMetadata(marker),
            }, ct)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return stored || (attempts > 1 && await IsOurWriteAsync(name, marker, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Sends a write: true when stored, false when its condition did not hold, else the failure.</summary>
    private async Task<bool> WriteAsync<T>(string operation, WriteCondition? condition, Func<Task<T>> write)
    {
        try
        {
            await SdkAsync(operation, write).ConfigureAwait(false);
            return true;
        }
        catch (HttpAttemptException failure) when (condition is { } c && c.DidNotHold(failure))
        {
            return false;
        }
    }

    /// <summary>A read-only, seekable view of a buffer the SDK can send (and rewind) without a copy.</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position
        {
            get => _position;
            set => _position = (int)Math.Clamp(value, 0, data.Length);
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, data.Length - _position);
            data.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => data.Length + offset,
        };

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// Reads a stream in chunks of up to the block size into one pooled buffer, which grows from 64 KiB only as the
    /// object does (small objects never hold a large buffer). A one-byte look-ahead tells whether a full chunk is the
    /// last, so an object of exactly the single-put threshold still goes in one request.
    /// </summary>
    private sealed class ChunkReader(Stream source, int chunkSize) : IDisposable
    {
        private const int InitialSize = 64 * 1024;
        private readonly byte[] _peek = new byte[1];
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(chunkSize, InitialSize));
        private int _capacity = Math.Min(chunkSize, InitialSize);
        private bool _hasCarry;

        /// <summary>The largest chunk the next reads return (it may grow between reads, never shrink).</summary>
        public int ChunkSize
        {
            get => chunkSize;
            set => chunkSize = Math.Max(chunkSize, value);
        }

        /// <summary>Whether the stream ended with the last chunk read.</summary>
        public bool AtEnd { get; private set; }

        /// <summary>The next chunk; valid until the next call.</summary>
        public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken)
        {
            int filled = 0;
            if (_hasCarry)
            {
                _buffer[0] = _peek[0];
                filled = 1;
                _hasCarry = false;
            }

            while (true)
            {
                if (filled == _capacity)
                {
                    if (_capacity < chunkSize)
                    {
                        Grow(filled);
                        continue;
                    }

                    int peeked = await source.ReadAsync(_peek, cancellationToken).ConfigureAwait(false);
                    AtEnd = peeked == 0;
                    _hasCarry = peeked > 0;
                    return _buffer.AsMemory(0, filled);
                }

                int read = await source.ReadAsync(_buffer.AsMemory(filled, _capacity - filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    AtEnd = true;
                    return _buffer.AsMemory(0, filled);
                }

                filled += read;
            }
        }

        private void Grow(int filled)
        {
            int capacity = (int)Math.Min(chunkSize, (long)_capacity * 4);
            byte[] larger = ArrayPool<byte>.Shared.Rent(capacity);
            _buffer.AsSpan(0, filled).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
            _capacity = capacity;
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
    }
}
