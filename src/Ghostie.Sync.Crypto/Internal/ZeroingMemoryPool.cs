using System.Buffers;
using System.Security.Cryptography;

namespace Ghostie.Sync.Crypto.Internal;

/// <summary>
/// A memory pool whose blocks are zeroed when they are given back, for pipes that carry plaintext (re-encryption):
/// the shared pool would hand the bytes on to unrelated code without clearing them.
/// </summary>
internal sealed class ZeroingMemoryPool : MemoryPool<byte>
{
    public static readonly ZeroingMemoryPool Instance = new();

    public override int MaxBufferSize => 1 << 20;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) => new Block(minBufferSize <= 0 ? 4096 : minBufferSize);

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(int size) : IMemoryOwner<byte>
    {
        private byte[]? _array = ArrayPool<byte>.Shared.Rent(size);

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            byte[]? array = Interlocked.Exchange(ref _array, null);
            if (array is not null)
            {
                CryptographicOperations.ZeroMemory(array);
                ArrayPool<byte>.Shared.Return(array);
            }
        }
    }
}
