using System.Text.Json.Serialization;
using Ghostie.Sync.Handoff.Internal;

namespace Ghostie.Sync.Handoff;

/// <summary>
/// A conversation handed from one device to another: metadata, the compressed context, agent states, the relevant
/// embeddings and how to rebuild it all. Schema version <see cref="HandoffSerializer.CurrentSchemaVersion"/>; the
/// JSON shape (snake_case) is described field by field in docs/handoff.md. Data only: no type names are ever read.
/// </summary>
public sealed record HandoffPackage
{
    /// <summary>
    /// The schema version this package was read with (1, 2 or 3); when writing, the serializer sets it to the lowest version
    /// that expresses the package (<see cref="HandoffSerializer.SchemaVersionFor"/>). A reader refuses a greater value than
    /// <see cref="HandoffSerializer.CurrentSchemaVersion"/> with an "upgrade" error.
    /// </summary>
    public int SchemaVersion { get; init; } = HandoffSerializer.CurrentSchemaVersion;

    /// <summary>The package id: 24 lowercase hex digits, random; also the last segment of its storage name.</summary>
    public required string PackageId { get; init; }

    /// <summary>When the package was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>After this time the package is no longer offered and is deleted from the repository; null never expires.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The device the conversation comes from.</summary>
    public required HandoffSource Source { get; init; }

    /// <summary>The device id the package is addressed to; null when any device of the repository may resume it.</summary>
    public string? TargetDeviceId { get; init; }

    /// <summary>What the conversation is.</summary>
    public required ConversationMetadata Conversation { get; init; }

    /// <summary>The conversation, compressed.</summary>
    public required CompressedContext Context { get; init; }

    /// <summary>The agents of the conversation, complete (never compressed).</summary>
    public IReadOnlyList<AgentState> Agents { get; init; } = [];

    /// <summary>The embeddings relevant to the conversation, if any.</summary>
    public EmbeddingSet? Embeddings { get; init; }

    /// <summary>How the receiving device rebuilds the conversation.</summary>
    public required ReconstructionInstructions Reconstruction { get; init; }

    /// <summary>What secret scrubbing removed before the package was built.</summary>
    public ScrubSummary Scrubbing { get; init; } = new();
}

/// <summary>The sending device and where the conversation's project lives on it (used to rewrite paths).</summary>
public sealed record HandoffSource
{
    /// <summary>The sending device's id.</summary>
    public required string DeviceId { get; init; }

    /// <summary>Its display name.</summary>
    public string DeviceName { get; init; } = "";

    /// <summary>A free-form platform name ("linux", "windows", "macos", "ios", ...).</summary>
    public string Platform { get; init; } = "";

    /// <summary>The project's root folder on the sending device (a coding agent's working directory), if known.</summary>
    public string? ProjectRoot { get; init; }

    /// <summary>The sending user's home folder, if known; paths under it are rewritten to the receiver's home.</summary>
    public string? HomeDirectory { get; init; }

    /// <summary>"posix" or "windows": how the sending device writes paths.</summary>
    public string PathStyle { get; init; } = "posix";
}

/// <summary>The conversation's metadata.</summary>
public sealed record ConversationMetadata
{
    /// <summary>The conversation id (a Claude Code session id, a chat id, ...).</summary>
    public required string Id { get; init; }

    /// <summary>A short title.</summary>
    public string Title { get; init; } = "";

    /// <summary>When the conversation started.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>When it was last active.</summary>
    public DateTimeOffset? LastActivity { get; init; }

    /// <summary>How many messages the original conversation had (tool calls and results included).</summary>
    public int MessageCount { get; init; }

    /// <summary>How many tokens the original conversation had, by the token counter named in <see cref="CompressionInfo.TokenCounter"/>.</summary>
    public long TokenCount { get; init; }

    /// <summary>Where it was imported from: "claude-code-jsonl", "chat-json", or a host's own name.</summary>
    public string SourceFormat { get; init; } = "";

    /// <summary>The model that answered, if known.</summary>
    public string? Model { get; init; }

    /// <summary>The version-control branch the work was on, if known.</summary>
    public string? GitBranch { get; init; }
}

/// <summary>The conversation, compressed to what matters for carrying on.</summary>
public sealed record CompressedContext
{
    /// <summary>Decisions taken in the conversation, each the verbatim line it was stated in, oldest first.</summary>
    public IReadOnlyList<KeyDecision> KeyDecisions { get; init; } = [];

