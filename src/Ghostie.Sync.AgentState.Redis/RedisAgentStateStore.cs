using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Ghostie.Sync.AgentState.Redis.Internal;
using Ghostie.Sync.Crypto;
using Ghostie.Sync.Handoff;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Ghostie.Sync.AgentState.Redis;

/// <summary>
/// Encrypted checkpoints of agent states in Redis: per agent, a snapshot and a bounded chain of deltas behind a head
/// that moves (atomically, in a Lua script) only after the checkpoint it names is written; a TTL renewed by every
/// checkpoint; recovery to the latest consistent checkpoint; and a local outbox for states written while Redis is away.
/// Redis holds only ciphertext sealed with the repository's <see cref="ObjectCipher"/>, under keys built for Redis
/// Cluster (one hash tag per repository and agent). Layout and guarantees: docs/agent-state.md. Thread-safe; checkpoints
/// of one agent are written one at a time.
/// </summary>
public sealed partial class RedisAgentStateStore : IAsyncDisposable
{
    /// <summary>The <see cref="AgentStateCheckpointRef.Store"/> name of this store.</summary>
    public const string StoreName = "redis";

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly IDisposable? _owned;
    private readonly RepositoryKeys _keys;
    private readonly RedisAgentStateOptions _options;
    private readonly ILogger _logger;
    private readonly LocalOutbox _outbox;
    private readonly string _repositoryTag;
    private readonly ConcurrentDictionary<string, AgentSlot> _agents = new(StringComparer.Ordinal);
    private int _disposed;

