namespace Ghostie.Sync.AgentState.Redis;

/// <summary>What went wrong with the agent-state store.</summary>
public enum AgentStateFailure
{
    /// <summary>Redis could not be reached, went away during the write, or did not answer in time.</summary>
    Unavailable = 1,

    /// <summary>Redis refused the credentials (a wrong or missing password or user: NOAUTH, WRONGPASS).</summary>
    AuthenticationFailed = 2,

    /// <summary>Redis is full: it reached <c>maxmemory</c> under the <c>noeviction</c> policy and refuses writes (OOM).</summary>
    ServerFull = 3,

    /// <summary>Another writer kept moving the agent's chain head: the checkpoint could not be placed after three tries.</summary>
    Conflict = 4,
}

/// <summary>
/// A checkpoint could not be written to Redis. Nothing is lost: when <see cref="KeptLocally"/> is true the state is kept
/// on this device and written by the next <see cref="RedisAgentStateStore.FlushPendingAsync"/> (the checkpointer calls it
/// on every run, and the store when the connection comes back), and what Redis already held stays readable.
/// </summary>
public sealed class AgentStateStoreException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="failure">What went wrong.</param>
    /// <param name="agentId">The agent whose checkpoint failed.</param>
    /// <param name="endpoint">The Redis endpoint (host and port only, never a password).</param>
    /// <param name="keptLocally">Whether the state was kept on this device.</param>
    /// <param name="localPath">Where it is kept, when in a file.</param>
    /// <param name="innerException">The client's error.</param>
    public AgentStateStoreException(AgentStateFailure failure, string agentId, string endpoint, bool keptLocally, string? localPath, Exception? innerException = null)
        : base(CodeOf(failure), MessageOf(failure, agentId, endpoint, keptLocally, localPath), failure is not AgentStateFailure.AuthenticationFailed, innerException)
    {
        Failure = failure;
        AgentId = agentId;
        Endpoint = endpoint;
        KeptLocally = keptLocally;
        LocalPath = localPath;
    }

    /// <summary>What went wrong.</summary>
    public AgentStateFailure Failure { get; }

    /// <summary>The agent whose checkpoint failed.</summary>
    public string AgentId { get; }

    /// <summary>The Redis endpoint (host:port).</summary>
    public string Endpoint { get; }

    /// <summary>Whether the state was kept on this device, to be written when Redis takes it.</summary>
    public bool KeptLocally { get; }

    /// <summary>The file the state is kept in; null when kept in memory (no <see cref="RedisAgentStateOptions.LocalPath"/>).</summary>
    public string? LocalPath { get; }

    private static GhostieErrorCode CodeOf(AgentStateFailure failure) => failure switch
    {
        AgentStateFailure.AuthenticationFailed => GhostieErrorCode.AccessDenied,
        AgentStateFailure.Conflict => GhostieErrorCode.Busy,
        _ => GhostieErrorCode.BackendUnavailable,
    };

    private static string MessageOf(AgentStateFailure failure, string agentId, string endpoint, bool keptLocally, string? localPath)
    {
        string what = failure switch
        {
            AgentStateFailure.AuthenticationFailed =>
                $"Redis at {endpoint} refused the credentials (NOAUTH/WRONGPASS) for the checkpoint of agent '{agentId}'. Check the password (and user) in the Redis configuration string, or the server's requirepass/ACL.",
            AgentStateFailure.ServerFull =>
                $"Redis at {endpoint} is full (maxmemory reached with the noeviction policy: OOM) and refused the checkpoint of agent '{agentId}'. Raise maxmemory, free memory, or lower RedisAgentStateOptions.TimeToLive; earlier checkpoints stay readable.",
            AgentStateFailure.Conflict =>
                $"The checkpoint chain of agent '{agentId}' in Redis at {endpoint} kept changing under this writer (another process writes the same agent). Write each agent from one process.",
            _ =>
                $"Redis at {endpoint} could not be reached or went away during the checkpoint of agent '{agentId}'. Check that the server runs and is reachable; earlier checkpoints stay readable.",
        };
        string kept = !keptLocally ? ""
            : localPath is null ? " The state is kept in this process's memory and is written when Redis takes it again (FlushPendingAsync)."
            : $" The state is kept on this device in {localPath} and is written when Redis takes it again (FlushPendingAsync).";
        return what + kept;
    }
}
