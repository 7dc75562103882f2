namespace Ghostie.Sync.Handoff;

/// <summary>
/// Real token counts with OpenAI's tiktoken encodings, through Microsoft.ML.Tokenizers and its data packages (offline:
/// the vocabularies ship inside Microsoft.ML.Tokenizers.Data.O200kBase and .Cl100kBase). <see cref="O200kBase"/>
/// (GPT-4o, GPT-4.1, o-series) is the default of every budget; <see cref="Cl100kBase"/> (GPT-4, GPT-3.5) is offered
/// for hosts on those models. Other models' tokenizers (Claude's, Gemini's) are not public; for them o200k_base is
/// the closest available measure, usually within 10-20% on English prose and code. Thread-safe.
/// </summary>
public sealed class TiktokenTokenCounter : ITokenCounter
{
    private static readonly Lazy<TiktokenTokenCounter> O200k = new(() => new("o200k_base"), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<TiktokenTokenCounter> Cl100k = new(() => new("cl100k_base"), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly Microsoft.ML.Tokenizers.TiktokenTokenizer _tokenizer;

    private TiktokenTokenCounter(string encoding)
    {
        Name = encoding;
        _tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding(encoding);
    }

    /// <summary>o200k_base, loaded on first use (about 0.3 s once per process, then shared).</summary>
    public static TiktokenTokenCounter O200kBase => O200k.Value;

    /// <summary>cl100k_base, loaded on first use (then shared).</summary>
    public static TiktokenTokenCounter Cl100kBase => Cl100k.Value;

    /// <summary>The encodings known: "o200k_base" and "cl100k_base".</summary>
    public static IReadOnlyList<string> Encodings { get; } = ["o200k_base", "cl100k_base"];

    /// <summary>The counter of an encoding by name (case-insensitive).</summary>
    /// <param name="encoding">"o200k_base" or "cl100k_base".</param>
    /// <exception cref="GhostieSyncException">Another name (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static TiktokenTokenCounter ForEncoding(string encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        return encoding.ToLowerInvariant() switch
        {
            "o200k_base" => O200kBase,
            "cl100k_base" => Cl100kBase,
            _ => throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                $"There is no tiktoken encoding '{encoding}' here. Use one of: {string.Join(", ", Encodings)}."),
        };
    }

    /// <summary>The encoding's name: "o200k_base" or "cl100k_base" (recorded in packages).</summary>
    public string Name { get; }

    /// <inheritdoc />
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 0 ? 0 : _tokenizer.CountTokens(text);
    }

    /// <summary>The token ids of <paramref name="text"/> (for checks against other tiktoken implementations).</summary>
    /// <param name="text">The text.</param>
    public IReadOnlyList<int> EncodeToIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _tokenizer.EncodeToIds(text);
    }
}
