using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ghostie.Sync.Vectors.Local.Internal;

/// <summary>
/// A hierarchical navigable small world graph (Malkov and Yashunin, 2016) over the rows of a <see cref="VectorRows"/>,
/// with the neighbour-selection heuristic and parameters of hnswlib: M links per node on upper layers, 2M on layer 0,
/// levels drawn with multiplier 1/ln(M). Distance is 1 - inner product (vectors are unit-normalized). Deleted nodes
/// stay in the graph as waypoints and are never returned. Not thread-safe for writes; searches may run concurrently
/// with each other (each takes a visited list from a pool).
/// </summary>
internal sealed class HnswGraph
{
    private readonly VectorRows _rows;
    private readonly Random _random;
    private readonly double _levelMultiplier;
    private readonly System.Collections.Concurrent.ConcurrentBag<SearchContext> _contexts = new();
    private int[] _level0;          // per node: [count, n_1 .. n_M0]
    private int[][] _upper;         // per node with level > 0: levels 1..L, each [count, n_1 .. n_M]
    private byte[] _levels;

    internal HnswGraph(VectorRows rows, int m, int efConstruction, int seed, int capacity = 16)
    {
        _rows = rows;
        M = m;
        M0 = 2 * m;
        EfConstruction = efConstruction;
        Seed = seed;
        _random = new Random(seed);
        _levelMultiplier = 1.0 / Math.Log(m);
        capacity = Math.Max(capacity, 1);
        _level0 = new int[(long)capacity * (M0 + 1)];
        _upper = new int[capacity][];
        _levels = new byte[capacity];
        EntryPoint = -1;
        MaxLevel = -1;
    }

    internal int M { get; }

    internal int M0 { get; }

    internal int EfConstruction { get; }

    internal int Seed { get; }

    /// <summary>Nodes in the graph (ids 0 .. Count-1 are rows of the same number).</summary>
    internal int Count { get; private set; }

    internal int EntryPoint { get; private set; }

    internal int MaxLevel { get; private set; }

    internal int[] Level0 => _level0;

    internal byte[] Levels => _levels;

    internal int[][] Upper => _upper;

    internal int Stride0 => M0 + 1;

    /// <summary>Bytes the graph's links take.</summary>
    internal long LinkBytes
    {
        get
        {
            long bytes = (long)Count * (M0 + 1) * sizeof(int) + Count;
            for (int i = 0; i < Count; i++)
            {
                bytes += (_upper[i]?.Length ?? 0) * sizeof(int);
            }

            return bytes;
        }
    }

    /// <summary>Restores a graph from its persisted arrays (no rebuilding).</summary>
    internal static HnswGraph Restore(VectorRows rows, int m, int efConstruction, int seed, int count, int entryPoint, int maxLevel,
        byte[] levels, int[] level0, int[][] upper)
    {
        var graph = new HnswGraph(rows, m, efConstruction, seed, 1)
        {
            _levels = levels,
            _level0 = level0,
            _upper = upper,
            Count = count,
            EntryPoint = entryPoint,
            MaxLevel = maxLevel,
        };
        return graph;
    }

    private void EnsureCapacity(int nodes)
    {
        if (nodes <= _levels.Length)
        {
            return;
        }

        int next = Math.Max(nodes, _levels.Length * 2);
        Array.Resize(ref _level0, next * (M0 + 1));
        Array.Resize(ref _upper, next);
        Array.Resize(ref _levels, next);
    }

