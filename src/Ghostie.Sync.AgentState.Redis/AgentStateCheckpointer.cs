using System.Collections.Concurrent;
using Ghostie.Sync.AgentState.Redis.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ghostie.Sync.AgentState.Redis;

/// <summary>What one run of the <see cref="AgentStateCheckpointer"/> did.</summary>
/// <param name="Written">Agents whose state changed and was checkpointed.</param>
/// <param name="Unchanged">Agents whose state equals their latest checkpoint (nothing written).</param>
/// <param name="KeptLocally">Agents whose checkpoint Redis could not take: kept on this device for a later run.</param>
/// <param name="Flushed">States kept earlier that this run wrote to Redis.</param>
/// <param name="Failed">Agents whose state could not be captured or kept (see the log).</param>
public sealed record CheckpointRun(int Written, int Unchanged, int KeptLocally, int Flushed, int Failed);

/// <summary>
/// Checkpoints the agents it tracks on a schedule (<see cref="RedisAgentStateOptions.CheckpointInterval"/>, default every
/// 5 minutes, on the options' <see cref="TimeProvider"/>): each run first writes the states kept locally while Redis
/// was away, then captures every tracked agent and checkpoints those that changed. Runs never overlap: a tick that comes
/// while a run is still going is skipped. Failures are logged, never thrown from the timer.
/// </summary>
public sealed class AgentStateCheckpointer : IAsyncDisposable
{
    private readonly RedisAgentStateStore _store;
    private readonly RedisAgentStateOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Func<CancellationToken, ValueTask<Handoff.AgentState>>> _agents = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private ITimer? _timer;
    private Task<CheckpointRun>? _running;

    /// <summary>Creates a checkpointer over <paramref name="store"/>; call <see cref="Start"/> to begin the schedule.</summary>
    /// <param name="store">Where checkpoints go. Not owned.</param>
    /// <param name="options">The interval and the clock.</param>
    /// <param name="logger">Optional logger.</param>
    public AgentStateCheckpointer(RedisAgentStateStore store, RedisAgentStateOptions options, ILogger<AgentStateCheckpointer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The result of the last finished run; null before the first.</summary>
    public CheckpointRun? LastRun { get; private set; }

    /// <summary>The run in progress or the last one (tests await it after advancing a fake clock).</summary>
    internal Task<CheckpointRun>? CurrentRun
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>Tracks an agent: each run calls <paramref name="capture"/> for its current state. Replaces an earlier capture for the same id.</summary>
    /// <param name="agentId">The agent's id (the <see cref="Handoff.AgentState.Id"/> the capture returns).</param>
    /// <param name="capture">Returns the agent's whole current state.</param>
    public void Track(string agentId, Func<CancellationToken, ValueTask<Handoff.AgentState>> capture)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        ArgumentNullException.ThrowIfNull(capture);
        _agents[agentId] = capture;
    }

    /// <summary>Stops tracking an agent (its checkpoints stay in Redis until their TTL).</summary>
    /// <param name="agentId">The agent.</param>
    /// <returns>Whether it was tracked.</returns>
    public bool Untrack(string agentId) => _agents.TryRemove(agentId, out _);

    /// <summary>Starts the schedule: the first run one interval from now, then every interval. Calling it again does nothing.</summary>
    public void Start()
    {
        lock (_gate)
        {
            _timer ??= _options.TimeProvider.CreateTimer(_ => Tick(), null, _options.CheckpointInterval, _options.CheckpointInterval);
        }
    }

    /// <summary>Runs once now (also what each tick does): writes kept states, then checkpoints every tracked agent that changed.</summary>
    /// <param name="cancellationToken">Cancels the run.</param>
    public async Task<CheckpointRun> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        int flushed = 0, written = 0, unchanged = 0, kept = 0, failed = 0;
        try
        {
            flushed = await _store.FlushPendingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (AgentStateStoreException)
        {
            // Redis is still away: the kept states wait for the next run; the agents below are kept too.
        }

        foreach ((string agentId, Func<CancellationToken, ValueTask<Handoff.AgentState>> capture) in _agents)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                Handoff.AgentState state = await capture(cancellationToken).ConfigureAwait(false);
                if (!string.Equals(state.Id, agentId, StringComparison.Ordinal))
                {
                    throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, $"The capture tracked for agent '{agentId}' returned the state of agent '{state.Id}'.");
                }

                AgentCheckpoint checkpoint = await _store.CheckpointAsync(state, cancellationToken).ConfigureAwait(false);
                if (checkpoint.Unchanged)
                {
                    unchanged++;
                }
                else
                {
                    written++;
                }
            }
            catch (AgentStateStoreException e) when (e.KeptLocally)
            {
                kept++;
                Log.ScheduledCheckpointFailed(_logger, agentId, e);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed++;
                Log.ScheduledCheckpointFailed(_logger, agentId, e);
            }
        }

        var run = new CheckpointRun(written, unchanged, kept, flushed, failed);
        LastRun = run;
        return run;
    }

    private void Tick()
    {
        lock (_gate)
        {
            if (_running is { IsCompleted: false } || _stopping.IsCancellationRequested)
            {
                return;
            }

            _running = RunQuietlyAsync();
        }
    }

    private async Task<CheckpointRun> RunQuietlyAsync()
    {
        try
        {
            return await RunOnceAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new CheckpointRun(0, 0, 0, 0, 0);
        }
    }

    /// <summary>Stops the schedule and waits for a run in progress.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? running;
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
            running = _running;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (running is not null)
        {
            await running.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }
}
