using System.Security.Cryptography;

namespace Ghostie.Sync.Testing;

/// <summary>
/// Dropbox's content hash, as the double computes it (its own implementation, independent of the client's): split the
/// content into blocks of 4 MB (4,194,304 bytes; the last may be shorter), SHA-256 each block, concatenate the binary
/// digests, SHA-256 that, hex-encode. An empty file has no block, so its hash is SHA-256 of the empty string.
/// Source: https://www.dropbox.com/developers/reference/content-hash
/// </summary>
public sealed class DropboxContentHash : IDisposable
{
    /// <summary>The block size of the algorithm (4 MB).</summary>
    public const int BlockSize = 4 * 1024 * 1024;

    private readonly IncrementalHash _block = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _overall = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _inBlock;

    /// <summary>Feeds bytes in any slicing.</summary>
    /// <param name="data">The next bytes.</param>
    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int take = Math.Min(BlockSize - _inBlock, data.Length);
            _block.AppendData(data[..take]);
            _inBlock += take;
            data = data[take..];
            if (_inBlock == BlockSize)
            {
                _overall.AppendData(_block.GetHashAndReset());
                _inBlock = 0;
            }
        }
    }

    /// <summary>The hex hash of everything fed so far.</summary>
    public string Finish()
    {
        if (_inBlock > 0)
        {
            _overall.AppendData(_block.GetHashAndReset());
            _inBlock = 0;
        }

        return Convert.ToHexStringLower(_overall.GetHashAndReset());
    }

    /// <summary>The hash of a whole byte array.</summary>
    /// <param name="data">The content.</param>
    public static string Of(ReadOnlySpan<byte> data)
    {
        using var hash = new DropboxContentHash();
        hash.Append(data);
        return hash.Finish();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _block.Dispose();
        _overall.Dispose();
    }
}