    private int RandomLevel()
    {
        double r = -Math.Log(1.0 - _random.NextDouble()) * _levelMultiplier;
        return (int)Math.Min(r, 30);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<int> Links(int node, int level) => level == 0
        ? _level0.AsSpan(node * (M0 + 1), M0 + 1)
        : _upper[node].AsSpan((level - 1) * (M + 1), M + 1);

    private SearchContext RentContext()
    {
        if (!_contexts.TryTake(out SearchContext? context))
        {
            context = new SearchContext(_rows.Dimensions);
        }

        context.Visited.EnsureCapacity(Count);
        return context;
    }

    private void ReturnContext(SearchContext context) => _contexts.Add(context);

    /// <summary>Adds row <paramref name="node"/> (which must equal <see cref="Count"/>) to the graph.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimized from the first call, no tier-0/OSR code
    internal void Insert(int node)
    {
        if (node != Count)
        {
            throw new InvalidOperationException("HNSW nodes are inserted in row order.");
        }

        EnsureCapacity(node + 1);
        int level = RandomLevel();
        _levels[node] = (byte)level;
        _level0[node * (M0 + 1)] = 0;
        _upper[node] = level > 0 ? new int[level * (M + 1)] : null!;
        Count++;
        if (EntryPoint < 0)
        {
            EntryPoint = node;
            MaxLevel = level;
            return;
        }

        SearchContext context = RentContext();
        try
        {
            Span<float> query = context.Query;
            _rows.CopyRow(node, query);
            ref float q = ref MemoryMarshal.GetReference(query);
            int current = EntryPoint;
            float currentDistance = 1f - _rows.Score(ref q, current);
            for (int l = MaxLevel; l > level; l--)
            {
                (current, currentDistance) = Greedy(ref q, current, currentDistance, l);
            }

            for (int l = Math.Min(level, MaxLevel); l >= 0; l--)
            {
                SearchLayer(context, ref q, current, currentDistance, EfConstruction, l, node, skipDeleted: null);
                // context.Top is a max-heap of the ef closest; take the closest as the next entry point.
                (current, currentDistance) = Connect(context, node, l);
            }
        }
        finally
        {
            ReturnContext(context);
        }

        if (level > MaxLevel)
        {
            MaxLevel = level;
            EntryPoint = node;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimized from the first call, no tier-0/OSR code
    private (int Node, float Distance) Greedy(ref float q, int current, float distance, int level)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            Span<int> links = Links(current, level);
            int count = links[0];
            for (int i = 1; i <= count; i++)
            {
                int candidate = links[i];
                float d = 1f - _rows.Score(ref q, candidate);
                if (d < distance)
                {
                    distance = d;
                    current = candidate;
                    changed = true;
                }
            }
        }

        return (current, distance);
    }

    /// <summary>The ef closest nodes to the query on one layer, into context.Top (a max-heap on distance).
    /// Nodes for which <paramref name="skipDeleted"/> is true are traversed but not kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimized from the first call, no tier-0/OSR code
    private void SearchLayer(SearchContext context, ref float q, int entry, float entryDistance, int ef, int level, int self, byte[]? skipDeleted)
    {
        VisitedList visited = context.Visited;
        visited.Next();
        DistanceHeap candidates = context.Candidates;
        DistanceHeap top = context.Top;
        candidates.Clear();
        top.Clear();
        visited.Mark(entry);
        if (self >= 0)
        {
            visited.Mark(self);
        }

        if (skipDeleted is null || skipDeleted[entry] == 0)
        {
            top.Push(entryDistance, entry);
        }

        candidates.Push(entryDistance, entry);
        float bound = top.Count > 0 ? top.TopDistance : float.MaxValue;
        ref int links0 = ref MemoryMarshal.GetArrayDataReference(_level0);
        while (candidates.Count > 0)
        {
            (float distance, int node) = candidates.Pop();
            if (distance > bound && top.Count >= ef)
            {
                break;
            }

            ReadOnlySpan<int> links = level == 0
                ? MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref links0, node * (M0 + 1)), M0 + 1)
                : Links(node, level);
            int count = links[0];
            // The first lines of every unvisited neighbour, before any is scored (measured: prefetching whole rows, or
            // the next row inside the loop, is no faster; the search is bound by memory bandwidth, see docs/vectors.md).
            for (int i = 1; i <= count; i++)
            {
                int neighbour = links[i];
                if (!visited.IsMarked(neighbour))
                {
                    _rows.Prefetch(neighbour);
                }
            }

            for (int i = 1; i <= count; i++)
            {
                int neighbour = links[i];
                if (visited.IsMarked(neighbour))
                {
                    continue;
                }

                visited.Mark(neighbour);
                float d = 1f - _rows.Score(ref q, neighbour);
                if (top.Count < ef || d < bound)
                {
                    candidates.Push(d, neighbour);
                    if (level == 0)
                    {
                        // Its link list will likely be read when it is expanded: fetch it now (hnswlib gets this for
                        // free by storing links next to the vector; here they live in their own array).
                        PrefetchLinks(ref Unsafe.Add(ref links0, neighbour * (M0 + 1)));
                    }

                    if (skipDeleted is null || skipDeleted[neighbour] == 0)
                    {
                        if (top.Count < ef)
                        {
                            top.Push(d, neighbour);
                        }
                        else
                        {
                            top.ReplaceTop(d, neighbour); // drop the farthest, keep ef
                        }
                    }

                    if (top.Count > 0)
                    {
                        bound = top.TopDistance;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchLinks(ref int list)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            // A stale address after a GC move is harmless for a prefetch hint.
            byte* p = (byte*)Unsafe.AsPointer(ref list);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(p);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + 64);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + 128);
        }
    }

