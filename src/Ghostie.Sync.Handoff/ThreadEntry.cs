namespace Ghostie.Sync.Handoff;

/// <summary>One entry of the compressed thread.</summary>
public sealed record ThreadEntry
{
    /// <summary>The message index in the original conversation (for "omitted", the first omitted one).</summary>
    public int Turn { get; init; }

    /// <summary>"user", "assistant" or "system".</summary>
    public string Role { get; init; } = "";

    /// <summary>"verbatim" (the whole text), "excerpt" (the most salient part), "summary" (written by a model) or "omitted" (a count).</summary>
    public string Kind { get; init; } = ThreadEntryKinds.Verbatim;

    /// <summary>The text.</summary>
    public string Text { get; init; } = "";

    /// <summary>The tools the message called, one compact line each ("Edit src/app.ts").</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>When, if known.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The tokens of <see cref="Text"/>.</summary>
    public int Tokens { get; init; }

    /// <summary>The salience score that ranked it (0 for the last turns, which are always kept).</summary>
    public double Salience { get; init; }
}
