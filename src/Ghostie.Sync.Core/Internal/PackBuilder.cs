using System.Buffers;
using System.IO.Compression;
using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>Packs are Brotli-compressed JSON lines (one <see cref="PackEntry"/> per line), sealed as kind Pack.</summary>
internal sealed class PackBuilder : IAsyncDisposable
{
    private readonly FileStream _plain;
    private readonly BrotliStream _brotli;
    private readonly BufferedStream _buffer; // the encoder is called per 64 KiB, not per entry
    private readonly ArrayBufferWriter<byte> _line = new(4096);

    public PackBuilder(FileStream plain)
    {
        _plain = plain;
        _brotli = new BrotliStream(plain, CompressionLevel.Fastest, leaveOpen: true);
        _buffer = new BufferedStream(_brotli, 1 << 16);
    }

    public int Count { get; private set; }

    public long RawBytes { get; private set; }

    public void Add(PackEntry entry, byte[]? json = null)
    {
        ReadOnlySpan<byte> bytes = json;
        if (json is null)
        {
            _line.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(_line))
            {
                JsonSerializer.Serialize(writer, entry, CoreJson.Default.PackEntry);
            }

            bytes = _line.WrittenSpan;
        }

        _buffer.Write(bytes);
        _buffer.WriteByte((byte)'\n');
        Count++;
        RawBytes += bytes.Length + 1;
    }

    public async Task<FileStream> FinishAsync()
    {
        await _buffer.DisposeAsync().ConfigureAwait(false);
        await _brotli.DisposeAsync().ConfigureAwait(false);
        _plain.Position = 0;
        return _plain;
    }

    public async ValueTask DisposeAsync()
    {
        await _buffer.DisposeAsync().ConfigureAwait(false);
        await _brotli.DisposeAsync().ConfigureAwait(false);
        await _plain.DisposeAsync().ConfigureAwait(false);
    }
}
