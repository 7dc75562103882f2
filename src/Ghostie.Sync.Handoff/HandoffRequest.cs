namespace Ghostie.Sync.Handoff;

/// <summary>What to hand off.</summary>
public sealed class HandoffRequest
{
    /// <summary>The conversation (from an importer or built by the host). It is scrubbed of secrets in place.</summary>
    public required ConversationTranscript Transcript { get; init; }

    /// <summary>The device id the package is for; null for any device of the repository.</summary>
    public string? TargetDeviceId { get; init; }

    /// <summary>A title; default the transcript's, else its first user message.</summary>
    public string? Title { get; init; }

    /// <summary>The agents to carry; null derives them from the transcript (the main assistant, and one per sub-agent task).</summary>
    public IReadOnlyList<AgentState>? Agents { get; init; }

    /// <summary>Candidate embeddings; only those similar enough to the reference travel.</summary>
    public EmbeddingCandidates? Embeddings { get; init; }

    /// <summary>Overrides <see cref="HandoffOptions.TimeToLive"/> for this package.</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>The sending user's home folder (default: this user's), used to rewrite paths on the receiver.</summary>
    public string? HomeDirectory { get; init; }

    /// <summary>Told as each stage of <see cref="HandoffService.CreateAsync"/> (or <see cref="HandoffService.BuildAsync"/>) begins, for long transcripts.</summary>
    public IProgress<HandoffStage>? Progress { get; init; }
}
