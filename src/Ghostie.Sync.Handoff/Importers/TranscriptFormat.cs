namespace Ghostie.Sync.Handoff.Importers;

/// <summary>The transcript formats the importers read.</summary>
public enum TranscriptFormat
{
    /// <summary>Decide from the content (never from the file name): see <see cref="TranscriptImporter.DetectAsync"/>.</summary>
    Auto,

    /// <summary>A Claude Code session transcript (JSONL).</summary>
    ClaudeCode,

    /// <summary>A plain chat transcript: a JSON array of {role, content}, or an object with such a "messages" array.</summary>
    ChatJson,

    /// <summary>The ChatGPT data export's conversations.json (conversations with a "mapping" tree).</summary>
    ChatGptExport,

    /// <summary>The Claude.ai data export's conversations.json (conversations with "chat_messages").</summary>
    ClaudeAiExport,
}
