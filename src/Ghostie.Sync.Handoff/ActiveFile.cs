namespace Ghostie.Sync.Handoff;

/// <summary>A file the conversation touched.</summary>
public sealed record ActiveFile
{
    /// <summary>The path as written on the sending device.</summary>
    public required string Path { get; init; }

    /// <summary>"created", "edited", "read" or "mentioned".</summary>
    public string Status { get; init; } = "mentioned";

    /// <summary>The last message that touched it.</summary>
    public int LastTurn { get; init; }

    /// <summary>How many times it was touched.</summary>
    public int Touches { get; init; }
}
