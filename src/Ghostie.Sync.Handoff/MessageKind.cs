namespace Ghostie.Sync.Handoff;

/// <summary>What a transcript message is, as the rebuild and the compressor need to know it.</summary>
public enum MessageKind
{
    /// <summary>The person's own words: what they typed.</summary>
    Person,

    /// <summary>The assistant's text (it may also call tools).</summary>
    Assistant,

    /// <summary>An assistant message that only calls tools.</summary>
    ToolCall,

    /// <summary>A tool's output fed back to the assistant.</summary>
    ToolResult,

    /// <summary>
    /// Written by the host in the person's place: meta messages, slash-command echoes, local command output, system
    /// reminders, hook feedback, interruption markers, system prompts and hidden system messages.
    /// </summary>
    Injected,

    /// <summary>A message of an agent-team teammate (Claude Code stores them as user messages).</summary>
    Teammate,

    /// <summary>A message of a sub-agent's side conversation.</summary>
    SubAgent,

    /// <summary>The host's own summary of what came before (Claude Code's compaction summary).</summary>
    CompactionSummary,
}
