namespace Ghostie.Sync.Handoff;

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
