namespace Ghostie.Sync.Handoff;

/// <summary>Compresses a transcript into the context a package carries.</summary>
public interface IContextCompressor
{
    /// <summary>Compresses <paramref name="transcript"/> (already scrubbed of secrets).</summary>
    /// <param name="transcript">The conversation.</param>
    /// <param name="options">Budgets and the token counter.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    Task<CompressedContext> CompressAsync(ConversationTranscript transcript, CompressionOptions options, CancellationToken cancellationToken = default);
}

/// <summary>Budgets of context compression.</summary>
public sealed class CompressionOptions
{
    /// <summary>The tokens the compressed context aims at (default 8,000). The last turns and the key decisions are kept
    /// verbatim even when they alone exceed it; earlier turns fill what is left by salience.</summary>
    public int TokenBudget { get; set; } = 8_000;

    /// <summary>How many of the last turns (user or assistant messages with text) are kept verbatim (default 10).</summary>
    public int RecentTurns { get; set; } = 10;

    /// <summary>The longest excerpt of an earlier turn, in tokens (default 120).</summary>
    public int ExcerptTokens { get; set; } = 120;

    /// <summary>At most this many code snippets (default 8), each at most 60 lines.</summary>
    public int MaxCodeSnippets { get; set; } = 8;

    /// <summary>At most this many active files (default 50).</summary>
    public int MaxActiveFiles { get; set; } = 50;

    /// <summary>Counts tokens (default <see cref="TiktokenTokenCounter.O200kBase"/>: real o200k_base tokens).</summary>
    public ITokenCounter TokenCounter { get; set; } = TiktokenTokenCounter.O200kBase;

    /// <summary>Throws unless every value is in range.</summary>
    /// <exception cref="GhostieSyncException">A value is out of range (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        if (TokenBudget < 100 || RecentTurns < 0 || ExcerptTokens < 10 || MaxCodeSnippets < 0 || MaxActiveFiles < 0 || TokenCounter is null)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "CompressionOptions: TokenBudget must be at least 100, ExcerptTokens at least 10, the counts non-negative, and TokenCounter set.");
        }
    }
}
