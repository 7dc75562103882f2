namespace Ghostie.Sync.Handoff;

/// <summary>
/// A conversation handed from one device to another: metadata, the compressed context, agent states, the relevant
/// embeddings and how to rebuild it all. Schema version 3; the
/// JSON shape (snake_case) is described field by field in docs/handoff.md. Data only: no type names are ever read.
/// </summary>
public sealed record HandoffPackage
{
    /// <summary>
    /// The schema version this package was read with (1, 2 or 3); when writing, the serializer sets it to the lowest version
    /// that expresses the package (docs/handoff.md, <c>schema_version</c>). A reader refuses a greater value than the
    /// version it writes (3 in this build) with an "upgrade" error (<see cref="UnsupportedFormatException"/>).
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
