namespace Ghostie.Sync.Vectors.Tiers.Internal;

/// <summary>The usage of every tracked vector, behind one lock (updates are tiny; the lock is never held across I/O).</summary>
internal sealed class UsageTable
{
    private readonly Dictionary<string, VectorUsage> _byKey = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _version;

    /// <summary>Grows on every change, so a saver can tell whether anything changed since it last saved.</summary>
    public long Version => Interlocked.Read(ref _version);

    public VectorUsage? Get(string key)
    {
        lock (_gate)
        {
            return _byKey.GetValueOrDefault(key);
        }
    }

    public void Set(VectorUsage usage)
    {
        lock (_gate)
        {
            _byKey[usage.Key] = usage;
            _version++;
        }
    }

    public bool TryAdd(VectorUsage usage)
    {
        lock (_gate)
        {
            bool added = _byKey.TryAdd(usage.Key, usage);
            _version += added ? 1 : 0;
            return added;
        }
    }

    public VectorUsage? Update(string key, Func<VectorUsage, VectorUsage> change)
    {
        lock (_gate)
        {
            if (!_byKey.TryGetValue(key, out VectorUsage? usage))
            {
                return null;
            }

            usage = change(usage);
            _byKey[key] = usage;
            _version++;
            return usage;
        }
    }

    public bool Remove(string key)
    {
        lock (_gate)
        {
            bool removed = _byKey.Remove(key);
            _version += removed ? 1 : 0;
            return removed;
        }
    }

    public List<VectorUsage> Snapshot()
    {
        lock (_gate)
        {
            var list = _byKey.Values.ToList();
            list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            return list;
        }
    }

    public Dictionary<VectorTier, int> Counts()
    {
        var counts = Enum.GetValues<VectorTier>().ToDictionary(t => t, _ => 0);
        lock (_gate)
        {
            foreach (VectorUsage usage in _byKey.Values)
            {
                counts[usage.Tier]++;
                if (usage.InEdgeCache)
                {
                    counts[VectorTier.Edge]++;
                }
            }
        }

        return counts;
    }
}