    /// <summary>The state of the work.</summary>
    public ProjectState ProjectState { get; init; } = new();

    /// <summary>Files the conversation worked on, most relevant first; paths as on the sending device.</summary>
    public IReadOnlyList<ActiveFile> ActiveFiles { get; init; } = [];

    /// <summary>Code the conversation wrote or quoted last.</summary>
    public IReadOnlyList<CodeSnippet> CodeSnippets { get; init; } = [];

    /// <summary>The agents' most important memories.</summary>
    public IReadOnlyList<AgentMemory> AgentMemories { get; init; } = [];

    /// <summary>The conversation thread: the last turns verbatim, earlier ones as salient excerpts, in order.</summary>
    public IReadOnlyList<ThreadEntry> Thread { get; init; } = [];

    /// <summary>How the context was compressed.</summary>
    public CompressionInfo Compression { get; init; } = new();
}

/// <summary>A decision taken in the conversation.</summary>
public sealed record KeyDecision
{
    /// <summary>The sentence that states it, verbatim.</summary>
    public required string Text { get; init; }

    /// <summary>Why, when the conversation said so next to it: the sentence that follows it in the same message, verbatim; "" when none.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The index of the message it was stated in.</summary>
    public int Turn { get; init; }

    /// <summary>Who stated it ("user" or "assistant").</summary>
    public string Role { get; init; } = "";

    /// <summary>When, if known.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

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

/// <summary>An error a tool reported, and the assistant's next words about it.</summary>
public sealed record ErrorAndFix
{
    /// <summary>The error: the first lines of the failing tool's output, verbatim (cut).</summary>
    public required string Error { get; init; }

    /// <summary>The first sentences the assistant wrote after it (its diagnosis or fix), verbatim; "" when none followed.</summary>
    public string Fix { get; init; } = "";

    /// <summary>The message index of the error.</summary>
    public int Turn { get; init; }
}

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

/// <summary>A piece of code from the conversation.</summary>
public sealed record CodeSnippet
{
    /// <summary>The file it belongs to, if known.</summary>
    public string? Path { get; init; }

    /// <summary>The language tag of the code fence, if any.</summary>
    public string Language { get; init; } = "";

    /// <summary>The code (at most 60 lines).</summary>
    public required string Text { get; init; }

    /// <summary>The message it came from.</summary>
    public int Turn { get; init; }
}

/// <summary>One memory of an agent.</summary>
public sealed record AgentMemory
{
    /// <summary>The agent it belongs to.</summary>
    public required string AgentId { get; init; }

    /// <summary>The memory.</summary>
    public required string Text { get; init; }

    /// <summary>Importance from 0 to 1; the rebuild loads higher first.</summary>
    public double Importance { get; init; }

    /// <summary>When it was recorded, if known.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
}

/// <summary>One entry of the compressed thread.</summary>
public sealed record ThreadEntry
{
    /// <summary>The message index in the original conversation (for "omitted", the first omitted one).</summary>
    public int Turn { get; init; }

    /// <summary>"user", "assistant" or "system".</summary>
    public string Role { get; init; } = "";

    /// <summary>"verbatim" (the whole text), "excerpt" (the most salient part), "summary" (written by a model) or "omitted" (a count).</summary>
    public string Kind { get; init; } = ThreadEntryKinds.Verbatim;

    /// <summary>The text.</summary>
    public string Text { get; init; } = "";

    /// <summary>The tools the message called, one compact line each ("Edit src/app.ts").</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>When, if known.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The tokens of <see cref="Text"/>.</summary>
    public int Tokens { get; init; }

    /// <summary>The salience score that ranked it (0 for the last turns, which are always kept).</summary>
    public double Salience { get; init; }
}

/// <summary>The values of <see cref="ThreadEntry.Kind"/>.</summary>
public static class ThreadEntryKinds
{
    /// <summary>The whole text of the message.</summary>
    public const string Verbatim = "verbatim";

    /// <summary>The most salient part of the message.</summary>
    public const string Excerpt = "excerpt";

    /// <summary>A summary written by a model (abstractive compression).</summary>
    public const string Summary = "summary";

    /// <summary>A count of messages left out.</summary>
    public const string Omitted = "omitted";
}

/// <summary>How a context was compressed.</summary>
public sealed record CompressionInfo
{
    /// <summary>"extractive" or "abstractive".</summary>
    public string Method { get; init; } = "extractive";

