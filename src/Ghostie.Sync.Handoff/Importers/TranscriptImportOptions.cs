namespace Ghostie.Sync.Handoff.Importers;

/// <summary>How to read a transcript file.</summary>
public sealed class TranscriptImportOptions
{
    /// <summary>Its format, or <see cref="TranscriptFormat.Auto"/> (the default).</summary>
    public TranscriptFormat Format { get; set; } = TranscriptFormat.Auto;

    /// <summary>For an export that holds many conversations: the id or title of the one to read; null reads the most recently updated.</summary>
    public string? Conversation { get; set; }
}
