using Ghostie.Sync.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync.AgentState.Redis;

/// <summary>Registers Redis agent-state checkpoints on the Ghostie builder.</summary>
public static class RedisAgentStateExtensions
{
    /// <summary>Adds Redis agent-state checkpoints with default options (Redis at <c>localhost:6379</c>). Safe to call more than once.</summary>
    /// <param name="builder">The Ghostie builder (from <c>AddGhostieSync</c>).</param>
    public static IGhostieSyncBuilder AddRedisAgentState(this IGhostieSyncBuilder builder) => builder.AddRedisAgentState(_ => { });

    /// <summary>
    /// Adds Redis agent-state checkpoints: <see cref="RedisAgentStateOptions"/> (validated at start; the local outbox
    /// defaults to <c>&lt;Ghostie home&gt;/agent-state/pending</c>) and <see cref="GhostieRedisAgentStateClient"/>, which opens a
    /// <see cref="RedisAgentStateStore"/> over the home's repository keys. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Ghostie builder.</param>
    /// <param name="configure">Sets the Redis configuration string, TTL, interval, chain bounds.</param>
    public static IGhostieSyncBuilder AddRedisAgentState(this IGhostieSyncBuilder builder, Action<RedisAgentStateOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        OptionsBuilder<RedisAgentStateOptions> options = builder.Services.AddOptions<RedisAgentStateOptions>();
        if (!builder.Services.Any(d => d.ServiceType == typeof(GhostieRedisAgentStateClient)))
        {
            // The home's defaults once, before the first caller's settings (a second call must not undo the first's).
            options.Configure<IOptions<GhostieSyncOptions>>((o, sync) =>
            {
                o.LocalPath = Path.Combine(new GhostieHome(sync.Value.Home).Root, "agent-state", "pending");
                o.TimeProvider = sync.Value.TimeProvider;
            });
        }

        options.Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisAgentStateOptions>, OptionsValidator>());
        builder.Services.TryAddSingleton<GhostieRedisAgentStateClient>();
        return builder;
    }

    private sealed class OptionsValidator : IValidateOptions<RedisAgentStateOptions>
    {
        public ValidateOptionsResult Validate(string? name, RedisAgentStateOptions options)
        {
            IReadOnlyList<string> errors = options.GetValidationErrors();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}

/// <summary>Opens the <see cref="RedisAgentStateStore"/> of the configured home (through <see cref="GhostieSyncClient"/>).</summary>
public sealed class GhostieRedisAgentStateClient
{
    private readonly GhostieSyncClient _sync;
    private readonly IOptions<RedisAgentStateOptions> _options;
    private readonly ILoggerFactory _loggers;

    /// <summary>Created by dependency injection.</summary>
    /// <param name="sync">Opens the home's sync manager (for the repository keys).</param>
    /// <param name="options">The options.</param>
    /// <param name="loggers">Optional logger factory.</param>
    public GhostieRedisAgentStateClient(GhostieSyncClient sync, IOptions<RedisAgentStateOptions> options, ILoggerFactory? loggers = null)
    {
        _sync = sync;
        _options = options;
        _loggers = loggers ?? NullLoggerFactory.Instance;
    }

    /// <summary>The options in use.</summary>
    public RedisAgentStateOptions Options => _options.Value;

    /// <summary>Opens the home's sync manager and a store over its keys (disposing the store disposes the manager).</summary>
    /// <param name="passphrase">Used only when no key is cached on this device.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task<RedisAgentStateStore> OpenAsync(string? passphrase = null, CancellationToken cancellationToken = default)
    {
        MemorySyncManager manager = await _sync.OpenAsync(passphrase, cancellationToken).ConfigureAwait(false);
        try
        {
            return await OpenAsync(manager.Keys, manager).ConfigureAwait(false);
        }
        catch
        {
            manager.Dispose();
            throw;
        }
    }

    /// <summary>A store over keys the caller already holds (not owned).</summary>
    /// <param name="keys">The unlocked repository keys.</param>
    public Task<RedisAgentStateStore> OpenAsync(RepositoryKeys keys) => OpenAsync(keys, owned: null);

    /// <summary>A checkpointer over <paramref name="store"/> with these options (call <see cref="AgentStateCheckpointer.Start"/>).</summary>
    /// <param name="store">The store.</param>
    public AgentStateCheckpointer CreateCheckpointer(RedisAgentStateStore store) =>
        new(store, _options.Value, _loggers.CreateLogger<AgentStateCheckpointer>());

    private Task<RedisAgentStateStore> OpenAsync(RepositoryKeys keys, IDisposable? owned) =>
        RedisAgentStateStore.ConnectAsync(keys, _options.Value, _loggers.CreateLogger<RedisAgentStateStore>(), owned);
}