    /// <summary>The token budget the compressor aimed at (the last turns and decisions are kept even beyond it).</summary>
    public int TokenBudget { get; init; }

    /// <summary>Tokens of the original conversation.</summary>
    public long OriginalTokens { get; init; }

    /// <summary>Tokens of the compressed context.</summary>
    public long CompressedTokens { get; init; }

    /// <summary>Tool outputs left out.</summary>
    public int DroppedToolOutputs { get; init; }

    /// <summary>Of those, how many repeated an earlier output exactly.</summary>
    public int DuplicateToolOutputs { get; init; }

    /// <summary>Messages with text that appear in no thread entry.</summary>
    public int OmittedMessages { get; init; }

    /// <summary>The token counter used (see <see cref="ITokenCounter.Name"/>).</summary>
    public string TokenCounter { get; init; } = "";

    /// <summary>A note, for example why an abstractive compression fell back to extractive.</summary>
    public string? Note { get; init; }
}

/// <summary>The state of one agent, carried complete.</summary>
public sealed record AgentState
{
    /// <summary>The agent's id.</summary>
    public required string Id { get; init; }

    /// <summary>Its display name.</summary>
    public string Name { get; init; } = "";

    /// <summary>What it does.</summary>
    public string Role { get; init; } = "";

    /// <summary>Schema version 3: "main" (the conversation's assistant), "sub-agent" (started by a Task call) or "teammate" (of an agent team); "" when unknown.</summary>
    public string Kind { get; init; } = "";

    /// <summary>Schema version 3: its last state: "active", "running" (a sub-agent with no result yet), "completed", "failed", "idle" (a teammate waiting) or "terminated"; "" when unknown.</summary>
    public string Status { get; init; } = "";

    /// <summary>Schema version 3: the permission mode it ran in ("default", "acceptEdits", "plan", "bypassPermissions"), if known.</summary>
    public string? PermissionMode { get; init; }

    /// <summary>Schema version 3: the working directory it ran in on the sending device, if known.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Schema version 3: its todo list as it stood last, in order.</summary>
    public IReadOnlyList<TodoItem> Todos { get; init; } = [];

    /// <summary>Schema version 3: the project instructions it was given (CLAUDE.md files), in loading order, each capped.</summary>
    public IReadOnlyList<ProjectInstructionFile> ProjectInstructions { get; init; } = [];

    /// <summary>Restoration priority: lower is restored first.</summary>
    public int Priority { get; init; }

    /// <summary>Whether it was active on the sending device.</summary>
    public bool IsActive { get; init; }

    /// <summary>The model it runs on, if any.</summary>
    public string? Model { get; init; }

    /// <summary>Its current system prompt.</summary>
    public string SystemPrompt { get; init; } = "";

    /// <summary>How its prompt changed during the conversation.</summary>
    public IReadOnlyList<PromptChange> PromptChanges { get; init; } = [];

    /// <summary>Its context window.</summary>
    public AgentContextWindow ContextWindow { get; init; } = new();

    /// <summary>Its memories.</summary>
    public IReadOnlyList<AgentMemory> MemorySnapshot { get; init; } = [];

    /// <summary>Opaque state of the host (string keys and values), kept verbatim.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    /// <summary>The memory the agent needs when active, in bytes, as estimated by the sender; 0 lets the receiver estimate.</summary>
    public long EstimatedMemoryBytes { get; init; }

    /// <summary>
    /// Schema version 2: a pointer to the agent's latest checkpoint in an agent-state store (for example
    /// Ghostie.Sync.AgentState.Redis). When set, the package may carry only the agent's id, name, role, priority, model and
    /// memory estimate, and the receiver fetches the whole state from the store; null (always, in version 1): the state
    /// above is complete. A package with any pointer is written as schema version 2.
    /// </summary>
    public AgentStateCheckpointRef? Checkpoint { get; init; }
}

/// <summary>Where the whole state of an agent can be fetched from instead of the package (schema version 2).</summary>
public sealed record AgentStateCheckpointRef
{
    /// <summary>The kind of store that holds the checkpoint ("redis"); the receiver asks its own store of that kind.</summary>
    public required string Store { get; init; }

    /// <summary>The checkpoint's sequence number in the agent's chain (1 or more).</summary>
    public long Sequence { get; init; }

