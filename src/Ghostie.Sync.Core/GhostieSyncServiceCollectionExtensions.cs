using Microsoft.Extensions.Configuration;
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
        ArgumentNullException.ThrowIfNull(configure);
        return Register(services, Options.DefaultName, o => o.Configure(configure));
    }

    /// <summary>Registers Ghostie.Sync with <see cref="GhostieSyncOptions"/> bound from a configuration section (for
    /// example <c>configuration.GetSection("Ghostie")</c> holding <c>Home</c>, <c>PackTargetBytes</c>, ...). Safe to call more than once.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to bind.</param>
    public static IGhostieSyncBuilder AddGhostieSync(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, Options.DefaultName, o => o.Bind(configuration));
    }

    /// <summary>
    /// Registers the options of the named repository <paramref name="name"/>: one host, several repositories, each with
    /// its own home and its own backend (registered with the backend extensions' <c>(string name, ...)</c> overloads).
    /// Its client is the keyed service <c>GetRequiredKeyedService&lt;GhostieSyncClient&gt;(name)</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The repository name (not empty).</param>
    /// <param name="configure">Configures its <see cref="GhostieSyncOptions"/>; give it its own <see cref="GhostieSyncOptions.Home"/>.</param>
    public static IGhostieSyncBuilder AddGhostieSync(this IServiceCollection services, string name, Action<GhostieSyncOptions> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(services, name, o => o.Configure(configure));
    }

    private static IGhostieSyncBuilder Register(IServiceCollection services, string name, Action<OptionsBuilder<GhostieSyncOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<GhostieSyncOptions>, Internal.HostTimeProvider>()); // the container's clock
        OptionsBuilder<GhostieSyncOptions> options = services.AddOptions<GhostieSyncOptions>(name);
        configure(options);
        options
            .Validate(o => !string.IsNullOrWhiteSpace(o.Home), "GhostieSyncOptions.Home must name a folder.")
            .Validate(o => o.PackTargetBytes >= 64 * 1024, "GhostieSyncOptions.PackTargetBytes must be at least 65,536.")
            .Validate(o => o.CompactAfterPacks >= 2, "GhostieSyncOptions.CompactAfterPacks must be at least 2.")
            .Validate(o => o.TimeProvider is not null, "GhostieSyncOptions.TimeProvider must be set.")
            .Validate(o => o.EpochRotationInterval == TimeSpan.Zero || o.EpochRotationInterval >= TimeSpan.FromHours(1),
                "GhostieSyncOptions.EpochRotationInterval must be TimeSpan.Zero (off) or at least one hour.")
            .ValidateOnStart();
        services.TryAddSingleton<GhostieSyncClient>();
        services.TryAddSingleton<StorageBackendFactories>();
        return new GhostieSyncBuilder(services);
    }

    private sealed class GhostieSyncBuilder(IServiceCollection services) : IGhostieSyncBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>Opens the <see cref="MemorySyncManager"/> of the configured home over the registered backend. The default
/// repository's client is an ordinary service; a named repository's is the keyed service of its name (see
/// <see cref="GhostieSyncBuilderExtensions"/>).</summary>
public sealed class GhostieSyncClient
{
    private readonly IOptions<GhostieSyncOptions> _options;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;
    private readonly string _name = Options.DefaultName;

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

    /// <summary>The client of the named repository <paramref name="name"/>: its named options and its keyed backend.</summary>
    internal GhostieSyncClient(string name, IServiceProvider services)
        : this(Options.Create(services.GetRequiredService<IOptionsMonitor<GhostieSyncOptions>>().Get(name)), services, services.GetService<ILoggerFactory>())
    {
        _name = name;
    }

    /// <summary>The repository name: "" for the default repository, else the name its backend was registered under.</summary>
    public string Name => _name;

