using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ghostie.Sync.Vectors.Local.Internal;

namespace Ghostie.Sync.Vectors.Local;

/// <summary>Which search path to use.</summary>
public enum LocalSearchMode
{
    /// <summary>The graph when there is one and no filter is given, else exact (default).</summary>
    Auto = 0,

    /// <summary>An exact scan, whatever the collection has.</summary>
    Exact = 1,
}

public sealed partial class LocalVectorCollection
{
    private const int BatchRowBlock = 8 * VectorKernels.PanelRows;

    /// <inheritdoc />
    public async IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IReadOnlyList<VectorSearchResult> results = Search(query.Span, options, LocalSearchMode.Auto, cancellationToken);
        foreach (VectorSearchResult result in results)
        {
            yield return result;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Searches synchronously (the same answer as <see cref="SearchAsync"/>).</summary>
    /// <param name="query">The query vector (the collection's dimension).</param>
    /// <param name="options">Top, threshold, filter.</param>
    /// <param name="mode">Graph or exact.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="VectorModelMismatchException">The query's length differs from the collection's dimension.</exception>
    public IReadOnlyList<VectorSearchResult> Search(ReadOnlySpan<float> query, VectorSearchOptions? options = null, LocalSearchMode mode = LocalSearchMode.Auto,
        CancellationToken cancellationToken = default)
    {
        options ??= new VectorSearchOptions();
        options.Validate();
        Model.EnsureVector(query, Name, "query");
        cancellationToken.ThrowIfCancellationRequested();
        float[] q = new float[Model.Dimensions];
        Normalize(query, q);
        _lock.EnterReadLock();
        try
        {
            (float Score, int Id)[] hits;
            bool hasFilter = options.Filter is { Count: > 0 };
            if (_graph is not null && mode == LocalSearchMode.Auto && !hasFilter)
            {
                hits = _graph.Search(q, options.Top, Math.Max(_efSearch, options.Top), RetiredOrNull);
            }
            else
            {
                var top = new TopK(options.Top);
                ScanExact(q, top, options);
                hits = top.ToSortedArray();
            }

            return ToResults(hits, options);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Exact search of many queries at once: the vectors are read once per block of queries and scored by a
    /// register-blocked kernel, far faster per query than one scan each. Filters and thresholds apply as in
    /// <see cref="Search"/>.</summary>
    /// <param name="queries">The queries, each the collection's dimension.</param>
    /// <param name="options">Top, threshold, filter (the same for every query).</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>One result list per query, in order.</returns>
    /// <exception cref="VectorModelMismatchException">A query's length differs from the collection's dimension.</exception>
    public IReadOnlyList<VectorSearchResult>[] SearchBatch(IReadOnlyList<ReadOnlyMemory<float>> queries, VectorSearchOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        options ??= new VectorSearchOptions();
        options.Validate();
        int dim = Model.Dimensions;
        int padded = (queries.Count + VectorKernels.TileQueries - 1) / VectorKernels.TileQueries * VectorKernels.TileQueries;
        float[] matrix = new float[padded * dim];
        for (int i = 0; i < queries.Count; i++)
        {
            Model.EnsureVector(queries[i].Span, Name, "query");
            Normalize(queries[i].Span, matrix.AsSpan(i * dim, dim));
        }

        _lock.EnterReadLock();
        try
        {
            var tops = new TopK[queries.Count];
            for (int i = 0; i < tops.Length; i++)
            {
                tops[i] = new TopK(options.Top);
            }

            ScanBatch(matrix, queries.Count, tops, options, cancellationToken);
            var results = new IReadOnlyList<VectorSearchResult>[queries.Count];
            for (int i = 0; i < results.Length; i++)
            {
                results[i] = ToResults(tops[i].ToSortedArray(), options);
            }

            return results;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Raw exact top-k slots for benchmarks: no result objects.</summary>
    internal (float Score, int Id)[] SearchExactRaw(ReadOnlySpan<float> normalizedQuery, int k)
    {
        var top = new TopK(k);
        ScanExact(normalizedQuery, top, new VectorSearchOptions());
        return top.ToSortedArray();
    }

    /// <summary>Raw graph top-k slots for benchmarks.</summary>
    internal (float Score, int Id)[] SearchGraphRaw(ReadOnlySpan<float> normalizedQuery, int k, int ef) =>
        (_graph ?? throw new InvalidOperationException("no graph")).Search(normalizedQuery, k, ef, RetiredOrNull);

    /// <summary>Raw batched exact top-k for benchmarks (queries normalized, padded to whole tiles).</summary>
    internal TopK[] SearchBatchRaw(float[] paddedQueries, int count, int k)
    {
        var tops = new TopK[count];
        for (int i = 0; i < count; i++)
        {
            tops[i] = new TopK(k);
        }

        ScanBatch(paddedQueries, count, tops, new VectorSearchOptions(), CancellationToken.None);
        return tops;
    }

    private IReadOnlyList<VectorSearchResult> ToResults((float Score, int Id)[] hits, VectorSearchOptions options)
    {
        var results = new List<VectorSearchResult>(hits.Length);
        foreach ((float score, int id) in hits)
        {
            if (options.MinScore is float min && score < min)
            {
                continue;
            }

            results.Add(new VectorSearchResult(RecordAt(id, options.IncludeVectors), score));
        }

        return results;
    }

    /// <summary>The retired-row flags, or null when no row is retired (the graph walk then skips the test).</summary>
    private byte[]? RetiredOrNull => _live == _count ? null : _deleted;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accept(int slot, VectorSearchOptions options) =>
        _deleted[slot] == 0 && (options.Filter is null || options.Matches(_data[slot]));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimized from the first call, no tier-0/OSR code
    private void ScanExact(ReadOnlySpan<float> q, TopK top, VectorSearchOptions options)
    {
        int dim = Model.Dimensions;
        int count = _count;
        ref float query = ref MemoryMarshal.GetReference(q);
        int slot = 0;
        if (!_rows.Quantized)
        {
            // One row after another: a single sequential stream, which the hardware prefetcher follows best (measured
            // faster than interleaving four rows, with or without software prefetch; docs/performance.md).
            ref float rows = ref MemoryMarshal.GetArrayDataReference(_rows.Floats);
            float threshold = top.Threshold;
            for (; slot < count; slot++)
            {
                float score = VectorKernels.Dot(ref query, ref Unsafe.Add(ref rows, (nint)slot * dim), dim);
                if (score > threshold && Accept(slot, options))
                {
                    top.Add(score, slot);
                    threshold = top.Threshold;
                }
            }
        }

        for (; slot < count; slot++)
        {
            float score = _rows.Score(ref query, slot);
            if (score > top.Threshold && Accept(slot, options))
            {
                top.Add(score, slot);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimized from the first call, no tier-0/OSR code
    private void ScanBatch(float[] queries, int queryCount, TopK[] tops, VectorSearchOptions options, CancellationToken cancellationToken)
    {
        int dim = Model.Dimensions;
        int panelSize = dim * VectorKernels.PanelRows;
        const int panelsPerBlock = BatchRowBlock / VectorKernels.PanelRows;
        float[] panels = new float[panelsPerBlock * panelSize];
        float[] block = _rows.Quantized ? new float[BatchRowBlock * dim] : [];
        Span<float> scores = stackalloc float[VectorKernels.TileQueries * VectorKernels.PanelRows];
        int tiles = (queryCount + VectorKernels.TileQueries - 1) / VectorKernels.TileQueries;
        for (int start = 0; start < _count; start += BatchRowBlock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rowsInBlock = Math.Min(BatchRowBlock, _count - start);
            ReadOnlySpan<float> source;
            if (_rows.Quantized)
            {
                for (int r = 0; r < rowsInBlock; r++)
                {
                    _rows.CopyRow(start + r, block.AsSpan(r * dim, dim));
                }

                source = block;
            }
            else
            {
                source = _rows.Floats.AsSpan(start * dim, rowsInBlock * dim);
            }

            int panelCount = (rowsInBlock + VectorKernels.PanelRows - 1) / VectorKernels.PanelRows;
            for (int p = 0; p < panelCount; p++)
            {
                int rows = Math.Min(VectorKernels.PanelRows, rowsInBlock - p * VectorKernels.PanelRows);
                VectorKernels.PackPanel(source.Slice(p * VectorKernels.PanelRows * dim, rows * dim), rows, dim, panels.AsSpan(p * panelSize, panelSize));
            }

            for (int t = 0; t < tiles; t++)
            {
                ReadOnlySpan<float> tile = queries.AsSpan(t * VectorKernels.TileQueries * dim, VectorKernels.TileQueries * dim);
                int inTile = Math.Min(VectorKernels.TileQueries, queryCount - t * VectorKernels.TileQueries);
                for (int p = 0; p < panelCount; p++)
                {
                    VectorKernels.PanelTile(tile, VectorKernels.TileQueries, dim, panels.AsSpan(p * panelSize, panelSize), scores);
                    int rows = Math.Min(VectorKernels.PanelRows, rowsInBlock - p * VectorKernels.PanelRows);
                    int firstSlot = start + p * VectorKernels.PanelRows;
                    for (int qi = 0; qi < inTile; qi++)
                    {
                        TopK top = tops[t * VectorKernels.TileQueries + qi];
                        float threshold = top.Threshold;
                        ReadOnlySpan<float> row = scores.Slice(qi * VectorKernels.PanelRows, rows);
                        if (rows == VectorKernels.PanelRows && Vector512.IsHardwareAccelerated)
                        {
                            // Most tiles hold nothing better than the current k-th score: one compare per 16 rows skips them.
                            Vector512<float> bar = Vector512.Create(threshold);
                            if (!Vector512.GreaterThanAny(Vector512.Create(row[..16]), bar) && !Vector512.GreaterThanAny(Vector512.Create(row[16..32]), bar))
                            {
                                continue;
                            }
                        }

                        for (int r = 0; r < row.Length; r++)
                        {
                            if (row[r] > threshold && Accept(firstSlot + r, options))
                            {
                                top.Add(row[r], firstSlot + r);
                                threshold = top.Threshold;
                            }
                        }
                    }
                }
            }
        }
    }
}