    private RedisAgentStateStore(IConnectionMultiplexer connection, bool ownsConnection, RepositoryKeys keys, RedisAgentStateOptions options, ILogger? logger, IDisposable? owned)
    {
        _connection = connection;
        _ownsConnection = ownsConnection;
        _owned = owned;
        _keys = keys;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _outbox = new LocalOutbox(options.LocalPath, keys.Cipher, _logger);
        _repositoryTag = keys.DeriveObjectName("", "redis-agent-state-repository", [])[..16];
        Endpoint = DescribeEndpoints(connection.Configuration);
        _connection.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>The Redis endpoint(s), host:port only (for messages; never a password).</summary>
    public string Endpoint { get; }

    /// <summary>Test hook: runs after a checkpoint object is written and before the head moves (to tear a write there).</summary>
    internal Func<string, CancellationToken, Task>? BetweenSteps { get; set; }

    /// <summary>
    /// Connects to Redis and returns a store that owns the connection. The connection is lazy about failures: a store is
    /// returned even while Redis is down (checkpoints are then kept locally until it is back).
    /// </summary>
    /// <param name="keys">The unlocked repository keys (their cipher seals everything Redis holds). Not owned.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="logger">Optional logger.</param>
    /// <param name="owned">Disposed with the store (for example the sync manager the keys belong to).</param>
    /// <exception cref="GhostieSyncException">The options are invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public static async Task<RedisAgentStateStore> ConnectAsync(RepositoryKeys keys, RedisAgentStateOptions options, ILogger? logger = null, IDisposable? owned = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(options.Configuration);
        }
        catch (ArgumentException e)
        {
            // The message of the parser may quote the string, which may hold a password: say only which option is wrong.
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument,
                "RedisAgentStateOptions.Configuration is not a valid StackExchange.Redis configuration string (host:port,option=value,...): " + FirstWord(e.Message), innerException: null);
        }

        configuration.AbortOnConnectFail = false; // keep working while Redis is away; checkpoints wait in the outbox
        int timeout = (int)options.OperationTimeout.TotalMilliseconds;
        configuration.ConnectTimeout = timeout;
        configuration.AsyncTimeout = timeout;
        configuration.SyncTimeout = timeout;
        configuration.ConnectRetry = 1;
        configuration.BacklogPolicy = BacklogPolicy.FailFast; // a command while disconnected fails now and goes to the outbox, not to a queue in memory
        IConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        return new RedisAgentStateStore(connection, ownsConnection: true, keys, options, logger, owned);
    }

    /// <summary>A store over a connection the caller owns (and configures: <c>AbortOnConnectFail=false</c> is advised).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="keys">The unlocked repository keys. Not owned.</param>
    /// <param name="options">The options; validated here (<see cref="RedisAgentStateOptions.Configuration"/> is not used).</param>
    /// <param name="logger">Optional logger.</param>
    public static RedisAgentStateStore Create(IConnectionMultiplexer connection, RepositoryKeys keys, RedisAgentStateOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new RedisAgentStateStore(connection, ownsConnection: false, keys, options, logger, owned: null);
    }

    /// <summary>The Redis key of an agent's chain head: <c>&lt;prefix&gt;{&lt;repository tag&gt;:&lt;agent tag&gt;}:h</c>.</summary>
    /// <param name="agentId">The agent.</param>
    public string HeadKeyOf(string agentId) => Slot(agentId).HeadKey;

    /// <summary>
    /// The agents with a state kept on this device (Redis could not take it yet): written by <see cref="FlushPendingAsync"/>.
    /// </summary>
    public IReadOnlyList<string> PendingAgents() =>
        [.. _outbox.Tags().Select(_outbox.Get).OfType<PendingState>().Select(p => p.AgentId)];

    private IDatabase Database => _connection.GetDatabase();

    private AgentSlot Slot(string agentId)
    {
        if (string.IsNullOrEmpty(agentId))
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, "An agent state needs an id (AgentState.Id is empty).");
        }

        return _agents.GetOrAdd(agentId, id =>
        {
            string tag = _keys.DeriveObjectName("", "redis-agent-state-agent", Encoding.UTF8.GetBytes(id));
            return new AgentSlot(id, tag, $"{_options.KeyPrefix}{{{_repositoryTag}:{tag}}}");
        });
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (Volatile.Read(ref _disposed) != 0 || _outbox.Tags().Count == 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await FlushPendingAsync().ConfigureAwait(false);
            }
            catch (GhostieSyncException ex)
            {
                Log.FlushFailed(_logger, Endpoint, ex);
            }
        });
    }

    /// <summary>Closes the connection (when the store opened it) and disposes what it was given to own.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _connection.ConnectionRestored -= OnConnectionRestored;
        if (_ownsConnection)
        {
            await _connection.CloseAsync().ConfigureAwait(false);
            _connection.Dispose();
        }

        _owned?.Dispose();
    }

    private static string DescribeEndpoints(string configuration)
    {
        try
        {
            ConfigurationOptions parsed = ConfigurationOptions.Parse(configuration);
            return parsed.EndPoints.Count == 0 ? "(no endpoint)" : string.Join(",", parsed.EndPoints.Select(e => e switch
            {
                System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
                _ => e.ToString(),
            }));
        }
        catch (ArgumentException)
        {
            return "(unparsable endpoint)";
        }
    }

    private static string FirstWord(string message)
    {
        int quote = message.IndexOf('\'', StringComparison.Ordinal);
        return quote < 0 ? "unknown option" : "an option or value is not recognized";
    }

    /// <summary>What went wrong, when <paramref name="e"/> is a Redis failure this store turns into <see cref="AgentStateStoreException"/>.</summary>
    internal static AgentStateFailure? Classify(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            string message = x.Message;
            if (x is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure }
                || message.Contains("NOAUTH", StringComparison.Ordinal) || message.Contains("WRONGPASS", StringComparison.Ordinal)
                || message.Contains("AuthenticationFailure", StringComparison.Ordinal))
            {
                return AgentStateFailure.AuthenticationFailed;
            }

            if (x is RedisServerException && message.StartsWith("OOM", StringComparison.Ordinal) || message.Contains("OOM command not allowed", StringComparison.Ordinal))
            {
                return AgentStateFailure.ServerFull;
            }
        }

        return e is RedisConnectionException or RedisTimeoutException or TimeoutException or System.Net.Sockets.SocketException
            || (e is RedisException && e is not RedisServerException)
            ? AgentStateFailure.Unavailable
            : null;
    }

    private sealed class AgentSlot(string agentId, string tag, string keyBase)
    {
        public string AgentId { get; } = agentId;

        public string Tag { get; } = tag;

        public string HeadKey { get; } = keyBase + ":h";

        public string KeyBase { get; } = keyBase;

        public string HeadName => $"as/{Tag}/h";

        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>The chain as this process last wrote or read it; null: read it from Redis before the next write.</summary>
        public Chain? Cached { get; set; }

        public string ObjectKey(string id) => KeyBase + ":o:" + id;

        public string ObjectName(string id) => $"as/{Tag}/o/{id}";
    }

    /// <summary>An agent's chain as read: the head, and the state at the latest checkpoint that could be applied.</summary>
    private sealed record Chain
    {
        public required byte[] HeadRaw { get; init; }

        public ChainHead? Head { get; init; }

        public JsonNode? State { get; init; }

        public long Sequence { get; init; }

        public string StateSha256 { get; init; } = "";

        public CheckpointKind Kind { get; init; }

        public DateTimeOffset CreatedAt { get; init; }

        public long StoredBytes { get; init; }

        public List<string> Problems { get; init; } = [];

        /// <summary>Every object the head names was applied: new deltas may build on it.</summary>
        public bool Whole => Head is not null && State is not null && Problems.Count == 0 && Sequence == Head.Sequence && StateSha256 == Head.StateSha256;

        public AgentCheckpoint? ToCheckpoint(string agentId) => State is null ? null : new AgentCheckpoint
        {
            AgentId = agentId, Sequence = Sequence, Kind = Kind, StateSha256 = StateSha256, CreatedAt = CreatedAt, StoredBytes = StoredBytes,
        };
    }
}