    /// <summary>The registered backend.</summary>
    /// <exception cref="GhostieSyncException">No backend was registered (<see cref="GhostieErrorCode.NotConfigured"/>).</exception>
    public IStorageBackend Backend => (_name.Length == 0 ? _services.GetService<IStorageBackend>() : _services.GetKeyedService<IStorageBackend>(_name))
        ?? throw new GhostieSyncException(GhostieErrorCode.NotConfigured, _name.Length == 0
            ? "No storage backend is registered: call a backend extension such as AddFileSystemBackend(...) on AddGhostieSync()."
            : $"No storage backend is registered for the repository '{_name}': call a backend extension with its name, such as AddFileSystemBackend(\"{_name}\", ...).");

    /// <summary>Opens the home's manager (see <see cref="MemorySyncManager.OpenAsync"/>).</summary>
    /// <param name="passphrase">Used only when no key is cached on this device.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public Task<MemorySyncManager> OpenAsync(string? passphrase = null, CancellationToken cancellationToken = default) =>
        MemorySyncManager.OpenAsync(Backend, _options.Value, passphrase, KeyOptions(), _loggers.CreateLogger<MemorySyncManager>(), cancellationToken);

    /// <summary>
    /// Sets up the home over the registered backend (see <see cref="MemorySyncManager.SetupAsync"/>). What is saved in
    /// <c>sync/config.json</c> describes the registered backend: leave <see cref="SyncConfiguration.Backend"/> and
    /// <see cref="SyncConfiguration.Settings"/> unset and they are taken from it; values given must agree with it.
    /// </summary>
    /// <param name="configuration">Device id and name; backend type and settings only if they agree with the registered backend.</param>
    /// <param name="passphrase">The repository passphrase.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="BackendSettingsMismatchException">The configuration names another backend, or a setting that differs
    /// from (or is absent in) the registered backend's; nothing was created or written.</exception>
    public Task<MemorySyncManager> SetupAsync(SyncConfiguration configuration, string passphrase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IStorageBackend backend = Backend;
        AgreeWithRegisteredBackend(configuration);
        return MemorySyncManager.SetupAsync(backend, configuration, passphrase, _options.Value, KeyOptions(), _loggers.CreateLogger<MemorySyncManager>(), cancellationToken: cancellationToken);
    }

    /// <summary>Fills the configuration's backend and settings from the registered backend, or refuses values that disagree.</summary>
    private void AgreeWithRegisteredBackend(SyncConfiguration configuration)
    {
        StorageBackendRegistration? registration = _name.Length == 0
            ? _services.GetService<StorageBackendRegistration>()
            : _services.GetKeyedService<StorageBackendRegistration>(_name);
        if (registration is null)
        {
            return;  // a backend registered by hand, as an IStorageBackend: nothing to compare with
        }

        string kind = registration.Factory.Name;
        Dictionary<string, string> registered = registration.GetSettings(_services);
        if (configuration.IsBackendSet && !string.Equals(configuration.Backend, kind, StringComparison.Ordinal))
        {
            throw new BackendSettingsMismatchException("backend", configuration.Backend, kind);
        }

        if (configuration.Settings.Count > 0)
        {
            foreach ((string key, string value) in configuration.Settings)
            {
                string? theirs = registered.GetValueOrDefault(key);
                if (!SameSetting(key, value, theirs))
                {
                    throw new BackendSettingsMismatchException(key, value, theirs);
                }
            }

            foreach ((string key, string value) in registered)
            {
                if (!configuration.Settings.ContainsKey(key))
                {
                    throw new BackendSettingsMismatchException(key, null, value);
                }
            }
        }

        configuration.Backend = kind;
        configuration.Settings = new Dictionary<string, string>(registered, StringComparer.Ordinal);
    }

    // A folder given relative or with a trailing separator is the same folder; every other setting compares as text.
    private static bool SameSetting(string key, string value, string? registered) =>
        registered is not null && (string.Equals(value, registered, StringComparison.Ordinal)
            || (key == "path" && string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(value)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(registered)), StringComparison.Ordinal)));

    /// <summary>The crypto layer logs to the host's logger factory and reads the same clock as sync.</summary>
    private Crypto.RepositoryKeyOptions KeyOptions() => new() { TimeProvider = _options.Value.TimeProvider, Logger = _loggers.CreateLogger<Crypto.RepositoryKeys>() };
}
