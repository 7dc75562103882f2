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
