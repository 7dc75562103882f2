namespace Ghostie.Sync.Handoff;

/// <summary>Where the work stands: the sections of a coding agent's compaction summary.</summary>
public sealed record ProjectState
{
    /// <summary>A summary: earlier summaries the source carried (a compaction's account of what came before), what was changed.</summary>
    public string Summary { get; init; } = "";

    /// <summary>The person's primary request and intent: their first instruction (verbatim, cut to its budget), "" when unknown.</summary>
    public string PrimaryRequest { get; init; } = "";

    /// <summary>The person's last instruction, verbatim (never a teammate's report, a tool result or an injected reminder); "" when the person said nothing.</summary>
    public string LastInstruction { get; init; } = "";

    /// <summary>The message index of <see cref="LastInstruction"/>; -1 when none.</summary>
    public int LastInstructionTurn { get; init; } = -1;

    /// <summary>What was being worked on when the conversation stopped: the last assistant text (excerpt) and its last tool calls.</summary>
    public string CurrentWork { get; init; } = "";

    /// <summary>The next step: what the last assistant message said it would do, or the last instruction when nothing answered it.</summary>
    public string NextStep { get; init; } = "";

    /// <summary>Tasks still open: the unfinished items of the last to-do list the agent kept (pending or in progress).</summary>
    public IReadOnlyList<string> PendingTasks { get; init; } = [];

    /// <summary>Errors that tools reported, each with what came after it (the fix, when there was one).</summary>
    public IReadOnlyList<ErrorAndFix> Errors { get; init; } = [];

    /// <summary>Questions still open at the end of the conversation.</summary>
    public IReadOnlyList<string> OpenQuestions { get; init; } = [];

    /// <summary>Next steps stated in the conversation.</summary>
    public IReadOnlyList<string> NextSteps { get; init; } = [];
}