    /// <summary>SHA-256 (64 lowercase hex digits) of the state's canonical JSON, so the receiver can tell it got exactly that state.</summary>
    public required string StateSha256 { get; init; }

    /// <summary>When the checkpoint was written.</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A change of an agent's prompt.</summary>
public sealed record PromptChange
{
    /// <summary>When.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>The prompt after the change.</summary>
    public required string Prompt { get; init; }

    /// <summary>Why, if known.</summary>
    public string Reason { get; init; } = "";
}

/// <summary>An agent's context window.</summary>
public sealed record AgentContextWindow
{
    /// <summary>Its size in tokens.</summary>
    public int MaxTokens { get; init; }

    /// <summary>Its messages, oldest first.</summary>
    public IReadOnlyList<AgentMessage> Messages { get; init; } = [];
}

/// <summary>A message in an agent's context window.</summary>
public sealed record AgentMessage
{
    /// <summary>"system", "user", "assistant" or "tool".</summary>
    public required string Role { get; init; }

    /// <summary>The text.</summary>
    public required string Text { get; init; }
}

/// <summary>The embeddings relevant to the conversation.</summary>
public sealed record EmbeddingSet
{
    /// <summary>The embedding model (vectors of different models are not comparable).</summary>
    public required string Model { get; init; }

    /// <summary>The dimensions of every vector.</summary>
    public int Dimensions { get; init; }

    /// <summary>Only embeddings whose cosine similarity to the reference reached this value were kept (default 0.85).</summary>
    public double SimilarityThreshold { get; init; }

    /// <summary>What similarity was measured against ("conversation" for the host's reference vector).</summary>
    public string Reference { get; init; } = "";

    /// <summary>The kept embeddings, most similar first.</summary>
    public IReadOnlyList<EmbeddingEntry> Entries { get; init; } = [];
}

/// <summary>One embedding.</summary>
public sealed record EmbeddingEntry
{
    /// <summary>Its id.</summary>
    public required string Id { get; init; }

    /// <summary>What it embeds ("turn:12", "decision:3", "file:src/app.ts", a memory id, ...).</summary>
    public string Source { get; init; } = "";

    /// <summary>The embedded text, if the host kept it.</summary>
    public string? Text { get; init; }

    /// <summary>Its cosine similarity to the reference.</summary>
    public double Similarity { get; init; }

    /// <summary>The vector; in JSON the base64 of its little-endian IEEE 754 float32 values, exact.</summary>
    [JsonConverter(typeof(Float32Base64Converter))]
    public required float[] Vector { get; init; }
}

/// <summary>How the receiving device rebuilds the conversation.</summary>
public sealed record ReconstructionInstructions
{
    /// <summary>The context sections in loading order (see <see cref="ContextSections"/>).</summary>
    public IReadOnlyList<string> ContextPriorities { get; init; } = [];

    /// <summary>Agent ids in activation order.</summary>
    public IReadOnlyList<string> AgentActivationOrder { get; init; } = [];

    /// <summary>"priority-then-lazy": agents and vectors load by priority within the device's budget, the rest on demand.</summary>
    public string MemoryLoadingStrategy { get; init; } = "priority-then-lazy";

    /// <summary>Where to carry on.</summary>
    public ResumptionPoint ResumptionPoint { get; init; } = new();
}

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

/// <summary>Where the conversation stopped.</summary>
public sealed record ResumptionPoint
{
    /// <summary>The index of the last message.</summary>
    public int Turn { get; init; }

    /// <summary>Who spoke last.</summary>
    public string Role { get; init; } = "";

    /// <summary>The person's last instruction, verbatim: the last message they wrote themselves (never a teammate's report,
    /// a tool result or a message the host injected in their place).</summary>
    public string LastUserMessage { get; init; } = "";

    /// <summary>Schema version 3: the index of the message <see cref="LastUserMessage"/> is; null when unknown (older packages) or none.</summary>
    public int? LastUserTurn { get; init; }

    /// <summary>What was happening: the last assistant text (excerpt) or the pending tool call.</summary>
    public string Summary { get; init; } = "";
}

/// <summary>What secret scrubbing removed.</summary>
public sealed record ScrubSummary
{
    /// <summary>Secrets removed in all.</summary>
    public int SecretsRemoved { get; init; }

    /// <summary>By rule name (for example "openai-key": 2).</summary>
    public IReadOnlyDictionary<string, int> ByKind { get; init; } = new Dictionary<string, int>();
}
