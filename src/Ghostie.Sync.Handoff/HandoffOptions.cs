
namespace Ghostie.Sync.Handoff;

/// <summary>Options of conversation handoff.</summary>
public sealed class HandoffOptions
{
    /// <summary>How long a package stays on offer (default 7 days); null never expires. Expired packages are deleted when listed.</summary>
    public TimeSpan? TimeToLive { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Context compression budgets and the token counter.</summary>
    public CompressionOptions Compression { get; set; } = new();

    /// <summary>Embeddings whose cosine similarity to the reference is below this are left out (default 0.85).</summary>
    public double SimilarityThreshold { get; set; } = 0.85;

    /// <summary>At most this many embeddings travel, the most similar first (default 2,000).</summary>
    public int MaxEmbeddings { get; set; } = 2_000;

    /// <summary>Brotli quality of the package JSON, 0 to 11 (default 5: on conversation text about 20% larger than 11 and 200 times faster).</summary>
    public int BrotliQuality { get; set; } = 5;

    /// <summary>Brotli quality for packages whose JSON exceeds <see cref="LargePackageJsonBytes"/> (default 1). Such packages
    /// are mostly embeddings, which do not compress: a higher quality costs tens of milliseconds and saves under 1%.</summary>
    public int LargePackageBrotliQuality { get; set; } = 1;

    /// <summary>The JSON size above which <see cref="LargePackageBrotliQuality"/> applies (default 262,144 bytes).</summary>
    public int LargePackageJsonBytes { get; set; } = 256 * 1024;

    /// <summary>Whether resuming a package deletes it from the repository (default true: a package is consumed once).</summary>
    public bool DeleteOnResume { get; set; } = true;

    /// <summary>The largest stored package accepted, in bytes (default 256 MiB); larger objects are refused unread.</summary>
    public long MaxPackageBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The download speed assumed by the load-time estimate, in bytes per second (default 1,250,000: 10 Mbit/s, a modest cellular link).</summary>
    public double NetworkBytesPerSecond { get; set; } = 1_250_000;

    /// <summary>The decrypt, decompress and parse speed assumed by the load-time estimate, in bytes of package JSON per second (default 50,000,000: a phone).</summary>
    public double DecodeBytesPerSecond { get; set; } = 50_000_000;

    /// <summary>The platform recorded as the source of packages (default: this operating system, "linux", "windows", "macos", ...).</summary>
    public string Platform { get; set; } = OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsMacOS() ? "macos" : OperatingSystem.IsLinux() ? "linux" : "other";

    /// <summary>Migrations from older schema versions (none exist: version 1 is the first, and version 2 reads it as is).</summary>
    public IList<IHandoffMigration> Migrations { get; } = [];

    /// <summary>With dependency injection: use <see cref="AbstractiveCompressor"/> over the registered <c>IChatClient</c> (default false).</summary>
    public bool UseAbstractiveCompression { get; set; }

    /// <summary>The clock (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// How long a device's claim on a package it is resuming holds against other devices (default 5 minutes). Claims
    /// are made only on backends with conditional writes (<see cref="IConditionalStorageBackend"/>); a claim older
    /// than this, left by a device that crashed mid-resume, may be taken over.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Throws unless every value is in range.</summary>
    /// <exception cref="GhostieSyncException">A value is out of range (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        string? problem = null;
        if (TimeToLive is { } ttl && ttl <= TimeSpan.Zero)
        {
            problem = "TimeToLive must be positive (or null for never)";
        }
        else if (SimilarityThreshold is < -1 or > 1 || double.IsNaN(SimilarityThreshold))
        {
            problem = "SimilarityThreshold must be between -1 and 1";
        }
        else if (MaxEmbeddings < 0)
        {
            problem = "MaxEmbeddings must not be negative";
        }
        else if (BrotliQuality is < 0 or > 11 || LargePackageBrotliQuality is < 0 or > 11)
        {
            problem = "BrotliQuality and LargePackageBrotliQuality must be 0 to 11";
        }
        else if (LargePackageJsonBytes < 0)
        {
            problem = "LargePackageJsonBytes must not be negative";
        }
        else if (MaxPackageBytes < 1024)
        {
            problem = "MaxPackageBytes must be at least 1,024";
        }
        else if (!(NetworkBytesPerSecond > 0) || !(DecodeBytesPerSecond > 0))
        {
            problem = "NetworkBytesPerSecond and DecodeBytesPerSecond must be positive";
        }
        else if (ClaimTimeout <= TimeSpan.Zero)
        {
            problem = "ClaimTimeout must be positive";
        }
        else if (Compression is null || TimeProvider is null)
        {
            problem = "Compression and TimeProvider must be set";
        }

        if (problem is not null)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"HandoffOptions: {problem}.");
        }

        Compression!.Validate();
    }

}

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

/// <summary>The stages of creating a package, in order.</summary>
public enum HandoffStage
{
    /// <summary>Removing secrets from the transcript, agents and title.</summary>
    Scrubbing,

    /// <summary>Compressing the context.</summary>
    Compressing,

    /// <summary>Selecting the embeddings similar enough to travel.</summary>
    SelectingEmbeddings,

    /// <summary>Serializing, compressing, encrypting and writing the package.</summary>
    Storing,

    /// <summary>The package is in the repository.</summary>
    Stored,
}

/// <summary>Embeddings offered for a package: each is kept when its cosine similarity to <see cref="Reference"/> reaches the threshold.</summary>
public sealed class EmbeddingCandidates
{
    /// <summary>The embedding model's name.</summary>
    public required string Model { get; init; }

    /// <summary>The reference vector: what "relevant" means (for example the embedding of the conversation's last turns).</summary>
    public required float[] Reference { get; init; }

    /// <summary>The candidates; their <see cref="EmbeddingEntry.Similarity"/> is computed, whatever it was.</summary>
    public required IReadOnlyList<EmbeddingEntry> Candidates { get; init; }

    /// <summary>What the reference stands for (default "conversation").</summary>
    public string ReferenceName { get; init; } = "conversation";
}

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

/// <summary>Pending packages, and the objects that could not be read (named, never silently dropped).</summary>
/// <param name="Pending">Packages for this device, oldest first.</param>
/// <param name="Problems">Objects skipped, with why.</param>
/// <param name="ExpiredDeleted">Expired packages deleted while listing.</param>
public sealed record HandoffListing(IReadOnlyList<PendingHandoff> Pending, IReadOnlyList<SyncProblem> Problems, int ExpiredDeleted);
