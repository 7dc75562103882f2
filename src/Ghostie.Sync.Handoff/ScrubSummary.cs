namespace Ghostie.Sync.Handoff;

/// <summary>What secret scrubbing removed.</summary>
public sealed record ScrubSummary
{
    /// <summary>Secrets removed in all.</summary>
    public int SecretsRemoved { get; init; }

    /// <summary>By rule name (for example "openai-key": 2).</summary>
    public IReadOnlyDictionary<string, int> ByKind { get; init; } = new Dictionary<string, int>();
}
