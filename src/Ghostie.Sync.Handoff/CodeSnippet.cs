namespace Ghostie.Sync.Handoff;

/// <summary>A piece of code from the conversation.</summary>
public sealed record CodeSnippet
{
    /// <summary>The file it belongs to, if known.</summary>
    public string? Path { get; init; }

    /// <summary>The language tag of the code fence, if any.</summary>
    public string Language { get; init; } = "";

    /// <summary>The code (at most 60 lines).</summary>
    public required string Text { get; init; }

    /// <summary>The message it came from.</summary>
    public int Turn { get; init; }
}
