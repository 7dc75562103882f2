using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.Vectors.Tiers.Internal;

/// <summary>Log messages of the tiered store. Keys, tiers, counts and error types only: never a vector or memory content.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6100, Level = LogLevel.Warning, Message = "Vector tier {Tier} of collection '{Collection}' timed out after {TimeoutMs} ms; searching without it")]
    public static partial void TierTimedOut(this ILogger logger, VectorTier tier, string collection, double timeoutMs);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Vector tier {Tier} of collection '{Collection}' failed ({ErrorType}); searching without it")]
    public static partial void TierFailed(this ILogger logger, VectorTier tier, string collection, string errorType);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Information, Message = "Rebalanced vector collection '{Collection}': {Moves} moved, {Failures} failed, {Admitted} cached on the edge, {Evicted} evicted")]
    public static partial void Rebalanced(this ILogger logger, string collection, int moves, int failures, int admitted, int evicted);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "Moving vectors of collection '{Collection}' from {From} to {To} failed ({ErrorType}); they stay where they are")]
    public static partial void MoveFailed(this ILogger logger, string collection, VectorTier from, VectorTier to, string errorType);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Warning, Message = "Updating the edge cache of collection '{Collection}' failed ({ErrorType})")]
    public static partial void EdgeUpdateFailed(this ILogger logger, string collection, string errorType);

    [LoggerMessage(EventId = 6106, Level = LogLevel.Warning, Message = "Removing a left-over copy from vector tier {Tier} of collection '{Collection}' failed ({ErrorType}); the next rebalance tries again")]
    public static partial void StrayDeleteFailed(this ILogger logger, VectorTier tier, string collection, string errorType);

    [LoggerMessage(EventId = 6105, Level = LogLevel.Warning, Message = "Vector tier {Tier} of collection '{Collection}' holds {Count} vectors, over its capacity of {Capacity}")]
    public static partial void OverCapacity(this ILogger logger, VectorTier tier, string collection, int count, int capacity);

    [LoggerMessage(EventId = 6107, Level = LogLevel.Warning, Message = "The saved usage of vector collection '{Collection}' was not restored; starting with an empty usage table: {Problem}")]
    public static partial void UsageNotRestored(this ILogger logger, string collection, string problem);

    [LoggerMessage(EventId = 6108, Level = LogLevel.Warning, Message = "Saving the usage of vector collection '{Collection}' failed ({ErrorType}); the next save tries again")]
    public static partial void UsageSaveFailed(this ILogger logger, string collection, string errorType);

    [LoggerMessage(EventId = 6109, Level = LogLevel.Warning, Message = "The periodic rebalance of vector collection '{Collection}' failed ({ErrorType}); the next one tries again")]
    public static partial void RebalanceFailed(this ILogger logger, string collection, string errorType);
}
