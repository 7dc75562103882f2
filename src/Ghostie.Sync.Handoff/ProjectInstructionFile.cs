namespace Ghostie.Sync.Handoff;

/// <summary>One project-instructions file (a CLAUDE.md), as read.</summary>
public sealed record ProjectInstructionFile
{
    /// <summary>The file's path on the sending device.</summary>
    public required string Path { get; init; }

    /// <summary>Its text (at most <see cref="Importers.ProjectInstructions.MaxBytes"/> bytes of it).</summary>
    public required string Text { get; init; }

    /// <summary>Whether the text was cut at the cap.</summary>
    public bool Truncated { get; init; }
}
