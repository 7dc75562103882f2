namespace Ghostie.Sync.Vectors.Local.Internal;

/// <summary>The best <c>k</c> (score, id) pairs seen: a min-heap on score, so the weakest kept result is at the root
/// and a candidate is tested against it with one comparison.</summary>
internal sealed class TopK
{
    private readonly DistanceHeap _heap;

    internal TopK(int k)
    {
        Capacity = k;
        _heap = new DistanceHeap(max: false, k);
    }

    internal int Count => _heap.Count;

    internal int Capacity { get; }

    /// <summary>The score a candidate must beat to enter (negative infinity until full).</summary>
    internal float Threshold => _heap.Count < Capacity ? float.NegativeInfinity : _heap.TopDistance;

    internal void Add(float score, int id)
    {
        if (_heap.Count < Capacity)
        {
            _heap.Push(score, id);
        }
        else if (score > _heap.TopDistance)
        {
            _heap.ReplaceTop(score, id);
        }
    }

    /// <summary>The kept results, best first (empties the heap).</summary>
    internal (float Score, int Id)[] ToSortedArray()
    {
        var result = new (float Score, int Id)[_heap.Count];
        for (int i = result.Length - 1; i >= 0; i--)
        {
            result[i] = _heap.Pop();
        }

        // Equal scores: the lower id first, so results do not depend on heap order.
        Array.Sort(result, static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        return result;
    }
}

/// <summary>A binary heap of (distance, id) pairs in one array of entries (one cache stream); <c>max</c> selects a
/// max-heap (the farthest on top), else a min-heap (the closest on top). Storing the max-heap's distances negated
/// lets both use the same less-than comparison, with no branch on the kind.</summary>
internal sealed class DistanceHeap
{
    private readonly float _sign;
    private Entry[] _items;

    internal DistanceHeap(bool max, int capacity = 64)
    {
        _sign = max ? -1f : 1f;
        _items = new Entry[capacity];
    }

    internal int Count { get; private set; }

    internal float TopDistance => _items[0].Key * _sign;

    internal int TopId => _items[0].Id;

    internal void Clear() => Count = 0;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void Push(float distance, int id)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        float key = distance * _sign;
        Entry[] items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent].Key <= key)
            {
                break;
            }

            items[i] = items[parent];
            i = parent;
        }

        items[i] = new Entry(key, id);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal (float Distance, int Id) Pop()
    {
        Entry top = _items[0];
        int n = --Count;
        if (n > 0)
        {
            SiftDownFromRoot(_items[n], n);
        }

        return (top.Key * _sign, top.Id);
    }

    /// <summary>Replaces the root with a new entry (one sift instead of a push and a pop).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void ReplaceTop(float distance, int id) => SiftDownFromRoot(new Entry(distance * _sign, id), Count);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void SiftDownFromRoot(Entry entry, int n)
    {
        Entry[] items = _items;
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && items[child + 1].Key < items[child].Key)
            {
                child++;
            }

            if (items[child].Key >= entry.Key)
            {
                break;
            }

            items[i] = items[child];
            i = child;
        }

        items[i] = entry;
    }

    private readonly record struct Entry(float Key, int Id);
}
