namespace Ghostie.Sync.Handoff;

/// <summary>The names of the context sections a rebuild can load.</summary>
public static class ContextSections
{
    /// <summary>Where to carry on.</summary>
    public const string ResumptionPoint = "resumption_point";

    /// <summary>Decisions taken.</summary>
    public const string KeyDecisions = "key_decisions";

    /// <summary>The last turns, verbatim.</summary>
    public const string RecentTurns = "recent_turns";

    /// <summary>The project state summary.</summary>
    public const string ProjectState = "project_state";

    /// <summary>Open questions and next steps.</summary>
    public const string OpenQuestions = "open_questions";

    /// <summary>Active files (paths rewritten for the receiving device).</summary>
    public const string ActiveFiles = "active_files";

    /// <summary>Agent memories.</summary>
    public const string AgentMemories = "agent_memories";

    /// <summary>Code snippets.</summary>
    public const string CodeSnippets = "code_snippets";

    /// <summary>Earlier turns (excerpts and summaries).</summary>
    public const string EarlierTurns = "earlier_turns";

    /// <summary>The person's last instruction, verbatim.</summary>
    public const string LastInstruction = "last_instruction";

    /// <summary>The primary request and intent.</summary>
    public const string PrimaryRequest = "primary_request";

    /// <summary>What was being worked on.</summary>
    public const string CurrentWork = "current_work";

    /// <summary>The next step.</summary>
    public const string NextStep = "next_step";

    /// <summary>Tasks still open.</summary>
    public const string PendingTasks = "pending_tasks";

    /// <summary>Errors and their fixes.</summary>
    public const string ErrorsAndFixes = "errors_and_fixes";

    /// <summary>The default loading order: the compaction-summary sections first, the thread last.</summary>
    public static IReadOnlyList<string> Default { get; } =
        [ResumptionPoint, LastInstruction, PrimaryRequest, CurrentWork, NextStep, PendingTasks, KeyDecisions, ErrorsAndFixes, ActiveFiles,
         RecentTurns, ProjectState, OpenQuestions, CodeSnippets, AgentMemories, EarlierTurns];

    /// <summary>
    /// Each section's share of a rebuild's token budget (they add up to 1). A section never takes more than its share plus
    /// what the sections loaded before it left unused; <see cref="LastInstruction"/> may take up to half the budget, as
    /// much as the instruction needs, and the others share the rest.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Shares { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        [LastInstruction] = 0.10, [ResumptionPoint] = 0.03, [PrimaryRequest] = 0.08, [CurrentWork] = 0.06, [NextStep] = 0.04,
        [PendingTasks] = 0.05, [KeyDecisions] = 0.14, [ErrorsAndFixes] = 0.07, [ActiveFiles] = 0.06, [RecentTurns] = 0.14,
        [ProjectState] = 0.05, [OpenQuestions] = 0.03, [CodeSnippets] = 0.06, [AgentMemories] = 0.03, [EarlierTurns] = 0.06,
    };
}
