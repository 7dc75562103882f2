using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>The entries of an opened pack: its decompressed JSON lines.</summary>
internal static class PackReader
{
    /// <summary>
    /// Lines are split and parsed as UTF-8 bytes in one reused buffer: no string per line (a pull of 100,000 memories
    /// would otherwise make 100,000 UTF-16 copies of its JSON for the collector to clear).
    /// </summary>
    public static async IAsyncEnumerable<PackEntry> ReadEntriesAsync(Stream lines, string packName, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int start = 0, end = 0;
            while (true)
            {
                int newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                if (newline < 0)
                {
                    (buffer, start, end) = Compact(buffer, start, end);
                    int read = await lines.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        if (end > start)
                        {
                            yield return ParseEntry(packName, buffer.AsSpan(start, end - start));
                        }

                        break;
                    }

                    end += read;
                    continue;
                }

                if (newline > 0)
                {
                    yield return ParseEntry(packName, buffer.AsSpan(start, newline));
                }

                start += newline + 1;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Moves the unfinished line to the start of the buffer, and grows the buffer when the line fills it.</summary>
    private static (byte[] Buffer, int Start, int End) Compact(byte[] buffer, int start, int end)
    {
        if (start > 0)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            (end, start) = (end - start, 0);
        }

        if (end == buffer.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2); // one entry longer than the buffer
            buffer.AsSpan(0, end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = larger;
        }

        return (buffer, start, end);
    }

    private static PackEntry ParseEntry(string packName, ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, CoreJson.Default.PackEntry)
                ?? throw new IntegrityException(packName, "an entry is JSON null although the pack is authentic");
        }
        catch (JsonException ex)
        {
            throw new IntegrityException(packName, "an entry is not valid JSON although the pack is authentic (written by an incompatible version?)", ex);
        }
    }
}
