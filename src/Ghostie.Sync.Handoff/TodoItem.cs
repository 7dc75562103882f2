namespace Ghostie.Sync.Handoff;

/// <summary>One item of a todo list.</summary>
public sealed record TodoItem
{
    /// <summary>What is to be done.</summary>
    public required string Content { get; init; }

    /// <summary>"pending", "in_progress" or "completed".</summary>
    public string Status { get; init; } = "pending";

    /// <summary>The present-tense form shown while it is in progress, if any.</summary>
    public string? ActiveForm { get; init; }
}
