namespace Ghostie.Sync.Handoff;

/// <summary>Where the conversation stopped.</summary>
public sealed record ResumptionPoint
{
    /// <summary>The index of the last message.</summary>
    public int Turn { get; init; }

    /// <summary>Who spoke last.</summary>
    public string Role { get; init; } = "";

    /// <summary>The person's last instruction, verbatim: the last message they wrote themselves (never a teammate's report,
    /// a tool result or a message the host injected in their place).</summary>
    public string LastUserMessage { get; init; } = "";

    /// <summary>Schema version 3: the index of the message <see cref="LastUserMessage"/> is; null when unknown (older packages) or none.</summary>
    public int? LastUserTurn { get; init; }

    /// <summary>What was happening: the last assistant text (excerpt) or the pending tool call.</summary>
    public string Summary { get; init; } = "";
}
