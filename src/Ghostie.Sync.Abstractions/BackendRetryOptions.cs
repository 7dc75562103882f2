namespace Ghostie.Sync;

/// <summary>How a remote backend retries transient failures: bounded exponential backoff with full jitter, and
/// throttling hints (Retry-After, rate-limit reset) honoured up to a ceiling.</summary>
/// <remarks>The options are public (each remote backend's options carry one, as <c>Retry</c>); the retry loop that
/// reads them is internal source shared by the remote backends (src/Shared/Retry, see docs/architecture.md).</remarks>
public sealed class BackendRetryOptions
{
    /// <summary>Attempts in total, the first included (default 5). 1 disables retrying.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The backoff before the second attempt; it doubles per attempt (default 200 ms).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest backoff between two attempts when the server gave no hint (default 20 s).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The longest wait a server's throttling hint may impose; a longer hint fails at once as throttled
    /// (default 2 minutes), so a caller is never parked for an hour by a rate-limit reset.</summary>
    public TimeSpan MaxThrottleDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one attempt may take before it counts as a transient timeout (default 100 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> disables it).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>The clock backoff waits on (tests inject one that records the waits).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Seeds the jitter for reproducible tests; null uses a shared random source.</summary>
    public int? JitterSeed { get; set; }

    /// <summary>Throws a clear error when a value is out of range.</summary>
    /// <exception cref="GhostieSyncException">A value is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        if (MaxAttempts is < 1 or > 100)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"BackendRetryOptions.MaxAttempts is {MaxAttempts}; use 1 to 100.");
        }

        if (BaseDelay < TimeSpan.Zero || MaxDelay < BaseDelay || MaxThrottleDelay < TimeSpan.Zero)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "BackendRetryOptions delays must be non-negative, with MaxDelay >= BaseDelay.");
        }

        if (AttemptTimeout <= TimeSpan.Zero && AttemptTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "BackendRetryOptions.AttemptTimeout must be positive (or Timeout.InfiniteTimeSpan).");
        }
    }
}
