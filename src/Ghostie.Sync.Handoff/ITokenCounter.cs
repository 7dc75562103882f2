namespace Ghostie.Sync.Handoff;

/// <summary>Counts the tokens of a text for budgets. Hosts plug in their model's tokenizer; the default is an estimate.</summary>
public interface ITokenCounter
{
    /// <summary>A short name recorded in packages ("estimate-v1", "cl100k", ...).</summary>
    string Name { get; }

    /// <summary>The tokens of <paramref name="text"/>.</summary>
    /// <param name="text">The text.</param>
    int CountTokens(string text);
}
