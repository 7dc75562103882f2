namespace Ghostie.Sync.Handoff;

/// <summary>The outcome of storing a package.</summary>
public sealed record HandoffCreateResult
{
    /// <summary>The package id (use it to resume).</summary>
    public required string PackageId { get; init; }

    /// <summary>The opaque storage name of the package.</summary>
    public required string ObjectName { get; init; }

    /// <summary>The device it is addressed to; null for any.</summary>
    public string? TargetDeviceId { get; init; }

    /// <summary>Bytes stored in the repository (encrypted).</summary>
    public long StoredBytes { get; init; }

    /// <summary>Bytes of the package JSON before Brotli.</summary>
    public long JsonBytes { get; init; }

    /// <summary>Bytes of the source: the raw transcript file when imported from one, else the package JSON.</summary>
    public long SourceBytes { get; init; }

    /// <summary><see cref="SourceBytes"/> divided by <see cref="StoredBytes"/> (for example 40 means 40 times smaller).</summary>
    public double CompressionRatio { get; init; }

    /// <summary>The estimated time for a phone to fetch and rebuild it (see <see cref="HandoffOptions.NetworkBytesPerSecond"/>).</summary>
    public TimeSpan EstimatedLoadTime { get; init; }

    /// <summary>What secret scrubbing removed.</summary>
    public ScrubSummary Scrubbing { get; init; } = new();

    /// <summary>When the package expires; null never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The package as stored.</summary>
    public required HandoffPackage Package { get; init; }
}
