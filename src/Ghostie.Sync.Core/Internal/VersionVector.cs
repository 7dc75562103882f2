using System.Collections.Immutable;

namespace Ghostie.Sync.Internal;

internal enum Causality
{
    Equal,
    Before,
    After,
    Concurrent,
}

/// <summary>Comparisons straight on the dictionaries stored in state and packs: the hot path of applying versions allocates nothing.</summary>
internal static class Vectors
{
    public static Causality Compare(IReadOnlyDictionary<string, long> a, IReadOnlyDictionary<string, long> b)
    {
        bool less = false, greater = false;
        foreach ((string device, long n) in a)
        {
            long m = b.TryGetValue(device, out long x) ? x : 0;
            less |= n < m;
            greater |= n > m;
        }

        foreach ((string device, long m) in b)
        {
            if (m > 0 && !a.ContainsKey(device))
            {
                less = true;
            }
        }

        return (less, greater) switch
        {
            (false, false) => Causality.Equal,
            (true, false) => Causality.Before,
            (false, true) => Causality.After,
            _ => Causality.Concurrent,
        };
    }

    /// <summary>Whether <paramref name="a"/> includes <paramref name="b"/> (equal or after).</summary>
    public static bool Includes(IReadOnlyDictionary<string, long> a, IReadOnlyDictionary<string, long> b) =>
        Compare(a, b) is Causality.Equal or Causality.After;

    public static long Sum(IReadOnlyDictionary<string, long> a) => a.Values.Sum();
}

/// <summary>A version vector: for each device, how many of its edits a version includes. Immutable.</summary>
internal sealed class VersionVector
{
    public static readonly VersionVector Empty = new(ImmutableSortedDictionary<string, long>.Empty.WithComparers(StringComparer.Ordinal));

    private VersionVector(ImmutableSortedDictionary<string, long> counters) => Counters = counters;

    public ImmutableSortedDictionary<string, long> Counters { get; }

    public long Sum => Counters.Values.Sum();

    public static VersionVector From(IEnumerable<KeyValuePair<string, long>> counters) =>
        new(counters.Where(c => c.Value > 0).ToImmutableSortedDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal));

    public long this[string device] => Counters.TryGetValue(device, out long n) ? n : 0;

    public VersionVector Increment(string device) => new(Counters.SetItem(device, this[device] + 1));

    public VersionVector Merge(VersionVector other)
    {
        var builder = Counters.ToBuilder();
        foreach ((string device, long n) in other.Counters)
        {
            if (n > this[device])
            {
                builder[device] = n;
            }
        }

        return new VersionVector(builder.ToImmutable());
    }

    /// <summary>Whether this version includes <paramref name="other"/> (equal or after).</summary>
    public bool Includes(VersionVector other) => Vectors.Includes(Counters, other.Counters);

    public override string ToString() => "{" + string.Join(",", Counters.Select(c => c.Key + ":" + c.Value)) + "}";
}
