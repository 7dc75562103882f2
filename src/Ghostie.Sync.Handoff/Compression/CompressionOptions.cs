namespace Ghostie.Sync.Handoff;

/// <summary>Budgets of context compression.</summary>
public sealed class CompressionOptions
{
    /// <summary>The most tokens the compressed context may take (default 16,000): the host's ceiling. Within it the size
    /// scales with the conversation (<see cref="TargetRatio"/>, <see cref="MinimumTokens"/>), and every section keeps to
    /// its share of it (docs/handoff.md).</summary>
    public int TokenBudget { get; set; } = 16_000;

    /// <summary>The compressed context aims at this fraction of the conversation's tokens (default 0.03: 3%), between
    /// <see cref="MinimumTokens"/> and <see cref="TokenBudget"/>; 0 to 1.</summary>
    public double TargetRatio { get; set; } = 0.03;

    /// <summary>The least budget a conversation gets, however short (default 1,200 tokens; capped by <see cref="TokenBudget"/>).</summary>
    public int MinimumTokens { get; set; } = 1_200;

    /// <summary>How many of the last turns (the person's and the assistant's messages with text) the thread may keep verbatim, newest first, within its share (default 10).</summary>
    public int RecentTurns { get; set; } = 10;

    /// <summary>The longest excerpt of one earlier sentence, in tokens (default 120).</summary>
    public int ExcerptTokens { get; set; } = 120;

    /// <summary>Redundancy control of the sentence selection (maximal marginal relevance): 1 ranks by relevance alone, 0 by
    /// novelty alone (default 0.7).</summary>
    public double Lambda { get; set; } = 0.7;

    /// <summary>With a generator other than the lexical default: at most this many sentences are embedded with it (default
    /// 600; the person's own come first, then the most central by the lexical pre-ranking). A model embedding costs about
    /// 10 ms a sentence on one core.</summary>
    public int MaxModelSentences { get; set; } = 600;

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
        if (TokenBudget < 100 || RecentTurns < 0 || ExcerptTokens < 10 || MaxCodeSnippets < 0 || MaxActiveFiles < 0 || TokenCounter is null
            || !(TargetRatio is >= 0 and <= 1) || MinimumTokens < 100 || !(Lambda is >= 0 and <= 1) || MaxModelSentences < 1)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "CompressionOptions: TokenBudget and MinimumTokens must be at least 100, ExcerptTokens at least 10, TargetRatio and Lambda 0 to 1, MaxModelSentences at least 1, the counts non-negative, and TokenCounter set.");
        }
    }
}
