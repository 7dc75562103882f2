namespace Ghostie.Sync;

/// <summary>
/// The registered <see cref="IStorageBackendFactory"/> instances, found by <see cref="IStorageBackendFactory.Name"/>: what a
/// host uses to reopen a home from its <c>sync/config.json</c>. Every <c>Add...Backend</c> extension registers its
/// factory; a host that only reopens saved homes (as the <c>ghostie</c> CLI does) can also build one from a list.
/// </summary>
public sealed class StorageBackendFactories
{
    private readonly IStorageBackendFactory[] _factories;

    /// <summary>Created by dependency injection from every registered factory, or by a host from its own list.</summary>
    /// <param name="factories">The factories; a name given twice keeps the first.</param>
    public StorageBackendFactories(IEnumerable<IStorageBackendFactory> factories)
    {
        ArgumentNullException.ThrowIfNull(factories);
        _factories = [.. factories.DistinctBy(f => f.Name, StringComparer.Ordinal)];
    }

    /// <summary>The names of the registered backends, in registration order.</summary>
    public IReadOnlyList<string> Names => [.. _factories.Select(f => f.Name)];

    /// <summary>The factory named <paramref name="name"/>, or null.</summary>
    /// <param name="name">A backend name, for example "s3".</param>
    public IStorageBackendFactory? Find(string name) => _factories.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));

    /// <summary>The factory named <paramref name="name"/>.</summary>
    /// <param name="name">A backend name, for example "s3".</param>
    /// <exception cref="GhostieSyncException"><see cref="GhostieErrorCode.NotConfigured"/>: no factory of that name is
    /// registered; the message lists those that are and which package registers the missing one.</exception>
    public IStorageBackendFactory Get(string name) => Find(name)
        ?? throw new GhostieSyncException(GhostieErrorCode.NotConfigured,
            $"No storage backend named '{name}' is registered (registered: {(_factories.Length == 0 ? "none" : string.Join(", ", Names))}). "
            + "Reference its package and call its extension on AddGhostieSync(), for example AddS3Backend(...) from Ghostie.Sync.Backends.S3.");
}

/// <summary>
/// What a backend extension registered for one repository: the factory of its kind and the settings that describe it, so
/// that setup saves what the registered backend uses and a health check can name it. Resolved by repository name: the
/// default repository's is an ordinary service, a named one's a keyed service under its name.
/// </summary>
public sealed class StorageBackendRegistration
{
    private readonly Func<IServiceProvider, Dictionary<string, string>> _settings;

    /// <summary>Created by <see cref="GhostieSyncBuilderExtensions.AddStorageBackend{TBackend, TOptions}"/>.</summary>
    /// <param name="name">The repository name ("" for the default repository).</param>
    /// <param name="factory">The factory of the backend's kind.</param>
    /// <param name="settings">Computes the settings from the registered options.</param>
    public StorageBackendRegistration(string name, IStorageBackendFactory factory, Func<IServiceProvider, Dictionary<string, string>> settings)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(settings);
        Name = name;
        Factory = factory;
        _settings = settings;
    }

    /// <summary>The repository name ("" for the default repository).</summary>
    public string Name { get; }

    /// <summary>The factory of the registered backend's kind (its <see cref="IStorageBackendFactory.Name"/> is what setup saves).</summary>
    public IStorageBackendFactory Factory { get; }

    /// <summary>The settings that describe the registered backend, as setup saves them.</summary>
    /// <param name="services">The service provider (the options are read from it).</param>
    public Dictionary<string, string> GetSettings(IServiceProvider services) => _settings(services);
}