    /// <summary>Links <paramref name="node"/> to the heuristic selection of context.Top on one layer, and back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimized from the first call, no tier-0/OSR code
    private (int Node, float Distance) Connect(SearchContext context, int node, int level)
    {
        List<(float Distance, int Id)> sorted = context.Sorted;
        sorted.Clear();
        while (context.Top.Count > 0)
        {
            sorted.Add(context.Top.Pop());
        }

        sorted.Reverse(); // closest first
        (int Node, float Distance) closest = sorted.Count > 0 ? (sorted[0].Id, sorted[0].Distance) : (EntryPoint, float.MaxValue);
        List<(float Distance, int Id)> selected = context.Selected;
        SelectByHeuristic(context, sorted, M, selected);

        Span<int> own = Links(node, level);
        own[0] = selected.Count;
        for (int i = 0; i < selected.Count; i++)
        {
            own[i + 1] = selected[i].Id;
        }

        int max = level == 0 ? M0 : M;
        foreach ((float distance, int other) in selected)
        {
            Span<int> links = Links(other, level);
            int count = links[0];
            if (count < max)
            {
                links[count + 1] = node;
                links[0] = count + 1;
                continue;
            }

            // Full: re-select among its neighbours plus the new node.
            List<(float Distance, int Id)> pool = context.Pool;
            pool.Clear();
            Span<float> row = context.Scratch;
            _rows.CopyRow(other, row);
            ref float r = ref MemoryMarshal.GetReference(row);
            pool.Add((distance, node));
            for (int i = 1; i <= count; i++)
            {
                pool.Add((1f - _rows.Score(ref r, links[i]), links[i]));
            }

            pool.Sort(static (a, b) => a.Distance.CompareTo(b.Distance));
            List<(float Distance, int Id)> kept = context.Kept;
            SelectByHeuristic(context, pool, max, kept);
            links[0] = kept.Count;
            for (int i = 0; i < kept.Count; i++)
            {
                links[i + 1] = kept[i].Id;
            }
        }

        return closest;
    }

    /// <summary>hnswlib's heuristic: walk candidates closest first, keep one unless it is closer to an already kept
    /// node than to the target; stop at <paramref name="m"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimized from the first call, no tier-0/OSR code
    private void SelectByHeuristic(SearchContext context, List<(float Distance, int Id)> candidates, int m, List<(float Distance, int Id)> result)
    {
        result.Clear();
        if (candidates.Count <= m)
        {
            result.AddRange(candidates);
            return;
        }

        Span<float> row = context.Scratch2;
        foreach ((float distance, int id) in candidates)
        {
            if (result.Count >= m)
            {
                break;
            }

            _rows.CopyRow(id, row);
            ref float r = ref MemoryMarshal.GetReference(row);
            bool good = true;
            foreach ((float _, int keptId) in result)
            {
                if (1f - _rows.Score(ref r, keptId) < distance)
                {
                    good = false;
                    break;
                }
            }

            if (good)
            {
                result.Add((distance, id));
            }
        }
    }

    /// <summary>The <paramref name="k"/> nearest live nodes to a normalized query, closest first, as (score, node).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimized from the first call, no tier-0/OSR code
    internal (float Score, int Id)[] Search(ReadOnlySpan<float> query, int k, int ef, byte[]? deleted)
    {
        if (EntryPoint < 0)
        {
            return [];
        }

        ef = Math.Max(ef, k);
        SearchContext context = RentContext();
        try
        {
            ref float q = ref MemoryMarshal.GetReference(query);
            int current = EntryPoint;
            float distance = 1f - _rows.Score(ref q, current);
            for (int l = MaxLevel; l > 0; l--)
            {
                (current, distance) = Greedy(ref q, current, distance, l);
            }

            SearchLayer(context, ref q, current, distance, ef, 0, -1, deleted);
            DistanceHeap top = context.Top;
            while (top.Count > k)
            {
                top.Pop();
            }

            var result = new (float Score, int Id)[top.Count];
            for (int i = result.Length - 1; i >= 0; i--)
            {
                (float d, int id) = top.Pop();
                result[i] = (1f - d, id);
            }

            return result;
        }
        finally
        {
            ReturnContext(context);
        }
    }

    private sealed class SearchContext(int dimensions)
    {
        internal VisitedList Visited { get; } = new();

        internal DistanceHeap Candidates { get; } = new(max: false, 256);

        internal DistanceHeap Top { get; } = new(max: true, 256);

        internal float[] Query { get; } = new float[dimensions];

        internal float[] Scratch { get; } = new float[dimensions];

        internal float[] Scratch2 { get; } = new float[dimensions];

        internal List<(float Distance, int Id)> Sorted { get; } = new(256);

        internal List<(float Distance, int Id)> Selected { get; } = new(64);

        internal List<(float Distance, int Id)> Pool { get; } = new(64);

        internal List<(float Distance, int Id)> Kept { get; } = new(64);
    }

    /// <summary>Marks visited nodes with a generation stamp, so clearing is O(1) per search.</summary>
    private sealed class VisitedList
    {
        private ushort[] _marks = new ushort[16];
        private ushort _generation;

        internal void EnsureCapacity(int nodes)
        {
            if (nodes > _marks.Length)
            {
                Array.Resize(ref _marks, Math.Max(nodes, _marks.Length * 2));
            }
        }

        internal void Next()
        {
            if (++_generation == 0)
            {
                Array.Clear(_marks);
                _generation = 1;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal bool IsMarked(int node) => _marks[node] == _generation;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void Mark(int node) => _marks[node] = _generation;
    }
}
