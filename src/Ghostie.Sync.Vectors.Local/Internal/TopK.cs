namespace Ghostie.Sync.Vectors.Local.Internal;

/// <summary>The best <c>k</c> (score, id) pairs seen: a min-heap on score, so the weakest kept result is at the root
/// and a candidate is tested against it with one comparison.</summary>
internal sealed class TopK
{
    private readonly float[] _scores;
    private readonly int[] _ids;

    internal TopK(int k)
    {
        _scores = new float[k];
        _ids = new int[k];
    }

    internal int Count { get; private set; }

    internal int Capacity => _scores.Length;

    /// <summary>The score a candidate must beat to enter (negative infinity until full).</summary>
    internal float Threshold => Count < _scores.Length ? float.NegativeInfinity : _scores[0];

    internal void Clear() => Count = 0;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void Add(float score, int id)
    {
        if (Count < _scores.Length)
        {
            int i = Count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (_scores[parent] <= score)
                {
                    break;
                }

                _scores[i] = _scores[parent];
                _ids[i] = _ids[parent];
                i = parent;
            }

            _scores[i] = score;
            _ids[i] = id;
            return;
        }

        if (score <= _scores[0])
        {
            return;
        }

        SiftDown(score, id);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void SiftDown(float score, int id)
    {
        int n = Count;
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && _scores[child + 1] < _scores[child])
            {
                child++;
            }

            if (_scores[child] >= score)
            {
                break;
            }

            _scores[i] = _scores[child];
            _ids[i] = _ids[child];
            i = child;
        }

        _scores[i] = score;
        _ids[i] = id;
    }

    /// <summary>The kept results, best first.</summary>
    internal (float Score, int Id)[] ToSortedArray()
    {
        var result = new (float Score, int Id)[Count];
        for (int i = 0; i < Count; i++)
        {
            result[i] = (_scores[i], _ids[i]);
        }

        Array.Sort(result, static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        return result;
    }
}

/// <summary>A binary heap of (distance, id) pairs; <c>max</c> selects a max-heap, else a min-heap.</summary>
internal sealed class DistanceHeap
{
    private readonly bool _max;
    private float[] _d;
    private int[] _ids;

    internal DistanceHeap(bool max, int capacity = 64)
    {
        _max = max;
        _d = new float[capacity];
        _ids = new int[capacity];
    }

    internal int Count { get; private set; }

    internal float TopDistance => _d[0];

    internal int TopId => _ids[0];

    internal void Clear() => Count = 0;

    private bool Before(float a, float b) => _max ? a > b : a < b;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void Push(float distance, int id)
    {
        if (Count == _d.Length)
        {
            Array.Resize(ref _d, _d.Length * 2);
            Array.Resize(ref _ids, _ids.Length * 2);
        }

        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Before(distance, _d[parent]))
            {
                break;
            }

            _d[i] = _d[parent];
            _ids[i] = _ids[parent];
            i = parent;
        }

        _d[i] = distance;
        _ids[i] = id;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal (float Distance, int Id) Pop()
    {
        var top = (_d[0], _ids[0]);
        int n = --Count;
        if (n > 0)
        {
            SiftDownFromRoot(_d[n], _ids[n], n);
        }

        return top;
    }

    /// <summary>Replaces the root with a new entry (one sift instead of a push and a pop).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void ReplaceTop(float distance, int id) => SiftDownFromRoot(distance, id, Count);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void SiftDownFromRoot(float d, int id, int n)
    {
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && Before(_d[child + 1], _d[child]))
            {
                child++;
            }

            if (!Before(_d[child], d))
            {
                break;
            }

            _d[i] = _d[child];
            _ids[i] = _ids[child];
            i = child;
        }

        _d[i] = d;
        _ids[i] = id;
    }
}
