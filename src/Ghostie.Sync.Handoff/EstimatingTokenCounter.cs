namespace Ghostie.Sync.Handoff;

/// <summary>
/// The default token count, an estimate with no tokenizer: one token per 4 ASCII characters (rounded up) plus one
/// per non-ASCII character. About right for English prose and code with BPE tokenizers (they average 3.5 to 4.5
/// characters a token) and deliberately high for CJK and emoji text, so budgets err on the safe side.
/// </summary>
public sealed class EstimatingTokenCounter : ITokenCounter
{
    /// <summary>The shared instance.</summary>
    public static EstimatingTokenCounter Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "estimate-v1";

    /// <inheritdoc />
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (System.Text.Ascii.IsValid(text))
        {
            return (text.Length + 3) / 4; // the common case, vectorized
        }

        int ascii = 0;
        int other = 0;
        foreach (char c in text)
        {
            if (c < 128)
            {
                ascii++;
            }
            else if (!char.IsLowSurrogate(c))
            {
                other++;
            }
        }

        return ((ascii + 3) / 4) + other;
    }
}
