using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ghostie.Sync.Internal;

/// <summary>
/// <c>sync/outbox.jsonl</c>: every local version committed and not yet pushed, one JSON line each, numbered. Appended
/// (and flushed to disk) before the state records the version, so a crash between the two replays the line into the
/// state (see docs/sync-protocol.md). The file is parsed once and then kept in memory while this process holds the
/// home (it is the only writer then).
/// </summary>
internal sealed class Outbox
{
    private readonly string _path;
    private List<OutboxLine>? _lines;
    private FileStamp _stamp;

    public Outbox(string path) => _path = path;

    /// <summary>Whether another process wrote the file since this one last read or wrote it.</summary>
    public bool ChangedOnDisk => FileStamp.Of(_path) != _stamp;

    /// <summary>Records the file as it is now as seen by this process.</summary>
    public void MarkSeen() => _stamp = FileStamp.Of(_path);

    /// <summary>Drops the lines kept in memory: the next read parses the file again.</summary>
    public void Forget() => _lines = null;

    /// <summary>The lines with a sequence number above <paramref name="after"/>.</summary>
    public List<OutboxLine> Read(long after)
    {
        _lines ??= Parse();
        return after <= 0 ? [.. _lines] : _lines.Where(l => l.Seq > after).ToList();
    }

    /// <summary>Appends <paramref name="entries"/> numbered after <paramref name="floor"/> and after every line in the
    /// file, flushed to disk; returns the last number given.</summary>
    public long Append(List<PackEntry> entries, long floor)
    {
        List<OutboxLine> existing = Read(0);
        long seq = Math.Max(floor, existing.Count > 0 ? existing.Max(l => l.Seq) : 0);
        var lines = entries.Select(e => new OutboxLine { Seq = ++seq, Entry = e, EntryJson = e.ToJson() }).ToList();
        using (var stream = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            long end = RepairTail(stream);
            stream.SetLength(end);
            stream.Position = end;
            foreach (OutboxLine line in lines)
            {
                // Same bytes as serializing the OutboxLine, with the entry serialized once for outbox and pack.
                stream.Write("{\"n\":"u8);
                stream.Write(Encoding.ASCII.GetBytes(line.Seq.ToString(CultureInfo.InvariantCulture)));
                stream.Write(",\"e\":"u8);
                stream.Write(line.EntryJson);
                stream.Write("}\n"u8);
            }

            stream.Flush(flushToDisk: true);
        }

        _lines!.AddRange(lines);
        MarkSeen(); // our own write: no reason to reload
        return seq;
    }

    /// <summary>Drops the lines up to <paramref name="through"/> (they are in the repository now).</summary>
    public void Trim(long through) => Rewrite(Read(through));

    /// <summary>Replaces the file (atomically) with <paramref name="rest"/>; deletes it when empty.</summary>
    public void Rewrite(List<OutboxLine> rest)
    {
        _lines = rest;
        if (rest.Count == 0)
        {
            File.Delete(_path);
            MarkSeen();
            return;
        }

        using var buffer = new MemoryStream();
        foreach (OutboxLine line in rest)
        {
            JsonSerializer.Serialize(buffer, line, CoreJson.Default.OutboxLine);
            buffer.WriteByte((byte)'\n');
        }

        AtomicFile.Write(_path, buffer.ToArray());
        MarkSeen();
    }

    /// <summary>
    /// Where appending continues. A line torn by a crash mid-append would swallow the next one: the file is cut back
    /// to its last newline, unless the tail is a complete line that only lacks its newline (it was parsed and
    /// replayed: it is kept, and the newline added).
    /// </summary>
    private static long RepairTail(FileStream stream)
    {
        long end = stream.Length;
        while (end > 0)
        {
            stream.Position = end - 1;
            if (stream.ReadByte() == '\n')
            {
                break;
            }

            end--;
        }

        if (end < stream.Length)
        {
            var tail = new byte[stream.Length - end];
            stream.Position = end;
            stream.ReadExactly(tail);
            if (TryParseLine(tail) is not null)
            {
                stream.Position = stream.Length;
                stream.WriteByte((byte)'\n');
                end = stream.Length;
            }
        }

        return end;
    }

    private List<OutboxLine> Parse()
    {
        var lines = new List<OutboxLine>();
        if (!File.Exists(_path))
        {
            return lines;
        }

        foreach (string text in File.ReadLines(_path))
        {
            if (text.Length == 0)
            {
                continue;
            }

            try
            {
                OutboxLine? line = JsonSerializer.Deserialize(text, CoreJson.Default.OutboxLine);
                if (line is not null)
                {
                    lines.Add(line);
                }
            }
            catch (JsonException)
            {
                // A line torn by a crash while appending: its version was never reflected in the state, and the
                // change is still in the memory file, so the next commit makes it again.
            }
        }

        return lines;
    }

    private static OutboxLine? TryParseLine(ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, CoreJson.Default.OutboxLine);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
