using System.Numerics.Tensors;
using Ghostie.Sync.Vectors.Local.Internal;

namespace Ghostie.Sync.Vectors.Local;

/// <summary>
/// An on-device vector collection: vectors unit-normalized in one contiguous array (float32 or int8), searched by an
/// exact SIMD scan or an HNSW graph (<see cref="LocalIndexKind"/>), saved to a checksummed file
/// (<see cref="SaveAsync"/>) and reloaded without rebuilding. Thread-safe: searches run concurrently; writes are
/// exclusive. Every change is stamped (time, device) so that two devices' copies merge deterministically
/// (<see cref="LocalVectorSync"/>).
/// </summary>
public sealed partial class LocalVectorCollection : IVectorCollection, IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly LocalIndexKind _indexKind;
    private readonly int _hnswThreshold;
    private readonly int _efSearch;
    private readonly HnswOptions _hnswOptions;
    private readonly string _deviceId;
    private readonly TimeProvider _time;
    private VectorRows _rows;
    private string[] _keys;
    private IReadOnlyDictionary<string, string>?[] _data;
    private long[] _stamps;
    private int[] _origins;
    private byte[] _deleted;
    private readonly List<string> _originNames = [];
    private readonly Dictionary<string, int> _originIndex = new(StringComparer.Ordinal);
    private Dictionary<string, int> _slotByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tombstone> _tombstones = new(StringComparer.Ordinal);
    private HnswGraph? _graph;
    private int _count;
    private int _live;
    private long _lastStamp;

    internal LocalVectorCollection(string name, EmbeddingModelInfo model, LocalVectorStoreOptions options, VectorQuantization quantization, int capacity = 16)
    {
        VectorCollectionName.EnsureValid(name);
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        Model = model;
        Quantization = quantization;
        _indexKind = options.IndexKind;
        _hnswThreshold = options.HnswThreshold;
        _hnswOptions = new HnswOptions { M = options.Hnsw.M, EfConstruction = options.Hnsw.EfConstruction, EfSearch = options.Hnsw.EfSearch, Seed = options.Hnsw.Seed };
        _efSearch = options.Hnsw.EfSearch;
        _deviceId = options.DeviceId;
        _time = options.TimeProvider;
        capacity = Math.Max(capacity, 16);
        _rows = new VectorRows(model.Dimensions, quantization == VectorQuantization.Int8, capacity);
        _keys = new string[capacity];
        _data = new IReadOnlyDictionary<string, string>?[capacity];
        _stamps = new long[capacity];
        _origins = new int[capacity];
        _deleted = new byte[capacity];
        if (_indexKind == LocalIndexKind.Hnsw)
        {
            _graph = NewGraph(capacity);
        }
    }

    /// <summary>Creates an empty in-memory collection (use <see cref="LocalVectorStore"/> for collections kept on disk).</summary>
    /// <param name="name">The collection name (<see cref="VectorCollectionName"/> rules).</param>
    /// <param name="model">The embedding model and dimension.</param>
    /// <param name="options">Index kind, HNSW parameters, quantization, device id, clock (default: the defaults).</param>
    /// <exception cref="GhostieSyncException">The name, the model or an option is invalid.</exception>
    public static LocalVectorCollection Create(string name, EmbeddingModelInfo model, LocalVectorStoreOptions? options = null)
    {
        options ??= new LocalVectorStoreOptions();
        options.Validate();
        return new LocalVectorCollection(name, model, options, options.Quantization);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public EmbeddingModelInfo Model { get; }

    /// <summary>How vectors are stored.</summary>
    public VectorQuantization Quantization { get; }

    /// <summary>Whether searches use the HNSW graph (else an exact scan).</summary>
    public bool HasGraph
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _graph is not null;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Whether the collection changed since it was loaded or last saved.</summary>
    public bool IsDirty
    {
        get => Volatile.Read(ref _version) != Volatile.Read(ref _savedVersion);
        private set
        {
            if (value)
            {
                Interlocked.Increment(ref _version);
            }
            else
            {
                Volatile.Write(ref _savedVersion, Volatile.Read(ref _version));
            }
        }
    }

    private long _version;
    private long _savedVersion;

    /// <summary>The bytes the vectors and the graph take in memory (keys and data not counted).</summary>
    public long IndexBytes
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return (long)_count * _rows.BytesPerRow + (_graph?.LinkBytes ?? 0);
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    private HnswGraph NewGraph(int capacity) => new(_rows, _hnswOptions.M, _hnswOptions.EfConstruction, _hnswOptions.Seed, capacity);

    /// <inheritdoc />
    public Task UpsertAsync(IEnumerable<VectorRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        List<VectorRecord> batch = records.ToList();
        foreach (VectorRecord record in batch)
        {
            ArgumentNullException.ThrowIfNull(record);
            record.EnsureValid(Model, Name);
        }

        // A batch is applied whole or not at all: cancellation is honoured before the first record, never between two
        // (a caller told "cancelled" must be able to trust that nothing of the batch was written).
        cancellationToken.ThrowIfCancellationRequested();
        float[] normalized = new float[Model.Dimensions];
        _lock.EnterWriteLock();
        try
        {
            foreach (VectorRecord record in batch)
            {
                Normalize(record.Vector.Span, normalized);
                long stamp = NextStamp();
                Put(record.Key, normalized, CopyData(record.Data), stamp, OriginIndex(_deviceId));
            }

            MaybeBuildGraph(cancellationToken);
            MaybeCompact(); // replacements retire rows in graph mode
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        _lock.EnterReadLock();
        try
        {
            if (!_slotByKey.TryGetValue(key, out int slot))
            {
                return Task.FromResult<VectorRecord?>(null);
            }

            return Task.FromResult<VectorRecord?>(RecordAt(slot, includeVector: true));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        _lock.EnterWriteLock();
        try
        {
            bool existed = _slotByKey.ContainsKey(key);
            if (existed)
            {
                Remove(key, NextStamp(), _deviceId);
            }

            return Task.FromResult(existed);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        _lock.EnterReadLock();
        try
        {
            return Task.FromResult((long)_live);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The keys of all live records (a snapshot).</summary>
    public IReadOnlyList<string> GetKeys()
    {
        _lock.EnterReadLock();
        try
        {
            return _slotByKey.Keys.ToArray();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Builds the HNSW graph now (normally built on its own at <see cref="LocalVectorStoreOptions.HnswThreshold"/>
    /// records with <see cref="LocalIndexKind.Auto"/>); a no-op when it exists.</summary>
    /// <param name="progress">Receives the number of nodes inserted so far, every 1,000.</param>
    /// <param name="cancellationToken">Cancels the build (the collection then stays exact).</param>
    public void BuildGraph(IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        _lock.EnterWriteLock();
        try
        {
            if (_graph is null)
            {
                BuildGraphCore(progress, cancellationToken);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();

    private void MaybeBuildGraph(CancellationToken cancellationToken)
    {
        if (_graph is null && _indexKind == LocalIndexKind.Auto && _live >= _hnswThreshold)
        {
            try
            {
                BuildGraphCore(null, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The records are stored; only the automatic graph is put off (searches stay exact, the next write or
                // BuildGraph builds it). Failing the write here would report a stored batch as not written.
            }
        }
    }

    private void BuildGraphCore(IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var graph = NewGraph(_count);
        for (int slot = 0; slot < _count; slot++)
        {
            if ((slot & 255) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            graph.Insert(slot);
            if (progress is not null && (slot + 1) % 1000 == 0)
            {
                progress.Report(slot + 1);
            }
        }

        _graph = graph;
    }

    private long NextStamp()
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _lastStamp = Math.Max(now, _lastStamp + 1);
        return _lastStamp;
    }

    private int OriginIndex(string origin)
    {
        if (!_originIndex.TryGetValue(origin, out int index))
        {
            index = _originNames.Count;
            _originNames.Add(origin);
            _originIndex[origin] = index;
        }

        return index;
    }

    private static Dictionary<string, string>? CopyData(IReadOnlyDictionary<string, string>? data) =>
        data is null || data.Count == 0 ? null : new Dictionary<string, string>(data, StringComparer.Ordinal);

    internal static void Normalize(ReadOnlySpan<float> vector, Span<float> destination)
    {
        float norm = TensorPrimitives.Norm(vector);
        TensorPrimitives.Divide(vector, norm, destination);
    }

    /// <summary>Writes a record into a new slot (the old slot of the key, if any, is retired). Caller holds the write lock.</summary>
    private void Put(string key, ReadOnlySpan<float> normalized, IReadOnlyDictionary<string, string>? data, long stamp, int origin)
    {
        if (_slotByKey.TryGetValue(key, out int old))
        {
            if (_graph is null)
            {
                // Exact mode: overwrite in place, no slot is wasted.
                _rows.Set(old, normalized);
                _data[old] = data;
                _stamps[old] = stamp;
                _origins[old] = origin;
                _lastStamp = Math.Max(_lastStamp, stamp);  // a later local write must stamp above a merged one
                IsDirty = true;
                return;
            }

            _deleted[old] = 1;
            _live--;
        }

        int slot = _count;
        EnsureCapacity(slot + 1);
        _rows.Set(slot, normalized);
        _keys[slot] = key;
        _data[slot] = data;
        _stamps[slot] = stamp;
        _origins[slot] = origin;
        _deleted[slot] = 0;
        _count++;
        _live++;
        _slotByKey[key] = slot;
        _tombstones.Remove(key);
        _lastStamp = Math.Max(_lastStamp, stamp);
        _graph?.Insert(slot);
        IsDirty = true;
    }

    /// <summary>Retires a key and remembers the deletion. Caller holds the write lock.</summary>
    private void Remove(string key, long stamp, string origin)
    {
        if (_slotByKey.Remove(key, out int slot))
        {
            _deleted[slot] = 1;
            _live--;
        }

        OriginIndex(origin);
        _tombstones[key] = new Tombstone(stamp, origin);
        _lastStamp = Math.Max(_lastStamp, stamp);
        IsDirty = true;
        MaybeCompact();
    }

    private void EnsureCapacity(int slots)
    {
        if (slots <= _keys.Length)
        {
            return;
        }

        int next = Math.Max(slots, _keys.Length * 2);
        _rows.EnsureCapacity(next);
        Array.Resize(ref _keys, next);
        Array.Resize(ref _data, next);
        Array.Resize(ref _stamps, next);
        Array.Resize(ref _origins, next);
        Array.Resize(ref _deleted, next);
    }

    /// <summary>When more than a quarter of the slots are retired, packs the live ones and rebuilds the graph.</summary>
    private void MaybeCompact()
    {
        int dead = _count - _live;
        if (dead < 64 || dead * 4 < _count)
        {
            return;
        }

        int write = 0;
        var slots = new Dictionary<string, int>(_live, StringComparer.Ordinal);
        for (int read = 0; read < _count; read++)
        {
            if (_deleted[read] != 0)
            {
                continue;
            }

            if (read != write)
            {
                _rows.Move(read, write);
                _keys[write] = _keys[read];
                _data[write] = _data[read];
                _stamps[write] = _stamps[read];
                _origins[write] = _origins[read];
                _deleted[write] = 0;
            }

            slots[_keys[write]] = write;
            write++;
        }

        for (int i = write; i < _count; i++)
        {
            _keys[i] = null!;
            _data[i] = null;
        }

        _count = write;
        _slotByKey = slots;
        if (_graph is not null)
        {
            BuildGraphCore(null, CancellationToken.None);
        }
    }

    private VectorRecord RecordAt(int slot, bool includeVector)
    {
        ReadOnlyMemory<float> vector = ReadOnlyMemory<float>.Empty;
        if (includeVector)
        {
            var copy = new float[Model.Dimensions];
            _rows.CopyRow(slot, copy);
            vector = copy;
        }

        return new VectorRecord(_keys[slot], vector, _data[slot]);
    }

    private readonly record struct Tombstone(long Stamp, string Origin);
}
