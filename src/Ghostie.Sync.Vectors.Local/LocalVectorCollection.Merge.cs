namespace Ghostie.Sync.Vectors.Local;

public sealed partial class LocalVectorCollection
{
    /// <summary>Merges another copy of this collection (from another device) into this one, record by record: the
    /// change with the later stamp wins (ties broken by the ordinal order of the device ids), deletions included, so
    /// every device that merged the same copies holds the same records. When this collection is empty, the other
    /// copy is adopted whole, graph included: nothing is re-embedded and no graph is rebuilt.</summary>
    /// <param name="other">The other copy (not changed).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>How many records were added or replaced, and how many deleted.</returns>
    /// <exception cref="VectorModelMismatchException">The other copy holds another model or dimension.</exception>
    public (int Upserted, int Deleted) MergeFrom(LocalVectorCollection other, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(other, this))
        {
            return (0, 0);
        }

        Model.EnsureSameAs(other.Model, Name);
        _lock.EnterWriteLock();
        other._lock.EnterReadLock();
        try
        {
            if (_count == 0 && _tombstones.Count == 0 && other.Quantization == Quantization)
            {
                (int, int) adopted = Adopt(other);
                if (_indexKind == LocalIndexKind.Exact)
                {
                    _graph = null;
                }
                else if (_graph is null && _indexKind == LocalIndexKind.Hnsw)
                {
                    BuildGraphCore(null, cancellationToken);
                }
                else
                {
                    MaybeBuildGraph(cancellationToken);
                }

                return adopted;
            }

            int upserted = 0, deleted = 0;
            float[] row = new float[Model.Dimensions];
            for (int slot = 0; slot < other._count; slot++)
            {
                if (other._deleted[slot] != 0)
                {
                    continue;
                }

                if ((slot & 255) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                string key = other._keys[slot];
                long stamp = other._stamps[slot];
                string origin = other._originNames[other._origins[slot]];
                if (!IsNewer(key, stamp, origin))
                {
                    continue;
                }

                other._rows.CopyRow(slot, row);
                Put(key, row, other._data[slot], stamp, OriginIndex(origin));
                upserted++;
            }

            foreach ((string key, Tombstone tombstone) in other._tombstones)
            {
                if (IsNewer(key, tombstone.Stamp, tombstone.Origin))
                {
                    if (_slotByKey.ContainsKey(key))
                    {
                        deleted++;
                    }

                    Remove(key, tombstone.Stamp, tombstone.Origin);
                }
            }

            MaybeBuildGraph(cancellationToken);
            return (upserted, deleted);
        }
        finally
        {
            other._lock.ExitReadLock();
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Whether a change (stamp, origin) to <paramref name="key"/> beats what this collection holds for it.</summary>
    private bool IsNewer(string key, long stamp, string origin)
    {
        long localStamp;
        string localOrigin;
        if (_slotByKey.TryGetValue(key, out int slot))
        {
            localStamp = _stamps[slot];
            localOrigin = _originNames[_origins[slot]];
        }
        else if (_tombstones.TryGetValue(key, out Tombstone tombstone))
        {
            localStamp = tombstone.Stamp;
            localOrigin = tombstone.Origin;
        }
        else
        {
            return true;
        }

        return stamp > localStamp || (stamp == localStamp && string.CompareOrdinal(origin, localOrigin) > 0);
    }

    private (int Upserted, int Deleted) Adopt(LocalVectorCollection other)
    {
        // Deep enough copies that the two collections never share mutable arrays.
        _rows = new Internal.VectorRows(Model.Dimensions, other._rows.Quantized, Math.Max(other._count, 16));
        if (other._rows.Quantized)
        {
            Array.Copy(other._rows.Codes, _rows.Codes, (long)other._count * Model.Dimensions);
            Array.Copy(other._rows.Scales, _rows.Scales, other._count);
        }
        else
        {
            Array.Copy(other._rows.Floats, _rows.Floats, (long)other._count * Model.Dimensions);
        }

        int capacity = Math.Max(other._count, 16);
        _keys = new string[capacity];
        _data = new IReadOnlyDictionary<string, string>?[capacity];
        _stamps = new long[capacity];
        _origins = new int[capacity];
        _deleted = new byte[capacity];
        Array.Copy(other._keys, _keys, other._count);
        Array.Copy(other._data, _data, other._count);
        Array.Copy(other._stamps, _stamps, other._count);
        Array.Copy(other._deleted, _deleted, other._count);
        for (int slot = 0; slot < other._count; slot++)
        {
            _origins[slot] = OriginIndex(other._originNames[other._origins[slot]]);
        }

        _slotByKey = new Dictionary<string, int>(other._slotByKey, StringComparer.Ordinal);
        foreach ((string key, Tombstone tombstone) in other._tombstones)
        {
            OriginIndex(tombstone.Origin);
            _tombstones[key] = tombstone;
        }

        _count = other._count;
        _live = other._live;
        _lastStamp = Math.Max(_lastStamp, other._lastStamp);
        _graph = other._graph is null ? null : Internal.HnswGraph.Restore(_rows, other._graph.M, other._graph.EfConstruction, other._graph.Seed,
            other._count, other._graph.EntryPoint, other._graph.MaxLevel,
            (byte[])other._graph.Levels.Clone(), (int[])other._graph.Level0.Clone(), CloneUpper(other._graph.Upper, other._count));
        IsDirty = true;
        return (_live, 0);
    }

    private static int[][] CloneUpper(int[][] upper, int count)
    {
        var copy = new int[Math.Max(upper.Length, 1)][];
        for (int i = 0; i < count; i++)
        {
            copy[i] = upper[i] is null ? null! : (int[])upper[i].Clone();
        }

        return copy;
    }
}
