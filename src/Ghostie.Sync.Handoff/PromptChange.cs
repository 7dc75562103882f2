namespace Ghostie.Sync.Handoff;

/// <summary>A change of an agent's prompt.</summary>
public sealed record PromptChange
{
    /// <summary>When.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>The prompt after the change.</summary>
    public required string Prompt { get; init; }

    /// <summary>Why, if known.</summary>
    public string Reason { get; init; } = "";
}
