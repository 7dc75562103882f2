namespace Ghostie.Sync.Handoff;

/// <summary>An error a tool reported, and the assistant's next words about it.</summary>
public sealed record ErrorAndFix
{
    /// <summary>The error: the first lines of the failing tool's output, verbatim (cut).</summary>
    public required string Error { get; init; }

    /// <summary>The first sentences the assistant wrote after it (its diagnosis or fix), verbatim; "" when none followed.</summary>
    public string Fix { get; init; } = "";

    /// <summary>The message index of the error.</summary>
    public int Turn { get; init; }
}
