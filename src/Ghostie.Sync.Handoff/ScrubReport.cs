namespace Ghostie.Sync.Handoff;

/// <summary>How many secrets a scrub removed, by rule.</summary>
public sealed class ScrubReport
{
    private readonly Dictionary<string, int> _byKind = new(StringComparer.Ordinal);

    /// <summary>The secrets found so far (value to rule), shared with shadow reports: once a secret is found, its other
    /// occurrences are removed wherever they are, even where no rule would recognize them.</summary>
    private readonly Dictionary<string, string> _known;

    /// <summary>Creates an empty report.</summary>
    public ScrubReport()
        : this(new Dictionary<string, string>(StringComparer.Ordinal))
    {
    }

    private ScrubReport(Dictionary<string, string> known) => _known = known;

    internal IReadOnlyDictionary<string, string> Known => _known;

    /// <summary>A report that counts separately but shares the secrets found.</summary>
    internal ScrubReport Shadow() => new(_known);

    internal void Remember(string value, string kind)
    {
        if (value.Length >= SecretScrubber.MinKnownLength && !value.StartsWith(SecretScrubber.Marker, StringComparison.Ordinal))
        {
            _known.TryAdd(value, kind);
        }
    }

    /// <summary>Secrets removed in all.</summary>
    public int Total { get; private set; }

    /// <summary>Secrets removed per rule name.</summary>
    public IReadOnlyDictionary<string, int> ByKind => _byKind;

    internal void Add(string kind)
    {
        Total++;
        _byKind[kind] = _byKind.GetValueOrDefault(kind) + 1;
    }

    /// <summary>The report as stored in a package.</summary>
    public ScrubSummary ToSummary() => new()
    {
        SecretsRemoved = Total,
        ByKind = _byKind.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
    };
}
