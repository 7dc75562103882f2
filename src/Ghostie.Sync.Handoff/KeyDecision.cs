namespace Ghostie.Sync.Handoff;

/// <summary>A decision taken in the conversation.</summary>
public sealed record KeyDecision
{
    /// <summary>The sentence that states it, verbatim.</summary>
    public required string Text { get; init; }

    /// <summary>Why, when the conversation said so next to it: the sentence that follows it in the same message, verbatim; "" when none.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The index of the message it was stated in.</summary>
    public int Turn { get; init; }

    /// <summary>Who stated it ("user" or "assistant").</summary>
    public string Role { get; init; } = "";

    /// <summary>When, if known.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}
