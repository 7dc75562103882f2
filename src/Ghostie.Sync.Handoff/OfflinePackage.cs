namespace Ghostie.Sync.Handoff;

/// <summary>
/// What a device keeps to carry on a conversation with no connection: the last 10 messages, the key decisions, the
/// project summary, code snippets and the agents' essentials (prompt and memories, without their context windows).
/// </summary>
public sealed record OfflinePackage
{
    /// <summary>The package it was made from.</summary>
    public required string PackageId { get; init; }

    /// <summary>The conversation.</summary>
    public required ConversationMetadata Conversation { get; init; }

    /// <summary>When it was made.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The last messages, verbatim (at most 10).</summary>
    public IReadOnlyList<ThreadEntry> LastMessages { get; init; } = [];

    /// <summary>The key decisions.</summary>
    public IReadOnlyList<KeyDecision> KeyDecisions { get; init; } = [];

    /// <summary>The project summary, open questions and next steps.</summary>
    public ProjectState ProjectState { get; init; } = new();

    /// <summary>The latest code.</summary>
    public IReadOnlyList<CodeSnippet> CodeSnippets { get; init; } = [];

    /// <summary>The agents, without their context windows.</summary>
    public IReadOnlyList<AgentState> AgentSnapshots { get; init; } = [];

    /// <summary>Makes the offline package of <paramref name="package"/>.</summary>
    /// <param name="package">A fetched package.</param>
    /// <param name="now">The time of making.</param>
    public static OfflinePackage From(HandoffPackage package, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(package);
        return new OfflinePackage
        {
            PackageId = package.PackageId,
            Conversation = package.Conversation,
            CreatedAt = now,
            LastMessages = package.Context.Thread.Where(e => e.Kind == ThreadEntryKinds.Verbatim).TakeLast(10).ToArray(),
            KeyDecisions = package.Context.KeyDecisions,
            ProjectState = package.Context.ProjectState,
            CodeSnippets = package.Context.CodeSnippets,
            AgentSnapshots = package.Agents.Select(a => a with { ContextWindow = new AgentContextWindow { MaxTokens = a.ContextWindow.MaxTokens } }).ToArray(),
        };
    }
}
