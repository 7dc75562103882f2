using Microsoft.Extensions.Logging;

namespace Ghostie.Sync.AgentState.Redis.Internal;

/// <summary>Log messages (event ids 7000-7099). Never a state, a key, a password or a configuration string.</summary>
internal static partial class Log
{
    [LoggerMessage(7000, LogLevel.Debug, "Checkpoint {Sequence} of agent {AgentId} written as a {Kind} ({Bytes} bytes).")]
    public static partial void CheckpointWritten(ILogger logger, string agentId, long sequence, CheckpointKind kind, long bytes);

    [LoggerMessage(7001, LogLevel.Warning, "Checkpoint of agent {AgentId} not written to Redis at {Endpoint} ({Failure}); the state is kept on this device until Redis takes it.")]
    public static partial void KeptLocally(ILogger logger, string agentId, string endpoint, AgentStateFailure failure);

    [LoggerMessage(7002, LogLevel.Information, "Wrote {Count} state(s) kept on this device to Redis at {Endpoint}.")]
    public static partial void Flushed(ILogger logger, int count, string endpoint);

    [LoggerMessage(7003, LogLevel.Warning, "Agent {AgentId}: the chain head names checkpoint {HeadSequence}, recovered to {Sequence}: {Problem}")]
    public static partial void ChainRecovered(ILogger logger, string agentId, long headSequence, long sequence, string problem);

    [LoggerMessage(7004, LogLevel.Warning, "Writing the states kept on this device after the connection to {Endpoint} came back failed; the next run tries again.")]
    public static partial void FlushFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(7005, LogLevel.Warning, "Scheduled checkpoint of agent {AgentId} failed.")]
    public static partial void ScheduledCheckpointFailed(ILogger logger, string agentId, Exception exception);

    [LoggerMessage(7006, LogLevel.Warning, "A state kept on this device in {Path} cannot be read and is left in place: {Reason}")]
    public static partial void PendingUnreadable(ILogger logger, string path, string reason);
}
