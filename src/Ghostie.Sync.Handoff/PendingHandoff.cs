namespace Ghostie.Sync.Handoff;

/// <summary>A package waiting for this device, as listed (from its manifest, without decompressing it).</summary>
public sealed record PendingHandoff
{
    /// <summary>The package id.</summary>
    public required string PackageId { get; init; }

    /// <summary>Its storage name.</summary>
    public required string ObjectName { get; init; }

    /// <summary>The conversation id.</summary>
    public required string ConversationId { get; init; }

    /// <summary>The conversation's title.</summary>
    public string Title { get; init; } = "";

    /// <summary>The sending device.</summary>
    public required string SourceDeviceId { get; init; }

    /// <summary>Its display name.</summary>
    public string SourceDeviceName { get; init; } = "";

    /// <summary>The device it is addressed to; null for any.</summary>
    public string? TargetDeviceId { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it expires; null never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Bytes stored.</summary>
    public long StoredBytes { get; init; }

    /// <summary>Messages of the original conversation.</summary>
    public int MessageCount { get; init; }

    /// <summary>Tokens of the original conversation.</summary>
    public long TokenCount { get; init; }

    /// <summary>Agents carried.</summary>
    public int Agents { get; init; }

    /// <summary>Embeddings carried.</summary>
    public int Embeddings { get; init; }

    /// <summary>Secrets scrubbed on the sending device.</summary>
    public int SecretsRemoved { get; init; }

    /// <summary>The estimated fetch-and-rebuild time.</summary>
    public TimeSpan EstimatedLoadTime { get; init; }
}
