namespace Ghostie.Sync.Handoff;

/// <summary>A piece of work done offline, to become a memory when the device reconnects.</summary>
public sealed record OfflineWorkItem
{
    /// <summary>A random id (32 hex digits); the memory made from it has the id <c>offline-&lt;id&gt;</c>, so merging twice makes one memory.</summary>
    public required string Id { get; init; }

    /// <summary>"note", "decision", "task", "message" or a host's own kind (letters, digits, '-').</summary>
    public required string Kind { get; init; }

    /// <summary>The text.</summary>
    public required string Text { get; init; }

    /// <summary>The conversation it belongs to, if any.</summary>
    public string? ConversationId { get; init; }

    /// <summary>When it was done.</summary>
    public DateTimeOffset CreatedAt { get; init; }
}
