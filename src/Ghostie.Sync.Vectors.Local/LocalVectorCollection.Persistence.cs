using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Ghostie.Sync.Vectors.Local.Internal;

namespace Ghostie.Sync.Vectors.Local;

public sealed partial class LocalVectorCollection
{
    /// <summary>The index file format version this library writes and reads.</summary>
    public const int FileFormatVersion = 1;

    /// <summary>The file extension of index files.</summary>
    public const string FileExtension = ".gvx";

    private static ReadOnlySpan<byte> Magic => "GHVX"u8;

    private const ushort FlagInt8 = 1;
    private const ushort FlagGraph = 2;

    /// <summary>Writes the collection (records, vectors, graph) to <paramref name="path"/> atomically: a temporary file
    /// in the same folder, flushed to disk, then renamed over the old one, so a crash leaves the old file or the new
    /// one, never half of one. Clears <see cref="IsDirty"/>.</summary>
    /// <param name="path">The index file.</param>
    /// <param name="cancellationToken">Cancels the work (the old file stays).</param>
    public Task SaveAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, "." + Path.GetFileName(full) + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + ".tmp");
        try
        {
            long version;
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 20 };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // embeddings can be inverted to text
            }

            using (var file = new FileStream(temp, create))
            {
                version = WriteTo(file, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
            Volatile.Write(ref _savedVersion, version); // changes made while saving keep the collection dirty
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        return Task.CompletedTask;
    }

    /// <summary>Loads a collection saved by <see cref="SaveAsync"/>, graph included (nothing is rebuilt).</summary>
    /// <param name="path">The index file.</param>
    /// <param name="options">Index kind, HNSW search parameters, device id, clock for later changes.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="GhostieSyncException">The file is damaged or truncated (<see cref="GhostieErrorCode.IntegrityFailure"/>),
    /// written by a newer version (<see cref="GhostieErrorCode.UnsupportedFormat"/>), or missing (<see cref="GhostieErrorCode.NotFound"/>).</exception>
    public static Task<LocalVectorCollection> LoadAsync(string path, LocalVectorStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new LocalVectorStoreOptions();
        options.Validate();
        if (!File.Exists(path))
        {
            throw new GhostieSyncException(GhostieErrorCode.NotFound, $"The vector index file '{path}' does not exist.");
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Task.FromResult(ReadFrom(file, path, options, cancellationToken));
    }

    /// <summary>Serializes the collection to <paramref name="destination"/> in the index file format (docs/vectors.md).</summary>
    /// <returns>The change version written.</returns>
    internal long WriteTo(Stream destination, CancellationToken cancellationToken)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The vector index file format is little-endian; big-endian machines are not supported.");
        }

        _lock.EnterReadLock();
        try
        {
            using var hashing = new HashingWriteStream(destination);
            using (var w = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(Magic);
                w.Write((ushort)FileFormatVersion);
                w.Write((ushort)((_rows.Quantized ? FlagInt8 : 0) | (_graph is not null ? FlagGraph : 0)));
                w.Write(Model.Dimensions);
                w.Write(_count);
                w.Write(_live);
                w.Write(_lastStamp);
                WriteString(w, Name);
                WriteString(w, Model.ModelName);
                w.Write(_originNames.Count);
                foreach (string origin in _originNames)
                {
                    WriteString(w, origin);
                }

                for (int slot = 0; slot < _count; slot++)
                {
                    WriteString(w, _keys[slot]);
                    w.Write(_deleted[slot]);
                    w.Write(_stamps[slot]);
                    w.Write(_origins[slot]);
                    IReadOnlyDictionary<string, string>? data = _data[slot];
                    w.Write(data is null ? 0 : data.Count);
                    if (data is not null)
                    {
                        foreach (KeyValuePair<string, string> pair in data.OrderBy(p => p.Key, StringComparer.Ordinal))
                        {
                            WriteString(w, pair.Key);
                            WriteString(w, pair.Value);
                        }
                    }
                }

                w.Write(_tombstones.Count);
                foreach ((string key, Tombstone tombstone) in _tombstones.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    WriteString(w, key);
                    w.Write(tombstone.Stamp);
                    w.Write(_originIndex[tombstone.Origin]);
                }

                cancellationToken.ThrowIfCancellationRequested();
                int dim = Model.Dimensions;
                if (_rows.Quantized)
                {
                    w.Write(MemoryMarshal.AsBytes(_rows.Codes.AsSpan(0, _count * dim)));
                    w.Write(MemoryMarshal.AsBytes(_rows.Scales.AsSpan(0, _count)));
                }
                else
                {
                    w.Write(MemoryMarshal.AsBytes(_rows.Floats.AsSpan(0, _count * dim)));
                }

                if (_graph is not null)
                {
                    HnswGraph g = _graph;
                    w.Write(g.M);
                    w.Write(g.EfConstruction);
                    w.Write(g.Seed);
                    w.Write(g.EntryPoint);
                    w.Write(g.MaxLevel);
                    w.Write(g.Levels.AsSpan(0, _count));
                    w.Write(MemoryMarshal.AsBytes(g.Level0.AsSpan(0, _count * g.Stride0)));
                    for (int node = 0; node < _count; node++)
                    {
                        if (g.Levels[node] > 0)
                        {
                            w.Write(MemoryMarshal.AsBytes(g.Upper[node].AsSpan()));
                        }
                    }
                }
            }

            destination.Write(hashing.GetHash());
            return Volatile.Read(ref _version);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Reads a collection in the index file format; <paramref name="source"/> must know its length.</summary>
    internal static LocalVectorCollection ReadFrom(Stream source, string what, LocalVectorStoreOptions options, CancellationToken cancellationToken)
    {
        long length = source.Length - source.Position;
        try
        {
            return ReadCore(source, what, length, options, cancellationToken);
        }
        catch (Exception e) when (e is EndOfStreamException or DecoderFallbackException or ArgumentException or IndexOutOfRangeException or OverflowException or InvalidDataException)
        {
            throw Damaged(what, "truncated or malformed", e);
        }
    }

    private static LocalVectorCollection ReadCore(Stream source, string what, long length, LocalVectorStoreOptions options, CancellationToken cancellationToken)
    {
        if (length < 32 + 24)
        {
            throw Damaged(what, "too short");
        }

        using var hashing = new HashingReadStream(source);
        using var r = new BinaryReader(hashing, new UTF8Encoding(false, true), leaveOpen: true);
        Span<byte> magic = stackalloc byte[4];
        r.BaseStream.ReadExactly(magic);
        if (!magic.SequenceEqual(Magic))
        {
            throw Damaged(what, "not a Ghostie vector index file");
        }

        int version = r.ReadUInt16();
        if (version > FileFormatVersion || version == 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.UnsupportedFormat,
                $"The vector index file '{what}' has format version {version}; this version of Ghostie.Sync reads version {FileFormatVersion}. Update Ghostie.Sync, or delete the file to rebuild the index.");
        }

        ushort flags = r.ReadUInt16();
        int dim = r.ReadInt32();
        int count = r.ReadInt32();
        int live = r.ReadInt32();
        long lastStamp = r.ReadInt64();
        bool quantized = (flags & FlagInt8) != 0;
        long vectorBytes = (long)count * dim * (quantized ? 1 : 4) + (quantized ? 4L * count : 0);
        if (dim is < 1 or > EmbeddingModelInfo.MaxDimensions || count < 0 || live < 0 || live > count || vectorBytes > length || (flags & ~(FlagInt8 | FlagGraph)) != 0)
        {
            throw Damaged(what, "impossible header values");
        }

        string name = ReadString(r, length);
        string modelName = ReadString(r, length);
        EmbeddingModelInfo model;
        LocalVectorCollection collection;
        try
        {
            model = new EmbeddingModelInfo(modelName, dim);
            collection = new LocalVectorCollection(name, model, options, quantized ? VectorQuantization.Int8 : VectorQuantization.None, count)
            {
                _lastStamp = lastStamp,
            };
        }
        catch (Exception e) when (e is GhostieSyncException { Code: GhostieErrorCode.InvalidArgument } or ArgumentException)
        {
            // What the file says is not a valid collection name or model id: the file is damaged, not the caller's input.
            throw Damaged(what, "invalid collection name or model id", e);
        }

        collection._graph = null;
        int originCount = r.ReadInt32();
        if (originCount < 0 || originCount > length)
        {
            throw Damaged(what, "impossible origin count");
        }

        for (int i = 0; i < originCount; i++)
        {
            collection.OriginIndex(ReadString(r, length));
        }

        int liveSeen = 0;
        for (int slot = 0; slot < count; slot++)
        {
            string key = ReadString(r, length);
            byte deleted = r.ReadByte();
            long stamp = r.ReadInt64();
            int origin = r.ReadInt32();
            int dataCount = r.ReadInt32();
            if (deleted > 1 || origin < 0 || origin >= originCount || dataCount < 0 || dataCount > length)
            {
                throw Damaged(what, $"impossible record {slot}");
            }

            Dictionary<string, string>? data = null;
            if (dataCount > 0)
            {
                data = new Dictionary<string, string>(dataCount, StringComparer.Ordinal);
                for (int i = 0; i < dataCount; i++)
                {
                    string k = ReadString(r, length);
                    data[k] = ReadString(r, length);
                }
            }

            collection._keys[slot] = key;
            collection._deleted[slot] = deleted;
            collection._stamps[slot] = stamp;
            collection._origins[slot] = origin;
            collection._data[slot] = data;
            if (deleted == 0)
            {
                if (!collection._slotByKey.TryAdd(key, slot))
                {
                    throw Damaged(what, $"key of record {slot} appears twice");
                }

                liveSeen++;
            }
        }

        if (liveSeen != live)
        {
            throw Damaged(what, "live record count does not match");
        }

        int tombstones = r.ReadInt32();
        if (tombstones < 0 || tombstones > length)
        {
            throw Damaged(what, "impossible tombstone count");
        }

        for (int i = 0; i < tombstones; i++)
        {
            string key = ReadString(r, length);
            long stamp = r.ReadInt64();
            int origin = r.ReadInt32();
            if (origin < 0 || origin >= collection._originNames.Count)
            {
                throw Damaged(what, "impossible tombstone origin");
            }

            collection._tombstones[key] = new Tombstone(stamp, collection._originNames[origin]);
        }

        cancellationToken.ThrowIfCancellationRequested();
        VectorRows rows = collection._rows;
        rows.EnsureCapacity(count);
        if (quantized)
        {
            r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(rows.Codes.AsSpan(0, count * dim)));
            r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(rows.Scales.AsSpan(0, count)));
        }
        else
        {
            r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(rows.Floats.AsSpan(0, count * dim)));
        }

        collection._count = count;
        collection._live = live;
        if ((flags & FlagGraph) != 0)
        {
            collection._graph = ReadGraph(r, rows, count, length, what);
        }

        byte[] expected = hashing.GetHash();
        Span<byte> stored = stackalloc byte[32];
        source.ReadExactly(stored);
        if (!CryptographicOperations.FixedTimeEquals(expected, stored))
        {
            throw Damaged(what, "checksum mismatch");
        }

        if (source.ReadByte() != -1)
        {
            throw Damaged(what, "extra bytes after the checksum");
        }

        if (collection._graph is null && options.IndexKind == LocalIndexKind.Hnsw)
        {
            collection.BuildGraphCore(null, cancellationToken);
        }

        collection.IsDirty = false;
        return collection;
    }

    private static HnswGraph ReadGraph(BinaryReader r, VectorRows rows, int count, long length, string what)
    {
        int m = r.ReadInt32();
        int efConstruction = r.ReadInt32();
        int seed = r.ReadInt32();
        int entry = r.ReadInt32();
        int maxLevel = r.ReadInt32();
        if (m is < 2 or > 1024 || entry < -1 || entry >= count || maxLevel < -1 || maxLevel > 255 || (long)count * (2 * m + 1) * 4 > length)
        {
            throw Damaged(what, "impossible graph header");
        }

        byte[] levels = new byte[Math.Max(count, 1)];
        r.BaseStream.ReadExactly(levels.AsSpan(0, count));
        int stride0 = 2 * m + 1;
        int[] level0 = new int[Math.Max(count, 1) * stride0];
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(level0.AsSpan(0, count * stride0)));
        int[][] upper = new int[Math.Max(count, 1)][];
        for (int node = 0; node < count; node++)
        {
            if (levels[node] > maxLevel)
            {
                throw Damaged(what, $"graph node {node} is above the top level");
            }

            if (levels[node] > 0)
            {
                upper[node] = new int[levels[node] * (m + 1)];
                r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(upper[node].AsSpan()));
                CheckLinks(upper[node], m, count, what, node);
            }
        }

        CheckLinks(level0.AsSpan(0, count * stride0), 2 * m, count, what, -1);

        // The walk a search makes must stay inside the arrays: the entry point sits on the top level, and a link on
        // level L leads to a node that has level L (a hostile file could otherwise send it to a node without lists).
        if ((count == 0) != (entry == -1) || (entry >= 0 && levels[entry] != maxLevel))
        {
            throw Damaged(what, "the graph's entry point is not a node of its top level");
        }

        for (int node = 0; node < count; node++)
        {
            for (int level = 1; level <= levels[node]; level++)
            {
                int start = (level - 1) * (m + 1);
                int links = upper[node][start];
                for (int i = 1; i <= links; i++)
                {
                    if (levels[upper[node][start + i]] < level)
                    {
                        throw Damaged(what, $"graph node {node} links on level {level} to a node below it");
                    }
                }
            }
        }

        return HnswGraph.Restore(rows, m, efConstruction, seed, count, entry, maxLevel, levels, level0, upper);
    }

    /// <summary>Every link list: a count within bounds and neighbour ids of existing nodes, so a damaged file can never
    /// send a search outside the arrays.</summary>
    private static void CheckLinks(ReadOnlySpan<int> lists, int max, int count, string what, int node)
    {
        int stride = max + 1;
        for (int start = 0; start + stride <= lists.Length; start += stride)
        {
            int n = lists[start];
            if ((uint)n > (uint)max)
            {
                throw Damaged(what, node >= 0 ? $"graph node {node} has an impossible link count" : "a graph node has an impossible link count");
            }

            for (int i = 1; i <= n; i++)
            {
                if ((uint)lists[start + i] >= (uint)count)
                {
                    throw Damaged(what, "a graph link points outside the index");
                }
            }
        }
    }

    private static GhostieSyncException Damaged(string what, string detail, Exception? inner = null) =>
        new(GhostieErrorCode.IntegrityFailure,
            $"The vector index '{what}' is damaged ({detail}). Delete it to rebuild the index from the memories, or pull it again from another device.",
            isTransient: false, inner);

    private static void WriteString(BinaryWriter w, string value)
    {
        int bytes = Encoding.UTF8.GetByteCount(value);
        w.Write(bytes);
        Span<byte> buffer = bytes <= 1024 ? stackalloc byte[bytes] : new byte[bytes];
        Encoding.UTF8.GetBytes(value, buffer);
        w.Write(buffer);
    }

    private static string ReadString(BinaryReader r, long limit)
    {
        int bytes = r.ReadInt32();
        if (bytes < 0 || bytes > limit || bytes > 1 << 24)
        {
            throw new InvalidDataException("impossible string length");
        }

        byte[] buffer = new byte[bytes];
        r.BaseStream.ReadExactly(buffer);
        return new UTF8Encoding(false, true).GetString(buffer);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
