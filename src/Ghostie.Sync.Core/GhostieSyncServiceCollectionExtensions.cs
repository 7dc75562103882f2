using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ghostie.Sync;

/// <summary>The builder returned by <see cref="GhostieSyncServiceCollectionExtensions.AddGhostieSync(IServiceCollection)"/>; backends and later features hang off it.</summary>
public interface IGhostieSyncBuilder
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }
}

/// <summary>Dependency-injection registration of Ghostie.Sync.</summary>
public static class GhostieSyncServiceCollectionExtensions
{
    /// <summary>Registers Ghostie.Sync with default options. Safe to call more than once.</summary>
    /// <param name="services">The service collection.</param>
    public static IGhostieSyncBuilder AddGhostieSync(this IServiceCollection services) => services.AddGhostieSync(_ => { });

    /// <summary>Registers Ghostie.Sync: options (validated at start) and <see cref="GhostieSyncClient"/>. Safe to call more than once.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures <see cref="GhostieSyncOptions"/>.</param>
    public static IGhostieSyncBuilder AddGhostieSync(this IServiceCollection services, Action<GhostieSyncOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<GhostieSyncOptions>, Internal.HostTimeProvider>()); // the container's clock
        services.AddOptions<GhostieSyncOptions>()
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Home), "GhostieSyncOptions.Home must name a folder.")
            .Validate(o => o.PackTargetBytes >= 64 * 1024, "GhostieSyncOptions.PackTargetBytes must be at least 65,536.")
            .Validate(o => o.CompactAfterPacks >= 2, "GhostieSyncOptions.CompactAfterPacks must be at least 2.")
            .Validate(o => o.TimeProvider is not null, "GhostieSyncOptions.TimeProvider must be set.")
            .ValidateOnStart();
        services.TryAddSingleton<GhostieSyncClient>();
        return new GhostieSyncBuilder(services);
    }

    private sealed class GhostieSyncBuilder(IServiceCollection services) : IGhostieSyncBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>Opens the <see cref="MemorySyncManager"/> of the configured home over the registered backend.</summary>
public sealed class GhostieSyncClient
{
    private readonly IOptions<GhostieSyncOptions> _options;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;

    /// <summary>Created by dependency injection.</summary>
    /// <param name="options">The options.</param>
    /// <param name="services">Resolves the registered <see cref="IStorageBackend"/>.</param>
    /// <param name="loggers">Optional logger factory.</param>
    public GhostieSyncClient(IOptions<GhostieSyncOptions> options, IServiceProvider services, ILoggerFactory? loggers = null)
    {
        _options = options;
        _services = services;
        _loggers = loggers ?? NullLoggerFactory.Instance;
    }

    /// <summary>The registered backend.</summary>
    /// <exception cref="GhostieSyncException">No backend was registered (<see cref="GhostieErrorCode.NotConfigured"/>).</exception>
    public IStorageBackend Backend => _services.GetService<IStorageBackend>()
        ?? throw new GhostieSyncException(GhostieErrorCode.NotConfigured, "No storage backend is registered: call a backend extension such as AddFileSystemBackend(...) on AddGhostieSync().");

    /// <summary>Opens the home's manager (see <see cref="MemorySyncManager.OpenAsync"/>).</summary>
    /// <param name="passphrase">Used only when no key is cached on this device.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public Task<MemorySyncManager> OpenAsync(string? passphrase = null, CancellationToken cancellationToken = default) =>
        MemorySyncManager.OpenAsync(Backend, _options.Value, passphrase, KeyOptions(), _loggers.CreateLogger<MemorySyncManager>(), cancellationToken);

    /// <summary>Sets up the home (see <see cref="MemorySyncManager.SetupAsync"/>).</summary>
    /// <param name="configuration">Backend type and settings, device id and name.</param>
    /// <param name="passphrase">The repository passphrase.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public Task<MemorySyncManager> SetupAsync(SyncConfiguration configuration, string passphrase, CancellationToken cancellationToken = default) =>
        MemorySyncManager.SetupAsync(Backend, configuration, passphrase, _options.Value, KeyOptions(), _loggers.CreateLogger<MemorySyncManager>(), cancellationToken: cancellationToken);

    /// <summary>The crypto layer logs to the host's logger factory and reads the same clock as sync.</summary>
    private Crypto.RepositoryKeyOptions KeyOptions() => new() { TimeProvider = _options.Value.TimeProvider, Logger = _loggers.CreateLogger<Crypto.RepositoryKeys>() };
}
