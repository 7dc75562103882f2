using System.Security.Cryptography;

namespace Ghostie.Sync.Backends.Dropbox.Internal;

/// <summary>Dropbox's content hash (https://www.dropbox.com/developers/reference/content-hash): SHA-256 of each 4 MB
/// block, then SHA-256 of the concatenated block digests, in hex. Fed incrementally, in any slicing.</summary>
internal sealed class ContentHasher : IDisposable
{
    internal const int BlockSize = 4 * 1024 * 1024;
    private readonly IncrementalHash _block = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _blocks = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _filled;

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        Length += data.Length;
        while (data.Length > 0)
        {
            int n = Math.Min(BlockSize - _filled, data.Length);
            _block.AppendData(data[..n]);
            _filled += n;
            data = data[n..];
            if (_filled == BlockSize)
            {
                _blocks.AppendData(_block.GetHashAndReset());
                _filled = 0;
            }
        }
    }

    /// <summary>The hash so far; the hasher is reset after.</summary>
    public string Finish()
    {
        if (_filled > 0)
        {
            _blocks.AppendData(_block.GetHashAndReset());
            _filled = 0;
        }

        Length = 0;
        return Convert.ToHexStringLower(_blocks.GetHashAndReset());
    }

    public static string Of(ReadOnlySpan<byte> data)
    {
        using var hasher = new ContentHasher();
        hasher.Append(data);
        return hasher.Finish();
    }

    public void Dispose()
    {
        _block.Dispose();
        _blocks.Dispose();
    }
}
