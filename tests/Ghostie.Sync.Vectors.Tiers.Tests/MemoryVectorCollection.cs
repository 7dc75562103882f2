using System.Runtime.CompilerServices;

namespace Ghostie.Sync.Vectors.Tiers.Tests;

/// <summary>A brute-force in-memory collection for tests, with scripted faults: <see cref="Hang"/> makes searches
/// wait until cancelled, <see cref="Fail"/> makes every operation throw.</summary>
public sealed class MemoryVectorCollection(string name, EmbeddingModelInfo model) : IVectorCollection
{
    private readonly Dictionary<string, VectorRecord> _records = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _searches;

    public string Name { get; } = name;

    public EmbeddingModelInfo Model { get; } = model;

    public bool Hang { get; set; }

    public bool Fail { get; set; }

    public bool FailDeletes { get; set; }

    /// <summary>When set, writes throw (reads, deletes and searches still work).</summary>
    public bool FailUpserts { get; set; }

    /// <summary>When set, this many more reads succeed, then every read throws.</summary>
    public int? FailGetsAfter { get; set; }

    /// <summary>When set, reads read, then wait for it (after completing <see cref="GetEntered"/>), to interleave callers exactly.</summary>
    public TaskCompletionSource? GetGate { get; set; }

    /// <summary>Completed when a read is waiting at <see cref="GetGate"/>.</summary>
    public TaskCompletionSource GetEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Searches => Volatile.Read(ref _searches);

    /// <summary>Completed when a hanging search has started.</summary>
    public TaskCompletionSource HangEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyCollection<string> Keys
    {
        get
        {
            lock (_gate)
            {
                return _records.Keys.Order(StringComparer.Ordinal).ToArray();
            }
        }
    }

    public Task UpsertAsync(IEnumerable<VectorRecord> records, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing();
        if (FailUpserts)
        {
            throw new InvalidOperationException("scripted write failure");
        }

        var list = records.ToList();
        foreach (VectorRecord r in list)
        {
            r.EnsureValid(Model, Name);
        }

        lock (_gate)
        {
            foreach (VectorRecord r in list)
            {
                _records[r.Key] = r with { Vector = r.Vector.ToArray() };
            }
        }

        return Task.CompletedTask;
    }

    public async Task<VectorRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing();
        if (FailGetsAfter is int left)
        {
            if (left <= 0)
            {
                throw new InvalidOperationException("scripted read failure");
            }

            FailGetsAfter = left - 1;
        }

        VectorRecord? found;
        lock (_gate)
        {
            found = _records.GetValueOrDefault(key);
        }

        if (GetGate is TaskCompletionSource gate)
        {
            // The answer is already read, as a server's would be while its response is on the wire.
            GetEntered.TrySetResult();
            await gate.Task;
        }

        return found;
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing();
        if (FailDeletes)
        {
            throw new InvalidOperationException("scripted delete failure");
        }

        lock (_gate)
        {
            return Task.FromResult(_records.Remove(key));
        }
    }

    public Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfFailing();
        lock (_gate)
        {
            return Task.FromResult((long)_records.Count);
        }
    }

    public async IAsyncEnumerable<VectorSearchResult> SearchAsync(ReadOnlyMemory<float> query, VectorSearchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _searches);
        options ??= new VectorSearchOptions();
        Model.EnsureVector(query.Span, Name, "query");
        if (Hang)
        {
            HangEntered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        ThrowIfFailing();
        List<VectorSearchResult> results;
        lock (_gate)
        {
            results = BruteForce.Search(_records.Values, query.Span, options)
                .Select(r => options.IncludeVectors ? r : r with { Record = r.Record with { Vector = ReadOnlyMemory<float>.Empty } })
                .ToList();
        }

        foreach (VectorSearchResult r in results)
        {
            yield return r;
        }
    }

    private void ThrowIfFailing()
    {
        if (Fail)
        {
            throw new InvalidOperationException("scripted tier failure");
        }
    }
}

public static class BruteForce
{
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return (float)(dot / Math.Sqrt(na * nb));
    }

    public static List<VectorSearchResult> Search(IEnumerable<VectorRecord> records, ReadOnlySpan<float> query, VectorSearchOptions options)
    {
        var scored = new List<VectorSearchResult>();
        foreach (VectorRecord r in records)
        {
            if (!options.Matches(r.Data))
            {
                continue;
            }

            float score = Cosine(query, r.Vector.Span);
            if (options.MinScore is float min && score < min)
            {
                continue;
            }

            scored.Add(new VectorSearchResult(r, score));
        }

        return scored.OrderByDescending(s => s.Score).ThenBy(s => s.Record.Key, StringComparer.Ordinal).Take(options.Top).ToList();
    }

    /// <summary>Clustered unit vectors from a fixed seed.</summary>
    public static List<VectorRecord> Clustered(int count, int dimensions, int seed, int clusters = 4)
    {
        var random = new Random(seed);
        var centers = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var records = new List<VectorRecord>();
        for (int i = 0; i < count; i++)
        {
            float[] c = centers[i % clusters];
            float[] v = c.Select(x => x + (float)((random.NextDouble() - 0.5) * 0.6)).ToArray();
            records.Add(new VectorRecord($"k{i:D3}", v, new Dictionary<string, string> { ["cluster"] = (i % clusters).ToString(System.Globalization.CultureInfo.InvariantCulture), ["parity"] = i % 2 == 0 ? "even" : "odd" }));
        }

        return records;
    }
}
