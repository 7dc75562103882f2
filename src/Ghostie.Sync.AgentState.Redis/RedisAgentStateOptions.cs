namespace Ghostie.Sync.AgentState.Redis;

/// <summary>Settings of <see cref="RedisAgentStateStore"/> and <see cref="AgentStateCheckpointer"/>. Checked by <see cref="Validate"/> (at start with dependency injection).</summary>
public sealed class RedisAgentStateOptions
{
    /// <summary>
    /// The StackExchange.Redis configuration string (default <c>localhost:6379</c>), for example
    /// <c>redis.example:6380,ssl=true,password=...</c>. It may hold a password: it is never logged or put in an error message.
    /// </summary>
    public string Configuration { get; set; } = "localhost:6379";

    /// <summary>Prefix of every key (default <c>ghostie:as:</c>); keys are <c>&lt;prefix&gt;{&lt;repository tag&gt;:&lt;agent tag&gt;}:…</c>.</summary>
    public string KeyPrefix { get; set; } = "ghostie:as:";

    /// <summary>How often <see cref="AgentStateCheckpointer"/> checkpoints the agents it tracks (default 5 minutes).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long an agent's checkpoints live in Redis after its last checkpoint (default 7 days, the default lifetime of a
    /// handoff package, so a package's pointer resolves for as long as the package is offered). Every checkpoint renews it.
    /// </summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The most deltas a chain holds before the next checkpoint is written as a new snapshot (default 16; 0: snapshots only).</summary>
    public int MaxDeltas { get; set; } = 16;

    /// <summary>
    /// A chain is also re-based into a snapshot when its deltas would add up to more than this fraction of its snapshot's
    /// size (default 1: once the deltas outweigh the snapshot, reading a new snapshot is cheaper than reading the chain).
    /// </summary>
    public double RebaseAtDeltaFraction { get; set; } = 1.0;

    /// <summary>How long one Redis operation may take before it counts as "Redis unavailable" (default 5 seconds).</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The folder where states that Redis could not take are kept, sealed, until it takes them (with dependency injection,
    /// default <c>&lt;Ghostie home&gt;/agent-state/pending</c>). Null keeps them in memory only: lost if the process ends first.
    /// </summary>
    public string? LocalPath { get; set; }

    /// <summary>The clock of the schedule and of checkpoint times (default the system clock).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks the options.</summary>
    /// <exception cref="GhostieSyncException">A value is out of range (<see cref="GhostieErrorCode.InvalidArgument"/>), naming it.</exception>
    public void Validate()
    {
        IReadOnlyList<string> errors = GetValidationErrors();
        if (errors.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "RedisAgentStateOptions: " + string.Join(" ", errors));
        }
    }

    internal IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            errors.Add("Configuration is empty: give the Redis endpoint, for example 'localhost:6379'.");
        }

        if (KeyPrefix is null || KeyPrefix.Contains('{', StringComparison.Ordinal) || KeyPrefix.Contains('}', StringComparison.Ordinal))
        {
            errors.Add("KeyPrefix must not contain '{' or '}' (the keys' hash tag follows it).");
        }

        if (CheckpointInterval <= TimeSpan.Zero)
        {
            errors.Add($"CheckpointInterval is {CheckpointInterval}: it must be positive.");
        }

        if (TimeToLive < TimeSpan.FromSeconds(1))
        {
            errors.Add($"TimeToLive is {TimeToLive}: it must be at least 1 second.");
        }

        if (MaxDeltas is < 0 or > 1000)
        {
            errors.Add($"MaxDeltas is {MaxDeltas}: it must be between 0 and 1000.");
        }

        if (!(RebaseAtDeltaFraction > 0) || RebaseAtDeltaFraction > 100)
        {
            errors.Add($"RebaseAtDeltaFraction is {RebaseAtDeltaFraction}: it must be above 0 and at most 100.");
        }

        if (OperationTimeout < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"OperationTimeout is {OperationTimeout}: it must be at least 100 ms.");
        }

        if (TimeProvider is null)
        {
            errors.Add("TimeProvider is null.");
        }

        return errors;
    }
}
