using System.Security.Cryptography;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>
/// A pinned byte array for key material: the GC never moves (and so never copies) it, and it is zeroed on dispose.
/// </summary>
internal sealed class SecretBuffer : IDisposable
{
    private readonly byte[] _bytes;
    private bool _disposed;

    public SecretBuffer(int length)
    {
        _bytes = GC.AllocateUninitializedArray<byte>(length, pinned: true);
    }

    public SecretBuffer(ReadOnlySpan<byte> source)
        : this(source.Length)
    {
        source.CopyTo(_bytes);
    }

    public Span<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _bytes;
        }
    }

    public int Length => _bytes.Length;

    public static SecretBuffer Random(int length)
    {
        var buffer = new SecretBuffer(length);
        RandomNumberGenerator.Fill(buffer._bytes);
        return buffer;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_bytes);
            _disposed = true;
        }
    }
}
