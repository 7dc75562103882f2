namespace Ghostie.Sync.Handoff;

/// <summary>How a context was compressed.</summary>
public sealed record CompressionInfo
{
    /// <summary>"extractive" or "abstractive".</summary>
    public string Method { get; init; } = "extractive";

    /// <summary>The token budget the compressor aimed at (the last turns and decisions are kept even beyond it).</summary>
    public int TokenBudget { get; init; }

    /// <summary>Tokens of the original conversation.</summary>
    public long OriginalTokens { get; init; }

    /// <summary>Tokens of the compressed context.</summary>
    public long CompressedTokens { get; init; }

    /// <summary>Tool outputs left out.</summary>
    public int DroppedToolOutputs { get; init; }

    /// <summary>Of those, how many repeated an earlier output exactly.</summary>
    public int DuplicateToolOutputs { get; init; }

    /// <summary>Messages with text that appear in no thread entry.</summary>
    public int OmittedMessages { get; init; }

    /// <summary>The token counter used (see <see cref="ITokenCounter.Name"/>).</summary>
    public string TokenCounter { get; init; } = "";

    /// <summary>A note, for example why an abstractive compression fell back to extractive.</summary>
    public string? Note { get; init; }
}
