namespace Ghostie.Sync.Handoff;

/// <summary>Who wrote a message.</summary>
public enum TranscriptRole
{
    /// <summary>The person.</summary>
    User,

    /// <summary>The assistant.</summary>
    Assistant,

    /// <summary>System or developer instructions, and events of the host.</summary>
    System,

    /// <summary>Tool output fed back to the assistant.</summary>
    Tool,
}
